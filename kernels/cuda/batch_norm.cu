// Batch normalisation (배치 정규화) on the GPU. CPU reference: kernels/cpu/batch_norm.cpp;
// docs/batch_norm.md, "On the GPU". x is read as (n, c, inner).
// Forward, two launches:
//   1. statistics: one block per channel. Its threads walk the channel's n * inner values side
//      by side and sum them (block_all_sum), then sum the squared deviations from the mean
//      (block_reduce_sum): two passes, so no sum(x^2) - mean^2 cancellation. Thread 0 writes
//      the mean, 1/sqrt(var + eps) and the running statistics. In eval a thread per channel
//      only reads the running statistics.
//   2. normalise: one thread per element (grid-stride), y = (x - mean) * invstd * w + b.
// Backward has the same shape: a block per channel sums dy and dy * (x - mean) (dbias and
// dweight), then one thread per element writes dx.
// Every sum has a fixed order (a thread's own values, then the block's tree), so results
// repeat bit for bit; no atomics.
#include <cmath>

#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/cuda/reduce.cuh"

namespace dlcraft {
namespace {

// Walks a channel's values k = first, first + step, ... (k < n * inner) without a division
// per step: value k is row i = k / inner, column j = k % inner of the channel, at
// x[(i * c + ch) * inner + j].
struct ChannelWalk {
  int64_t i, j, step_i, step_j;
  __device__ ChannelWalk(const BatchNormShape& s, int64_t first, int64_t step)
      : i(first / s.inner), j(first % s.inner), step_i(step / s.inner), step_j(step % s.inner) {}
  __device__ bool more(const BatchNormShape& s) const { return i < s.n; }
  __device__ int64_t at(const BatchNormShape& s, int64_t ch) const { return (i * s.c + ch) * s.inner + j; }
  __device__ void next(const BatchNormShape& s) {
    i += step_i;
    j += step_j;
    if (j >= s.inner) {  // step_j < inner: at most one carry
      j -= s.inner;
      ++i;
    }
  }
};

// Walks flat element indices e = first, first + step, ... keeping ch = (e / inner) % c up to
// date with additions only (the element-wise kernels' grid is capped, so a thread takes many).
struct ElementWalk {
  int64_t e, j, ch, step, step_j, step_ch;
  __device__ ElementWalk(const BatchNormShape& s, int64_t first, int64_t step_)
      : e(first), j(first % s.inner), ch((first / s.inner) % s.c), step(step_), step_j(step_ % s.inner),
        step_ch((step_ / s.inner) % s.c) {}
  __device__ void next(const BatchNormShape& s) {
    e += step;
    j += step_j;
    ch += step_ch;
    if (j >= s.inner) {
      j -= s.inner;
      ++ch;
    }
    if (ch >= s.c) ch -= s.c;  // ch + step_ch + 1 <= 2c - 1: one subtraction is enough
  }
};

__global__ void bn_train_stats_kernel(BatchNormShape s, double momentum, double eps, const float* x,
                                      float* running_mean, float* running_var, float* save_mean,
                                      float* save_invstd) {
  const int64_t m = s.per_channel();
  for (int64_t ch = blockIdx.x; ch < s.c; ch += gridDim.x) {
    float acc = 0.0f;
    for (ChannelWalk w(s, threadIdx.x, blockDim.x); w.more(s); w.next(s)) acc += x[w.at(s, ch)];
    const float mean = block_all_sum(acc) / float(m);
    float sq = 0.0f;
    for (ChannelWalk w(s, threadIdx.x, blockDim.x); w.more(s); w.next(s)) {
      const float d = x[w.at(s, ch)] - mean;
      sq += d * d;
    }
    sq = block_reduce_sum(sq);  // valid in thread 0
    if (threadIdx.x == 0) {
      save_mean[ch] = mean;
      save_invstd[ch] = float(1.0 / sqrt(double(sq) / double(m) + eps));
      // Unbiased variance for the running statistics, as torch (the op checks m > 1).
      if (running_mean) running_mean[ch] = float((1.0 - momentum) * running_mean[ch] + momentum * mean);
      if (running_var)
        running_var[ch] = float((1.0 - momentum) * running_var[ch] + momentum * double(sq) / double(m - 1));
    }
  }
}

__global__ void bn_eval_stats_kernel(int64_t c, double eps, const float* running_mean, const float* running_var,
                                     float* save_mean, float* save_invstd) {
  for (int64_t ch = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; ch < c; ch += int64_t(gridDim.x) * blockDim.x) {
    save_mean[ch] = running_mean[ch];
    save_invstd[ch] = float(1.0 / sqrt(double(running_var[ch]) + eps));
  }
}

__global__ void bn_normalize_kernel(BatchNormShape s, const float* x, const float* weight, const float* bias,
                                    const float* mean, const float* invstd, float* y) {
  const int64_t total = s.count();
  for (ElementWalk w(s, blockIdx.x * int64_t(blockDim.x) + threadIdx.x, int64_t(gridDim.x) * blockDim.x);
       w.e < total; w.next(s)) {
    const float scale = invstd[w.ch] * (weight ? weight[w.ch] : 1.0f);
    y[w.e] = (x[w.e] - mean[w.ch]) * scale + (bias ? bias[w.ch] : 0.0f);
  }
}

__global__ void bn_backward_sums_kernel(BatchNormShape s, const float* x, const float* dy, const float* mean,
                                        const float* invstd, float* dweight, float* dbias) {
  for (int64_t ch = blockIdx.x; ch < s.c; ch += gridDim.x) {
    const float mu = mean[ch];
    float sum_dy = 0.0f, sum_dy_xmu = 0.0f;
    for (ChannelWalk w(s, threadIdx.x, blockDim.x); w.more(s); w.next(s)) {
      const int64_t e = w.at(s, ch);
      sum_dy += dy[e];
      sum_dy_xmu += dy[e] * (x[e] - mu);
    }
    sum_dy = block_reduce_sum(sum_dy);
    sum_dy_xmu = block_reduce_sum(sum_dy_xmu);
    if (threadIdx.x == 0) {
      dbias[ch] = sum_dy;
      dweight[ch] = sum_dy_xmu * invstd[ch];  // sum dy * xhat
    }
  }
}

// dx = a dy - b (x - mean) - c with a = w invstd, b = a invstd dweight / M, c = a dbias / M
// (training); eval keeps a dy (kernels/cpu/batch_norm.cpp says why).
__global__ void bn_backward_dx_kernel(BatchNormShape s, bool training, const float* x, const float* dy,
                                      const float* weight, const float* mean, const float* invstd,
                                      const float* dweight, const float* dbias, float* dx) {
  const int64_t total = s.count();
  const float inv_m = 1.0f / float(s.per_channel());
  for (ElementWalk w(s, blockIdx.x * int64_t(blockDim.x) + threadIdx.x, int64_t(gridDim.x) * blockDim.x);
       w.e < total; w.next(s)) {
    const int64_t ch = w.ch;
    const float a = (weight ? weight[ch] : 1.0f) * invstd[ch];
    float g = a * dy[w.e];
    if (training) g -= a * invstd[ch] * dweight[ch] * inv_m * (x[w.e] - mean[ch]) + a * dbias[ch] * inv_m;
    dx[w.e] = g;
  }
}

// Threads for a block that reduces one channel of m values: a multiple of 32, up to 512
// (long channels want many loads in flight; a (N,C) input's channel may be only N long).
int channel_block_threads(int64_t m) {
  int64_t t = (m + 31) / 32 * 32;
  return int(t < 32 ? 32 : (t > 512 ? 512 : t));
}

// The element-wise kernels: at most 2048 blocks, so each thread's two divisions (ElementWalk's
// start) are spread over several elements.
unsigned element_blocks(int64_t total) {
  const unsigned g = grid_for(total);
  return g > 2048 ? 2048 : g;
}

unsigned channel_blocks(int64_t c) { return unsigned(c < 1 ? 1 : (c > 65535 * 8 ? 65535 * 8 : c)); }

}  // namespace

void batch_norm_eval_stats_cuda(int64_t c, double eps, const float* running_mean, const float* running_var,
                                float* save_mean, float* save_invstd) {
  launch("batch_norm_eval_stats_cuda", bn_eval_stats_kernel, grid_for(c), 256, c, eps, running_mean, running_var,
         save_mean, save_invstd);
}

void batch_norm_forward_cuda(const BatchNormShape& s, bool training, double momentum, double eps, const float* x,
                             const float* weight, const float* bias, float* running_mean, float* running_var,
                             float* y, float* save_mean, float* save_invstd) {
  if (s.c == 0) return;
  if (training)
    launch("batch_norm_forward_cuda (statistics)", bn_train_stats_kernel, channel_blocks(s.c),
           channel_block_threads(s.per_channel()), s, momentum, eps, x, running_mean, running_var, save_mean,
           save_invstd);
  else
    batch_norm_eval_stats_cuda(s.c, eps, running_mean, running_var, save_mean, save_invstd);
  if (s.count() == 0) return;
  launch("batch_norm_forward_cuda (normalise)", bn_normalize_kernel, element_blocks(s.count()), 256, s, x, weight,
         bias, save_mean, save_invstd, y);
}

void batch_norm_backward_cuda(const BatchNormShape& s, bool training, const float* x, const float* dy,
                              const float* weight, const float* save_mean, const float* save_invstd, float* dx,
                              float* dweight, float* dbias) {
  if (s.c == 0) return;
  if (s.per_channel() == 0) {  // an empty batch (eval): nothing to sum, and inner may be 0
    fill_cuda(s.c, 0.0f, dweight);
    fill_cuda(s.c, 0.0f, dbias);
    return;
  }
  launch("batch_norm_backward_cuda (sums)", bn_backward_sums_kernel, channel_blocks(s.c),
         channel_block_threads(s.per_channel()), s, x, dy, save_mean, save_invstd, dweight, dbias);
  if (!dx || s.count() == 0) return;
  launch("batch_norm_backward_cuda (dx)", bn_backward_dx_kernel, element_blocks(s.count()), 256, s, training, x, dy,
         weight, save_mean, save_invstd, dweight, dbias, dx);
}

}  // namespace dlcraft
