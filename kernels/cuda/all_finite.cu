// all_finite on the GPU: whether a float array holds no NaN and no ±Inf, as a device flag.
// Version 1 (the only one): grid-stride loop, each thread ORs what it saw, one warp vote, and
// lane 0 of a warp that saw a bad value writes the flag. Every writer stores the same 1, so
// the race is harmless and no atomics are needed. Memory-bound: one read per element.
// CPU reference: kernels/cpu/all_finite.cpp.
#include <cfloat>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {
// x is (n); *any_nonfinite was zeroed before the launch.
__global__ void all_finite_kernel(int64_t n, const float* x, int32_t* any_nonfinite) {
  // One thread: elements i, i + grid, i + 2*grid, ...; one block: 256 of each stride.
  bool bad = false;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    bad |= !(fabsf(x[i]) <= FLT_MAX);  // false for NaN and ±Inf, as on the CPU
  // Every thread of the warp reaches the vote (256-thread blocks: no partial warps).
  if (__any_sync(0xffffffffu, bad) && (threadIdx.x & 31) == 0) *any_nonfinite = 1;
}
}  // namespace

void all_finite_cuda(int64_t n, const float* x, int32_t* any_nonfinite) {
  cuda_check(cudaMemsetAsync(any_nonfinite, 0, sizeof(int32_t), dlcraft_stream()), "all_finite_cuda");
  if (n == 0) return;
  launch("all_finite_cuda", all_finite_kernel, grid_for(n), 256, n, x, any_nonfinite);
}

}  // namespace dlcraft
