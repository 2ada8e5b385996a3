// expand / broadcast_to on the GPU: one thread per output element, y[i] = x[ix.offset(i)] *
// scale (1, or 1/count for mean's backward).
// Neighbouring threads write neighbouring outputs (coalesced); the reads repeat along the
// broadcast dimensions and are served from cache. CPU reference: kernels/cpu/expand.cpp.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {
__global__ void expand_kernel(StridedIndex ix, int64_t n, float scale, const float* x, float* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = x[ix.offset(i)] * scale;
}
}  // namespace

void expand_cuda(const StridedIndex& ix, const float* x, float* y, float scale) {
  const int64_t n = ix.count();
  if (n == 0) return;
  launch("expand_cuda", expand_kernel, grid_for(n), 256, ix, n, scale, x, y);
}

}  // namespace dlcraft
