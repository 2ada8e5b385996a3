// Softmax cross-entropy on the GPU, fused: one launch computes the probabilities, each row's
// -log p[label] and the batch mean. See docs/softmax_cross_entropy.md.
// One block; warp w handles rows w, w+8, ... (a row of 10 logits fits a warp); the mean is a
// fixed-order sum over the warps' partial sums, so the loss repeats exactly.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

constexpr int kThreads = 256, kWarps = kThreads / 32;

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__global__ void softmax_xent_forward_kernel(int n, int classes, const float* logits, const int32_t* labels,
                                            float* probs, float* loss) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  float warp_loss = 0.0f;
  for (int row = warp; row < n; row += kWarps) {
    const float* z = logits + int64_t(row) * classes;
    float m = -INFINITY;
    for (int j = lane; j < classes; j += 32) m = fmaxf(m, z[j]);
    m = warp_max(m);  // subtract the row max: exp never overflows
    float sum = 0.0f;
    for (int j = lane; j < classes; j += 32) sum += expf(z[j] - m);
    sum = warp_sum(sum);
    const float log_sum = logf(sum);
    for (int j = lane; j < classes; j += 32) probs[int64_t(row) * classes + j] = expf(z[j] - m - log_sum);
    warp_loss += log_sum + m - z[labels[row]];  // the same value in every lane
  }
  __shared__ float part[kWarps];
  if (lane == 0) part[warp] = warp_loss;
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = 0.0f;
    for (int w = 0; w < kWarps; ++w) total += part[w];
    *loss = total / n;
  }
}

__global__ void softmax_xent_backward_kernel(int n, int classes, const float* probs, const int32_t* labels,
                                             const float* dloss, float* dlogits) {
  const float scale = *dloss / float(n);
  const int64_t total = int64_t(n) * classes;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int row = int(e / classes), j = int(e % classes);
    dlogits[e] = (probs[e] - (j == labels[row] ? 1.0f : 0.0f)) * scale;
  }
}

// One thread per row finds its argmax; the block adds the hits.
__global__ void count_correct_kernel(int n, int classes, const float* logits, const int32_t* labels, int32_t* count) {
  __shared__ int part[kThreads];
  int hits = 0;
  for (int row = threadIdx.x; row < n; row += kThreads) {
    const float* z = logits + int64_t(row) * classes;
    int best = 0;
    for (int j = 1; j < classes; ++j)
      if (z[j] > z[best]) best = j;
    hits += best == labels[row];
  }
  part[threadIdx.x] = hits;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) *count = part[0];
}

}  // namespace

void softmax_cross_entropy_forward_cuda(int n, int classes, const float* logits, const int32_t* labels,
                                        float* probs, float* loss) {
  launch("softmax_cross_entropy_forward_cuda", softmax_xent_forward_kernel, 1, kThreads, n, classes, logits, labels, probs, loss);
}

void softmax_cross_entropy_backward_cuda(int n, int classes, const float* probs, const int32_t* labels,
                                         const float* dloss, float* dlogits) {
  launch("softmax_cross_entropy_backward_cuda", softmax_xent_backward_kernel, grid_for(int64_t(n) * classes), 256, n, classes, probs, labels, dloss, dlogits);
}

void count_correct_cuda(int n, int classes, const float* logits, const int32_t* labels, int32_t* count) {
  launch("count_correct_cuda", count_correct_kernel, 1, kThreads, n, classes, logits, labels, count);
}

}  // namespace dlcraft
