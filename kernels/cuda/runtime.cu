// The CUDA runtime side of the tensor core: device queries, raw allocation (the caching in
// core/allocator.cpp sits on top), copies, fill/poison and element-wise add, pinned memory.
#include <cuda_runtime.h>

#include <cstdlib>
#include <string>

#include "core/allocator.hpp"
#include "core/device.hpp"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

bool cuda_available() { return cuda_device_count() > 0; }

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

cudaStream_t dlcraft_stream() {
  // One non-blocking stream for the process, on GPU 0 (the only GPU dlcraft uses today).
  static cudaStream_t stream = [] {
    cudaStream_t s;
    cuda_check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "creating the CUDA stream");
    return s;
  }();
  return stream;
}

void cuda_synchronize() { cuda_check(cudaStreamSynchronize(dlcraft_stream()), "cuda_synchronize"); }

void cuda_memory_info(size_t* free_bytes, size_t* total_bytes) {
  cuda_check(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
}

void* cuda_raw_alloc(size_t bytes) {
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, bytes == 0 ? 256 : bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    throw OutOfMemoryError("CUDA out of memory: asked for " + std::to_string(bytes) + " bytes, " +
                           std::to_string(free_b) + " bytes free of " + std::to_string(total_b) +
                           " (try a smaller --batch-size)");
  }
  cuda_check(err, "cudaMalloc");
  return p;
}

void cuda_raw_free(void* p) { cudaFree(p); }  // no throw: called from destructors

// Pinned only when a GPU is there: a CUDA build on a machine without one uses malloc.
void* host_alloc_pinned(size_t bytes) {
  static const bool gpu = cuda_available();
  if (!gpu) return std::malloc(bytes == 0 ? 1 : bytes);
  void* p = nullptr;
  cuda_check(cudaMallocHost(&p, bytes == 0 ? 1 : bytes), "cudaMallocHost");
  return p;
}

void host_free_pinned(void* p) {
  static const bool gpu = cuda_available();
  if (gpu)
    cudaFreeHost(p);
  else
    std::free(p);
}

void copy_cuda(void* dst, bool dst_is_cuda, const void* src, bool src_is_cuda, size_t bytes) {
  cudaMemcpyKind kind = dst_is_cuda ? (src_is_cuda ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                    : cudaMemcpyDeviceToHost;
  cuda_check(cudaMemcpyAsync(dst, src, bytes, kind, dlcraft_stream()), "copy to/from the GPU");
  // The host reads what it copied back at once, so that direction waits for the copy.
  if (!dst_is_cuda) cuda_synchronize();
}

namespace {
// One thread per element, grid-stride.
__global__ void fill_kernel(int64_t n, float value, float* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = value;
}

__global__ void add_kernel(int64_t n, const float* a, const float* b, float* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = a[i] + b[i];
}
}  // namespace

void fill_cuda(int64_t n, float value, float* y) {
  if (n == 0) return;
  launch("fill_cuda", fill_kernel, grid_for(n), 256, n, value, y);
}

void poison_cuda(void* p, size_t bytes) {
  cuda_check(cudaMemsetAsync(p, 0xFF, bytes, dlcraft_stream()), "poison_cuda");
}

void add_cuda(int64_t n, const float* a, const float* b, float* y) {
  if (n == 0) return;
  launch("add_cuda", add_kernel, grid_for(n), 256, n, a, b, y);
}

std::string cuda_build_info() {
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  std::string s = "CUDA " + std::to_string(CUDART_VERSION / 1000) + "." + std::to_string(CUDART_VERSION % 1000 / 10);
#ifdef DLCRAFT_CUDNN_VERSION
  s += ", cuDNN " DLCRAFT_CUDNN_VERSION;
#else
  s += ", no cuDNN";
#endif
  s += ", GPU architectures " DLCRAFT_CUDA_ARCHS;
  int n = cuda_device_count();
  if (n > 0) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
      s += "; GPU 0: " + std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ")";
  } else {
    s += "; no GPU visible";
  }
  return s;
}

}  // namespace dlcraft
