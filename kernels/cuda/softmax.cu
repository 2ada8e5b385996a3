// softmax, log_softmax and logsumexp along one dimension on the GPU. CPU reference:
// kernels/cpu/softmax.cpp. x is (outer, dim, inner); a "line" (o, i) is the dim values
// x[(o * dim + j) * inner + i]. The two layouts of reduce.cu:
//   - rows (inner == 1, the last dimension): one block per line; its threads read the line
//     side by side and share its max and sum through block_all_max / block_all_sum;
//   - columns (inner > 1): one thread per line; neighbouring threads own neighbouring i,
//     so each step j reads neighbouring addresses.
// The kernels are written once for both (template kRows): a line's reduction is a block
// reduction in the first and the thread's own value in the second.
// Stable: the line max is subtracted before exp (fmaxf skips NaN; a NaN still makes the line
// NaN through exp, as on the CPU).
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/cuda/reduce.cuh"

namespace dlcraft {
namespace {

constexpr int kThreads = 256;

template <bool kRows>
__device__ __forceinline__ float line_sum(float v) {
  if constexpr (kRows)
    return block_all_sum(v);
  else
    return v;
}
template <bool kRows>
__device__ __forceinline__ float line_max(float v) {
  if constexpr (kRows)
    return block_all_max(v);
  else
    return v;
}

// Which lines this thread works on, and which of their elements: rows -> block b takes lines
// b, b + grid, ... and thread t its elements t, t + block, ...; columns -> thread takes whole lines.
struct Walk {
  int64_t first_line, line_step, first_j, j_step;
};
template <bool kRows>
__device__ __forceinline__ Walk walk() {
  if constexpr (kRows)
    return {int64_t(blockIdx.x), int64_t(gridDim.x), int64_t(threadIdx.x), int64_t(blockDim.x)};
  else
    return {blockIdx.x * int64_t(blockDim.x) + threadIdx.x, int64_t(gridDim.x) * blockDim.x, 0, 1};
}

template <bool kRows>
__global__ void softmax_forward_kernel(int64_t lines, int64_t dim, int64_t inner, bool log, const float* x, float* y) {
  const Walk w = walk<kRows>();
  for (int64_t l = w.first_line; l < lines; l += w.line_step) {
    const int64_t start = (l / inner) * dim * inner + l % inner;
    const float* xl = x + start;
    float* yl = y + start;
    float m = -INFINITY;
    for (int64_t j = w.first_j; j < dim; j += w.j_step) m = fmaxf(m, xl[j * inner]);
    m = line_max<kRows>(m);
    float s = 0.0f;
    for (int64_t j = w.first_j; j < dim; j += w.j_step) s += expf(xl[j * inner] - m);
    s = line_sum<kRows>(s);
    if (log) {
      const float log_s = logf(s);
      for (int64_t j = w.first_j; j < dim; j += w.j_step) yl[j * inner] = xl[j * inner] - m - log_s;
    } else {
      const float inv = 1.0f / s;
      for (int64_t j = w.first_j; j < dim; j += w.j_step) yl[j * inner] = expf(xl[j * inner] - m) * inv;
    }
  }
}

// softmax: dx = y (dy - sum dy y); log_softmax: dx = dy - exp(y) sum dy.
template <bool kRows>
__global__ void softmax_backward_kernel(int64_t lines, int64_t dim, int64_t inner, bool log, const float* y,
                                        const float* dy, float* dx) {
  const Walk w = walk<kRows>();
  for (int64_t l = w.first_line; l < lines; l += w.line_step) {
    const int64_t start = (l / inner) * dim * inner + l % inner;
    const float *yl = y + start, *gl = dy + start;
    float* dl = dx + start;
    float s = 0.0f;
    for (int64_t j = w.first_j; j < dim; j += w.j_step) s += log ? gl[j * inner] : gl[j * inner] * yl[j * inner];
    s = line_sum<kRows>(s);
    for (int64_t j = w.first_j; j < dim; j += w.j_step) {
      const int64_t k = j * inner;
      dl[k] = log ? gl[k] - expf(yl[k]) * s : yl[k] * (gl[k] - s);
    }
  }
}

template <bool kRows>
__global__ void logsumexp_forward_kernel(int64_t lines, int64_t dim, int64_t inner, const float* x, float* y) {
  const Walk w = walk<kRows>();
  for (int64_t l = w.first_line; l < lines; l += w.line_step) {
    const float* xl = x + (l / inner) * dim * inner + l % inner;
    float m = -INFINITY;
    for (int64_t j = w.first_j; j < dim; j += w.j_step) m = fmaxf(m, xl[j * inner]);
    m = line_max<kRows>(m);
    if (isinf(m)) m = 0.0f;  // as torch: all -inf gives -inf, a +inf gives +inf (not NaN)
    float s = 0.0f;
    for (int64_t j = w.first_j; j < dim; j += w.j_step) s += expf(xl[j * inner] - m);
    s = line_sum<kRows>(s);
    if (!kRows || threadIdx.x == 0) y[l] = m + logf(s);
  }
}

// dx = dy * exp(x - y), one thread per element of x.
__global__ void logsumexp_backward_kernel(int64_t n, int64_t dim, int64_t inner, const float* x, const float* y,
                                          const float* dy, float* dx) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t l = (e / (dim * inner)) * inner + e % inner;
    dx[e] = dy[l] * expf(x[e] - y[l]);
  }
}

}  // namespace

void softmax_forward_cuda(int64_t outer, int64_t dim, int64_t inner, bool log, const float* x, float* y) {
  const int64_t lines = outer * inner;
  if (lines == 0 || dim == 0) return;
  if (inner == 1)
    launch("softmax_forward_cuda", softmax_forward_kernel<true>, grid_for(lines, 1), reduce_block_threads(dim),
           lines, dim, inner, log, x, y);
  else
    launch("softmax_forward_cuda", softmax_forward_kernel<false>, grid_for(lines), kThreads, lines, dim, inner,
           log, x, y);
}

void softmax_backward_cuda(int64_t outer, int64_t dim, int64_t inner, bool log, const float* y, const float* dy,
                           float* dx) {
  const int64_t lines = outer * inner;
  if (lines == 0 || dim == 0) return;
  if (inner == 1)
    launch("softmax_backward_cuda", softmax_backward_kernel<true>, grid_for(lines, 1), reduce_block_threads(dim),
           lines, dim, inner, log, y, dy, dx);
  else
    launch("softmax_backward_cuda", softmax_backward_kernel<false>, grid_for(lines), kThreads, lines, dim, inner,
           log, y, dy, dx);
}

void logsumexp_forward_cuda(int64_t outer, int64_t dim, int64_t inner, const float* x, float* y) {
  const int64_t lines = outer * inner;
  if (lines == 0) return;
  if (inner == 1)
    launch("logsumexp_forward_cuda", logsumexp_forward_kernel<true>, grid_for(lines, 1),
           reduce_block_threads(dim), lines, dim, inner, x, y);
  else
    launch("logsumexp_forward_cuda", logsumexp_forward_kernel<false>, grid_for(lines), kThreads, lines, dim,
           inner, x, y);
}

void logsumexp_backward_cuda(int64_t outer, int64_t dim, int64_t inner, const float* x, const float* y,
                             const float* dy, float* dx) {
  const int64_t n = outer * dim * inner;
  if (n == 0) return;
  launch("logsumexp_backward_cuda", logsumexp_backward_kernel, grid_for(n), kThreads, n, dim, inner, x, y, dy,
         dx);
}

}  // namespace dlcraft
