// linear on the GPU, ours: three GEMMs (kernels/cuda/gemm.cu) and a column sum. See docs/linear.md.
//   y  = x W^T + b     (bias added in the GEMM's epilogue)
//   dx = dy W,  dW = dy^T x,  db = sum over the batch of dy
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/gemm.cuh"

namespace dlcraft {
namespace {
// One thread per output feature: sums its column of dy (n x out) in row order.
__global__ void column_sum_kernel(int n, int out, const float* dy, float* db) {
  const int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= out) return;
  float acc = 0.0f;
  for (int i = 0; i < n; ++i) acc += dy[int64_t(i) * out + o];
  db[o] = acc;
}

__global__ void add_bias_cols_kernel(int n, int out, const float* b, float* y) {
  const int64_t total = int64_t(n) * out;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x)
    y[e] += b[e % out];
}
}  // namespace

void column_sum_cuda(int n, int out, const float* dy, float* db) {
  if (out == 0) return;
  launch("linear bias gradient", column_sum_kernel, (out + 255) / 256, 256, n, out, dy, db);
}

void add_bias_cols_cuda(int n, int out, const float* b, float* y) {
  launch("linear bias", add_bias_cols_kernel, grid_for(int64_t(n) * out), 256, n, out, b, y);
}

void linear_forward_cuda(const LinearShape& s, const float* x, const float* w, const float* b, float* y,
                         bool relu) {
  GemmEpilogue ep;
  ep.bias_col = b;
  ep.relu = relu;  // linear_relu: the fused epilogue (docs/fused_epilogues.md)
  gemm_cuda_ex(false, true, s.n, s.out, s.in, 1.0f, x, s.in, w, s.in, 0.0f, y, s.out, {}, ep);
}

void linear_backward_cuda(const LinearShape& s, const float* x, const float* w, const float* dy,
                          float* dx, float* dw, float* db) {
  if (dx) gemm_cuda(false, false, s.n, s.in, s.out, 1.0f, dy, s.out, w, s.in, 0.0f, dx, s.in);
  if (dw) gemm_cuda(true, false, s.out, s.in, s.n, 1.0f, dy, s.out, x, s.in, 0.0f, dw, s.in);
  if (db) column_sum_cuda(s.n, s.out, dy, db);
}

}  // namespace dlcraft
