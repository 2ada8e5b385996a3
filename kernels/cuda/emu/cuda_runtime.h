// The emulated CUDA runtime (DLCRAFT_CUDA=EMU): the part of <cuda_runtime.h> dlcraft uses,
// implemented on the CPU. CMake puts this folder first on the include path of the .cu files,
// which are then compiled as C++, so `#include <cuda_runtime.h>` finds this file.
//   memory    cudaMalloc/cudaFree/cudaMemcpyAsync/cudaMemsetAsync on host memory
//   streams   one in-order stream: every launch and copy runs at once, to the end; a second
//             stream is the same one, and an event is complete as soon as it is recorded (so
//             cudaStreamWaitEvent has nothing to wait for: the order is already right)
//   device    one "GPU": the CPU, with an H100's limits (so kernels choose as on the real one)
//   errors    codes and names as in CUDA; a failed launch's string says what went wrong
//   launches  cudaLaunchKernel runs the grid through scheduler.cpp
#pragma once
#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/cuda/emu/kernel_language.hpp"

#define DLCRAFT_CUDA_EMU 1
#define CUDART_VERSION 13000  // the runtime API this emulates

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInsufficientDriver = 35,  // never raised here; named by cuda_check
  cudaErrorNoDevice = 100,
  cudaErrorLaunchFailure = 719,
};
typedef cudaError_t cudaError;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

enum cudaDeviceAttr { cudaDevAttrMaxThreadsPerBlock = 1, cudaDevAttrMultiProcessorCount = 16 };

struct CUstream_st;
typedef CUstream_st* cudaStream_t;
constexpr unsigned cudaStreamNonBlocking = 1;
struct CUevent_st;
typedef CUevent_st* cudaEvent_t;
constexpr unsigned cudaEventDisableTiming = 2;

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int major, minor;
  int multiProcessorCount;
};

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorName(cudaError_t err);
const char* cudaGetErrorString(cudaError_t err);

cudaError_t cudaMalloc(void** p, size_t bytes);
cudaError_t cudaFree(void* p);
cudaError_t cudaMallocHost(void** p, size_t bytes);
cudaError_t cudaFreeHost(void* p);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = nullptr);
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t stream = nullptr);

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags = 0);

namespace dlcraft {
namespace emu {
// Runs the grid (scheduler.cpp) and turns what went wrong into an error code, as CUDA would.
cudaError_t launch_grid(dim3 grid, dim3 block, const std::function<void()>& thread_body);

template <typename... Params, size_t... I>
void call_kernel(void (*kernel)(Params...), void** args, std::index_sequence<I...>) {
  kernel(*static_cast<std::decay_t<Params>*>(args[I])...);  // each thread its own copy, by value
}
}  // namespace emu
}  // namespace dlcraft

// The launch: as in CUDA's C++ API, args[i] points at the i-th argument, of the kernel's type.
template <typename... Params>
cudaError_t cudaLaunchKernel(void (*kernel)(Params...), dim3 grid, dim3 block, void** args,
                             size_t shared_bytes = 0, cudaStream_t stream = nullptr) {
  (void)stream;  // one stream, run in order
  if (shared_bytes != 0) return cudaErrorInvalidValue;  // static __shared__ only
  return dlcraft::emu::launch_grid(grid, block, [kernel, args] {
    dlcraft::emu::call_kernel(kernel, args, std::index_sequence_for<Params...>{});
  });
}
