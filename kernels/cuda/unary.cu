// Unary element-wise ops and their backward on the GPU. CPU reference: kernels/cpu/unary.cpp.
// One thread per element in a grid-stride loop; the op is a template parameter, so each
// kernel is a straight line of math between one coalesced load and one store (memory-bound:
// the math is free next to the 8 bytes moved per element). Formulas:
// kernels/elementwise_ops.hpp. docs/elementwise.md.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/elementwise_ops.hpp"

namespace dlcraft {
namespace {

template <UnaryOp OP>
__global__ void unary_kernel(int64_t n, const float* x, float* y, float p0, float p1) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = unary_apply<OP>(x[i], p0, p1);
}

template <UnaryOp OP>
__global__ void unary_backward_kernel(int64_t n, const float* s, const float* dy, float* dx, float p0, float p1) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = unary_backward_apply<OP>(s[i], dy[i], p0, p1);
}

}  // namespace

void unary_cuda(UnaryOp op, int64_t n, const float* x, float* y, float p0, float p1) {
  if (n == 0) return;
  with_unary_op(op, [&](auto tag) {
    launch("unary_cuda", unary_kernel<decltype(tag)::value>, grid_for(n), 256, n, x, y, p0, p1);
  });
}

void unary_backward_cuda(UnaryOp op, int64_t n, const float* s, const float* dy, float* dx,
                         float p0, float p1) {
  if (n == 0) return;
  with_unary_op(op, [&](auto tag) {
    launch("unary_backward_cuda", unary_backward_kernel<decltype(tag)::value>, grid_for(n), 256, n, s, dy, dx,
           p0, p1);
  });
}

}  // namespace dlcraft
