// max / min with the winner's position on the GPU (torch.max(x, dim)). CPU reference:
// kernels/cpu/reduce_minmax.cpp. The two layouts of reduce.cu: one block per output when the
// last dimension is reduced (threads scan the row side by side, then the (value, index) pairs
// are combined with warp shuffles and once across warps), else one thread per output.
// Ties and NaN as on the CPU: `better` is a total order in which a NaN beats every number and
// among equal values (or NaNs) the smaller index wins, so the result does not depend on how
// the threads split the row: the first maximum, or the first NaN.
// Backward: dx is zeroed, then each output writes its gradient to its winner (a scatter; no
// two outputs share a winner, so no atomics).
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/cuda/reduce.cuh"

namespace dlcraft {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kNoIndex = INT64_MAX;  // a thread that saw nothing loses every comparison

__device__ __forceinline__ bool better(float v, int64_t i, float bv, int64_t bi, bool is_max) {
  const bool vn = isnan(v), bn = isnan(bv);
  if (vn || bn) return vn && (!bn || i < bi);
  if (v == bv) return i < bi;
  return is_max ? v > bv : v < bv;
}

__global__ void minmax_rows_kernel(ReduceShape s, int64_t outputs, int64_t count, bool is_max,
                                   const float* x, float* values, int64_t* indices) {
  __shared__ float part_v[32];
  __shared__ int64_t part_i[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {
    const float* base = x + s.outer.offset(o);
    float bv = is_max ? -INFINITY : INFINITY;
    int64_t bi = kNoIndex;
    for (int64_t r = threadIdx.x; r < count; r += blockDim.x) {
      const float v = base[s.inner.offset(r)];
      if (better(v, r, bv, bi, is_max)) {
        bv = v;
        bi = r;
      }
    }
    for (int off = 16; off > 0; off /= 2) {
      const float ov = __shfl_xor_sync(0xffffffffu, bv, off);
      const int64_t oi = __shfl_xor_sync(0xffffffffu, bi, off);
      if (better(ov, oi, bv, bi, is_max)) {
        bv = ov;
        bi = oi;
      }
    }
    if (lane == 0) {
      part_v[warp] = bv;
      part_i[warp] = bi;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      for (int w = 1; w < int(blockDim.x / 32); ++w)
        if (better(part_v[w], part_i[w], bv, bi, is_max)) {
          bv = part_v[w];
          bi = part_i[w];
        }
      values[o] = bv;
      indices[o] = bi;
    }
    __syncthreads();  // part_* are reused by the next output
  }
}

__global__ void minmax_columns_kernel(ReduceShape s, int64_t outputs, int64_t count, bool is_max,
                                      const float* x, float* values, int64_t* indices) {
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < outputs; o += int64_t(gridDim.x) * blockDim.x) {
    const float* base = x + s.outer.offset(o);
    float bv = base[s.inner.offset(0)];
    int64_t bi = 0;
    for (int64_t r = 1; r < count; ++r) {
      const float v = base[s.inner.offset(r)];
      if (better(v, r, bv, bi, is_max)) {
        bv = v;
        bi = r;
      }
    }
    values[o] = bv;
    indices[o] = bi;
  }
}

__global__ void minmax_scatter_kernel(ReduceShape s, int64_t outputs, const float* dy,
                                      const int64_t* indices, float* dx) {
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < outputs; o += int64_t(gridDim.x) * blockDim.x)
    dx[s.outer.offset(o) + s.inner.offset(indices[o])] = dy[o];
}

}  // namespace

void reduce_minmax_cuda(const ReduceShape& s, bool is_max, const float* x, float* values, int64_t* indices) {
  const int64_t outputs = s.outer.count(), count = s.inner.count();
  if (outputs == 0) return;
  const bool rows = s.inner.rank > 0 && s.inner.strides[s.inner.rank - 1] == 1;
  if (rows)
    launch("reduce_minmax_cuda", minmax_rows_kernel, grid_for(outputs, 1), reduce_block_threads(count), s,
           outputs, count, is_max, x, values, indices);
  else
    launch("reduce_minmax_cuda", minmax_columns_kernel, grid_for(outputs), kThreads, s, outputs, count,
           is_max, x, values, indices);
}

void reduce_minmax_backward_cuda(const ReduceShape& s, int64_t n, const float* dy, const int64_t* indices,
                                 float* dx) {
  if (n > 0) fill_cuda(n, 0.0f, dx);
  const int64_t outputs = s.outer.count();
  if (outputs == 0) return;
  launch("reduce_minmax_backward_cuda", minmax_scatter_kernel, grid_for(outputs), kThreads, s, outputs, dy,
         indices, dx);
}

}  // namespace dlcraft
