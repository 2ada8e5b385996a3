# Decides whether the CUDA backend is built. AUTO builds it when a CUDA compiler is found;
# ON requires one; OFF (or AUTO without nvcc) links kernels/cuda/stubs.cpp and stubs_steps.cpp,
# whose functions throw "built without CUDA". cuDNN (+ cuBLAS) is optional on top: found -> kernels/cuda/vendor.cu,
# else kernels/cuda/vendor_stubs.cpp.
# NCCL (the collectives of CUDA tensors) is optional too: cmake/nccl.cmake, included below.
# EMU compiles the same .cu files as C++ against kernels/cuda/emu/ (the CUDA runtime and kernel
# language on the CPU, Boost.Context fibers for the threads): the "cuda" device then works
# without a GPU. No cuDNN/cuBLAS there. See docs/cuda.md, "Running the kernels without a GPU".
option(DLCRAFT_CUDA_WERROR "Compile CUDA kernels with nvcc --Werror=all-warnings" ON)

# EMU: .cu files compile as C++ (CMake adds -x c++); #pragma unroll and the unsigned threadIdx
# compared with an int are no warnings there, as under nvcc.
function(dlcraft_emu_sources)
  set_source_files_properties(${ARGN} DIRECTORY ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}
                              PROPERTIES LANGUAGE CXX COMPILE_OPTIONS "-Wno-unknown-pragmas;-Wno-sign-compare")
endfunction()
# EMU: a target whose .cu files include <cuda_runtime.h> gets the emulated one.
function(dlcraft_emu_target target)
  target_include_directories(${target} BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/kernels/cuda/emu)
  target_link_libraries(${target} PRIVATE Boost::context)
endfunction()

set(DLCRAFT_WITH_CUDA OFF)
set(DLCRAFT_WITH_CUDNN OFF)
set(DLCRAFT_CUDA_EMU OFF)
if(DLCRAFT_CUDA STREQUAL "EMU")
  set(DLCRAFT_WITH_CUDA ON)
  set(DLCRAFT_CUDA_EMU ON)
  find_package(Boost 1.66 CONFIG REQUIRED COMPONENTS context)  # Debian: libboost-context-dev
elseif(NOT DLCRAFT_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(DLCRAFT_WITH_CUDA ON)
  elseif(DLCRAFT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "DLCRAFT_CUDA=ON but no CUDA compiler was found (is nvcc on PATH?)")
  endif()
endif()

# Every kernels/cuda/*.cu except the vendor backend (added below when cuDNN is found).
file(GLOB DLCRAFT_CUDA_KERNELS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cu)
list(FILTER DLCRAFT_CUDA_KERNELS EXCLUDE REGEX "/vendor\\.cu$")

set(DLCRAFT_CUDA_EMU_SOURCES scheduler.cpp shared_memory.cpp worker_pool.cpp runtime_api.cpp)
list(TRANSFORM DLCRAFT_CUDA_EMU_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/kernels/cuda/emu/)

if(DLCRAFT_CUDA_EMU)
  set(DLCRAFT_CUDA_SOURCES ${DLCRAFT_CUDA_KERNELS} ${DLCRAFT_CUDA_EMU_SOURCES}
      ${PROJECT_SOURCE_DIR}/kernels/cuda/vendor_stubs.cpp)
  dlcraft_emu_sources(${DLCRAFT_CUDA_KERNELS})
elseif(DLCRAFT_WITH_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)  # H100/H200: sm_90 code plus compute_90 PTX
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  set(DLCRAFT_CUDA_SOURCES ${DLCRAFT_CUDA_KERNELS})

  # cuDNN: the toolkit's include dir, CUDNN_ROOT, or the copy inside PyTorch's wheels.
  execute_process(COMMAND python3 -c "import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))"
                  OUTPUT_VARIABLE _cudnn_py OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDNN_ROOT}/include $ENV{CUDNN_ROOT}/include
            ${CUDAToolkit_INCLUDE_DIRS} ${_cudnn_py}/include)
  find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 HINTS ${CUDNN_ROOT}/lib $ENV{CUDNN_ROOT}/lib
               ${CUDAToolkit_LIBRARY_DIR} ${_cudnn_py}/lib)
  if(CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY AND TARGET CUDA::cublas)
    set(DLCRAFT_WITH_CUDNN ON)
    file(STRINGS ${CUDNN_INCLUDE_DIR}/cudnn_version.h _v REGEX "define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ")
    string(REGEX REPLACE ".*CUDNN_MAJOR ([0-9]+).*CUDNN_MINOR ([0-9]+).*CUDNN_PATCHLEVEL ([0-9]+).*"
           "\\1.\\2.\\3" DLCRAFT_CUDNN_VERSION "${_v}")
    list(APPEND DLCRAFT_CUDA_SOURCES ${PROJECT_SOURCE_DIR}/kernels/cuda/vendor.cu)
  else()
    list(APPEND DLCRAFT_CUDA_SOURCES ${PROJECT_SOURCE_DIR}/kernels/cuda/vendor_stubs.cpp)
  endif()
