# NCCL, the collectives of CUDA tensors (distributed/nccl_comm.cpp, docs/distributed.md):
#   real CUDA build  nccl.h + libnccl from the toolkit's folders, NCCL_ROOT, or the copy inside
#                    PyTorch's wheels (python's nvidia.nccl), as cuDNN is found
#   EMU              the emulated NCCL (kernels/cuda/emu/nccl_emu.cpp) over MPI, on the
#                    emulated device memory; one rank without MPI
# DLCRAFT_WITH_NCCL tells which; without it, CUDA tensors are reduced through host memory over
# MPI. Included by cmake/cuda.cmake after the CUDA backend is decided.
set(DLCRAFT_WITH_NCCL OFF)
set(DLCRAFT_NCCL_VERSION "")
if(DLCRAFT_CUDA_EMU)
  set(DLCRAFT_WITH_NCCL ON)
  list(APPEND DLCRAFT_CUDA_SOURCES ${PROJECT_SOURCE_DIR}/kernels/cuda/emu/nccl_emu.cpp)
  message(STATUS "dlcraft: NCCL emulated (kernels/cuda/emu/nccl_emu.cpp, over MPI when found)")
elseif(DLCRAFT_WITH_CUDA)
  execute_process(COMMAND python3 -c "import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__))"
                  OUTPUT_VARIABLE _nccl_py OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${NCCL_ROOT}/include $ENV{NCCL_ROOT}/include
            ${CUDAToolkit_INCLUDE_DIRS} ${_nccl_py}/include)
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${NCCL_ROOT}/lib ${NCCL_ROOT}/lib64 $ENV{NCCL_ROOT}/lib
               $ENV{NCCL_ROOT}/lib64 ${CUDAToolkit_LIBRARY_DIR} ${_nccl_py}/lib)
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(DLCRAFT_WITH_NCCL ON)
    file(STRINGS ${NCCL_INCLUDE_DIR}/nccl.h _v REGEX "define NCCL_(MAJOR|MINOR|PATCH) ")
    string(REGEX REPLACE ".*NCCL_MAJOR ([0-9]+).*NCCL_MINOR ([0-9]+).*NCCL_PATCH ([0-9]+).*"
           "\\1.\\2.\\3" DLCRAFT_NCCL_VERSION "${_v}")
    message(STATUS "dlcraft: NCCL ${DLCRAFT_NCCL_VERSION} for CUDA tensors (${NCCL_LIBRARY})")
  else()
    message(STATUS "dlcraft: NCCL not found: CUDA tensors are reduced through host memory over MPI "
                   "(NCCL_ROOT=<dir> to point at one)")
  endif()
else()
  message(STATUS "dlcraft: no CUDA backend, so no NCCL")
endif()

# Only nccl_comm.cpp sees the definition and the header; the rest asks built_with_nccl().
function(dlcraft_configure_nccl target)
  set(_comm ${PROJECT_SOURCE_DIR}/distributed/nccl_comm.cpp)
  if(NOT DLCRAFT_WITH_NCCL)
    return()
  endif()
  set_property(SOURCE ${_comm} APPEND PROPERTY COMPILE_DEFINITIONS DLCRAFT_WITH_NCCL)
  if(DLCRAFT_CUDA_EMU)
    if(DLCRAFT_WITH_MPI)
      set_property(SOURCE ${PROJECT_SOURCE_DIR}/kernels/cuda/emu/nccl_emu.cpp APPEND PROPERTY
                   COMPILE_DEFINITIONS DLCRAFT_WITH_MPI)
    endif()
    return()
  endif()
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "STATIC_LIBRARY")
    set(_link PUBLIC)
  else()
    set(_link PRIVATE)
  endif()
  target_link_libraries(${target} ${_link} ${NCCL_LIBRARY})
  set_property(SOURCE ${_comm} APPEND PROPERTY INCLUDE_DIRECTORIES ${NCCL_INCLUDE_DIR})
  set_property(SOURCE ${_comm} APPEND PROPERTY COMPILE_DEFINITIONS DLCRAFT_NCCL_VERSION="${DLCRAFT_NCCL_VERSION}")
endfunction()
