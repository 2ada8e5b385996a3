# Decides whether the CUDA backend is built. AUTO builds it when a CUDA compiler is found;
# ON requires one; OFF (or AUTO without nvcc) links kernels/cuda/stubs.cpp, whose functions
# throw "built without CUDA".
set(DLCRAFT_WITH_CUDA OFF)
if(NOT DLCRAFT_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(DLCRAFT_WITH_CUDA ON)
  elseif(DLCRAFT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "DLCRAFT_CUDA=ON but no CUDA compiler was found (is nvcc on PATH?)")
  endif()
endif()

file(GLOB DLCRAFT_CUDA_KERNEL_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cu)
if(DLCRAFT_WITH_CUDA AND NOT DLCRAFT_CUDA_KERNEL_FILES)
  # The CUDA kernels are not written yet: keep the CPU build and say so.
  message(STATUS "dlcraft: no CUDA kernels in kernels/cuda yet; building the CPU-only library")
  set(DLCRAFT_WITH_CUDA OFF)
endif()

if(DLCRAFT_WITH_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)  # H100; PTX for 90 is embedded too (see below)
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  set(DLCRAFT_CUDA_SOURCES ${DLCRAFT_CUDA_KERNEL_FILES})
  set(DLCRAFT_CUDA_VERSION "${CUDAToolkit_VERSION}")
else()
  set(DLCRAFT_CUDA_SOURCES ${PROJECT_SOURCE_DIR}/kernels/cuda/stubs.cpp)
  set(DLCRAFT_CUDA_VERSION "")
endif()
message(STATUS "dlcraft: CUDA backend ${DLCRAFT_WITH_CUDA}")

function(dlcraft_configure_cuda_target target)
  if(DLCRAFT_WITH_CUDA)
    target_link_libraries(${target} PUBLIC CUDA::cudart PRIVATE CUDA::cublas)
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CUDA>:--Werror=all-warnings -lineinfo>)
  endif()
endfunction()