else()
  # stubs_steps.cpp: the teaching kernels' entry points (gemm_steps.cu, reduce_steps.cu).
  set(DLCRAFT_CUDA_SOURCES ${PROJECT_SOURCE_DIR}/kernels/cuda/stubs.cpp
      ${PROJECT_SOURCE_DIR}/kernels/cuda/stubs_steps.cpp)
endif()
include(${CMAKE_CURRENT_LIST_DIR}/nccl.cmake)
if(DLCRAFT_CUDA_EMU)
  message(STATUS "dlcraft: CUDA backend EMU (kernels emulated on the CPU), no cuDNN/cuBLAS")
else()
  message(STATUS "dlcraft: CUDA backend ${DLCRAFT_WITH_CUDA}, cuDNN/cuBLAS backend ${DLCRAFT_WITH_CUDNN} ${DLCRAFT_CUDNN_VERSION}")
endif()

function(dlcraft_configure_cuda_target target)
  dlcraft_configure_nccl(${target})
  if(DLCRAFT_CUDA_EMU)
    dlcraft_emu_target(${target})
    target_compile_definitions(${target} PRIVATE DLCRAFT_CUDA_ARCHS="EMU")
    return()
  endif()
  if(NOT DLCRAFT_WITH_CUDA)
    return()
  endif()
  # A shared libdlcraft keeps the CUDA libraries to itself; a static one passes them on.
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "STATIC_LIBRARY")
    set(_link PUBLIC)
  else()
    set(_link PRIVATE)
  endif()
  target_link_libraries(${target} ${_link} CUDA::cudart)
  set(_archs ${CMAKE_CUDA_ARCHITECTURES})
  list(TRANSFORM _archs PREPEND "sm_")
  string(REPLACE ";" "," _archs "${_archs}")
  target_compile_definitions(${target} PRIVATE DLCRAFT_CUDA_ARCHS="${_archs}")
  # CI compiles every kernel with warnings as errors; DLCRAFT_CUDA_WERROR=OFF lets a machine
  # whose host compiler warns differently (the GPU image's gcc) still build.
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo -Xcompiler=-Wall>
    $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${DLCRAFT_CUDA_WERROR}>>:--Werror=all-warnings>)
  set_target_properties(${target} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
  if(DLCRAFT_WITH_CUDNN)
    target_include_directories(${target} SYSTEM PRIVATE ${CUDNN_INCLUDE_DIR})
    target_link_libraries(${target} ${_link} ${CUDNN_LIBRARY} CUDA::cublas)
    target_compile_definitions(${target} PRIVATE DLCRAFT_CUDNN_VERSION="${DLCRAFT_CUDNN_VERSION}")
  endif()
endfunction()
