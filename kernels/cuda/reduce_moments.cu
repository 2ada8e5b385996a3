// Variance / standard deviation on the GPU (torch.var / torch.std). CPU reference:
// kernels/cpu/reduce_moments.cpp. Two passes over each output's inputs, the mean first and
// then the squared deviations, in the two layouts of reduce.cu: one block per output when the
// last dimension is reduced (block_all_sum hands the mean to every thread), else one thread
// per output. The backward is element-wise: dx = (x - mean) * coefficient of its output.
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/cuda/reduce.cuh"

namespace dlcraft {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float finish(float m2, float divisor, bool take_sqrt) {
  const float v = m2 / divisor;  // divisor 0: inf, or NaN when m2 is 0 too (as torch)
  return take_sqrt ? sqrtf(v) : v;
}

__global__ void var_rows_kernel(ReduceShape s, int64_t outputs, int64_t count, float divisor, bool take_sqrt,
                                const float* x, float* mean, float* out) {
  for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {
    const float* base = x + s.outer.offset(o);
    float acc = 0.0f;
    for (int64_t r = threadIdx.x; r < count; r += blockDim.x) acc += base[s.inner.offset(r)];
    const float m = block_all_sum(acc) / float(count);
    float m2 = 0.0f;
    for (int64_t r = threadIdx.x; r < count; r += blockDim.x) {
      const float d = base[s.inner.offset(r)] - m;
      m2 += d * d;
    }
    m2 = block_reduce_sum(m2);
    if (threadIdx.x == 0) {
      mean[o] = m;
      out[o] = finish(m2, divisor, take_sqrt);
    }
  }
}

__global__ void var_columns_kernel(ReduceShape s, int64_t outputs, int64_t count, float divisor, bool take_sqrt,
                                   const float* x, float* mean, float* out) {
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < outputs; o += int64_t(gridDim.x) * blockDim.x) {
    const float* base = x + s.outer.offset(o);
    float acc = 0.0f;
    for (int64_t r = 0; r < count; ++r) acc += base[s.inner.offset(r)];
    const float m = acc / float(count);
    float m2 = 0.0f;
    for (int64_t r = 0; r < count; ++r) {
      const float d = base[s.inner.offset(r)] - m;
      m2 += d * d;
    }
    mean[o] = m;
    out[o] = finish(m2, divisor, take_sqrt);
  }
}

// var: dx = (x - mean) * 2 dy / divisor; std: (x - mean) * dy / (divisor * std), 0 where std is 0.
__global__ void var_backward_kernel(StridedIndex ix, int64_t n, float divisor, const float* x, const float* mean,
                                    const float* dy, const float* std_or_null, float* dx) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = ix.offset(e);
    float coef;
    if (std_or_null)
      coef = std_or_null[o] == 0.0f ? 0.0f : dy[o] / (divisor * std_or_null[o]);
    else
      coef = 2.0f * dy[o] / divisor;
    dx[e] = (x[e] - mean[o]) * coef;
  }
}

}  // namespace

void reduce_var_cuda(const ReduceShape& s, int64_t correction, bool take_sqrt, const float* x, float* mean,
                     float* out) {
  const int64_t outputs = s.outer.count(), count = s.inner.count();
  if (outputs == 0) return;
  const float divisor = float(count - correction > 0 ? count - correction : 0);
  const bool rows = s.inner.rank > 0 && s.inner.strides[s.inner.rank - 1] == 1;
  if (rows)
    launch("reduce_var_cuda", var_rows_kernel, grid_for(outputs, 1), reduce_block_threads(count), s, outputs,
           count, divisor, take_sqrt, x, mean, out);
  else
    launch("reduce_var_cuda", var_columns_kernel, grid_for(outputs), kThreads, s, outputs, count, divisor,
           take_sqrt, x, mean, out);
}

void var_backward_cuda(const StridedIndex& ix, float divisor, const float* x, const float* mean, const float* dy,
                       const float* std_or_null, float* dx) {
  const int64_t n = ix.count();
  if (n == 0) return;
  launch("var_backward_cuda", var_backward_kernel, grid_for(n), kThreads, ix, n, divisor, x, mean, dy,
         std_or_null, dx);
}

}  // namespace dlcraft
