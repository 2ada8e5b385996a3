// Reductions on the GPU over any set of dimensions (kernels/shapes.hpp, ReduceShape).
// Two layouts, chosen by which dimension is reduced, so that neighbouring threads always read
// neighbouring addresses (coalescing, docs/cuda_basics.md):
//   - the last dimension is reduced (row sums): one block per output; its threads read the
//     row side by side and combine with warp shuffles (block_reduce_sum);
//   - otherwise (column sums, e.g. a bias gradient): one thread per output; neighbouring
//     threads own neighbouring outputs, which sit next to each other in memory.
// The mean is the sum times 1/count; its backward (expand_cuda with a scale) hands every input dy/count.
// CPU reference: kernels/cpu/reduce.cpp.
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/cuda/reduce.cuh"

namespace dlcraft {
namespace {

constexpr int kThreads = 256;

__global__ void reduce_sum_rows_kernel(ReduceShape s, int64_t outputs, int64_t count, float scale,
                                       const float* x, float* y) {
  for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {
    const float* base = x + s.outer.offset(o);
    float acc = 0.0f;
    for (int64_t r = threadIdx.x; r < count; r += blockDim.x) acc += base[s.inner.offset(r)];
    acc = block_reduce_sum(acc);
    if (threadIdx.x == 0) y[o] = acc * scale;
  }
}

__global__ void reduce_sum_columns_kernel(ReduceShape s, int64_t outputs, int64_t count, float scale,
                                          const float* x, float* y) {
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < outputs; o += int64_t(gridDim.x) * blockDim.x) {
    const float* base = x + s.outer.offset(o);
    float acc = 0.0f;
    for (int64_t r = 0; r < count; ++r) acc += base[s.inner.offset(r)];
    y[o] = acc * scale;
  }
}

void reduce_scaled(const char* op, const ReduceShape& s, float scale, const float* x, float* y) {
  const int64_t outputs = s.outer.count(), count = s.inner.count();
  if (outputs == 0) return;
  const bool rows = s.inner.rank > 0 && s.inner.strides[s.inner.rank - 1] == 1;
  if (rows)
    launch(op, reduce_sum_rows_kernel, grid_for(outputs, 1), kThreads, s, outputs, count, scale, x, y);
  else
    launch(op, reduce_sum_columns_kernel, grid_for(outputs), kThreads, s, outputs, count, scale, x, y);
}

}  // namespace

void reduce_sum_cuda(const ReduceShape& s, const float* x, float* y) {
  reduce_scaled("reduce_sum_cuda", s, 1.0f, x, y);
}

void reduce_mean_cuda(const ReduceShape& s, const float* x, float* y) {
  const int64_t count = s.inner.count();
  reduce_scaled("reduce_mean_cuda", s, count > 0 ? 1.0f / float(count) : NAN, x, y);
}

}  // namespace dlcraft
