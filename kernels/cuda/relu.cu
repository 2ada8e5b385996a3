// ReLU on the GPU: one thread per element (grid-stride). See docs/relu.md.
// Memory-bound: one read and one write per element (two reads for backward).
// Same formulas as kernels/cpu/relu.cpp, NaN kept (fmaxf(NaN, 0) would give 0: not used).
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {
__global__ void relu_forward_kernel(int64_t n, const float* x, float* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = x[i] < 0.0f ? 0.0f : x[i];  // NaN and -0 pass through, as in PyTorch
}

__global__ void relu_backward_kernel(int64_t n, const float* x, const float* dy, float* dx) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = x[i] <= 0.0f ? 0.0f : dy[i];  // a NaN input lets dy through, as in PyTorch
}
}  // namespace

void relu_forward_cuda(int64_t n, const float* x, float* y) {
  if (n == 0) return;
  launch("relu_forward_cuda", relu_forward_kernel, grid_for(n), 256, n, x, y);
}

void relu_backward_cuda(int64_t n, const float* x, const float* dy, float* dx) {
  if (n == 0) return;
  launch("relu_backward_cuda", relu_backward_kernel, grid_for(n), 256, n, x, dy, dx);
}

}  // namespace dlcraft
