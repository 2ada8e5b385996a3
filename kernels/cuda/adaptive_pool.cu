// adaptive_avg_pool2d (적응형 평균 풀링) on the GPU. See docs/adaptive_pooling.md.
// Forward: one thread per output cell averages its window; for a (1, 1) output (ResNet's
// head) one warp per plane instead, so a large plane is read by 32 threads, coalesced.
// Backward: one thread per INPUT element gathers dy/size from every window that contains it
// (no atomics, deterministic), as pooling.cu does.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

using A = AdaptivePool2dShape;

__global__ void adaptive_avg_forward_kernel(AdaptivePool2dShape s, const float* x, float* y) {
  const int64_t total = int64_t(s.n) * s.c * s.out_h * s.out_w;
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int j = int(o % s.out_w), i = int((o / s.out_w) % s.out_h);
    const float* xp = x + (o / (int64_t(s.out_h) * s.out_w)) * s.h * s.w;
    const int h0 = A::start(i, s.h, s.out_h), h1 = A::end(i, s.h, s.out_h);
    const int w0 = A::start(j, s.w, s.out_w), w1 = A::end(j, s.w, s.out_w);
    float acc = 0.0f;
    for (int r = h0; r < h1; ++r)
      for (int q = w0; q < w1; ++q) acc += xp[int64_t(r) * s.w + q];
    y[o] = acc / float((h1 - h0) * (w1 - w0));
  }
}

// One warp per plane: lane l sums elements l, l+32, ...; then a shuffle tree (fixed order).
// The loop bound is the same for the whole warp, so every lane reaches every shuffle.
__global__ void plane_mean_kernel(int64_t planes, int64_t hw, const float* x, float* y) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = int64_t(gridDim.x) * blockDim.x / 32;
  for (int64_t plane = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32; plane < planes; plane += warps) {
    const float* xp = x + plane * hw;
    float acc = 0.0f;
    for (int64_t e = lane; e < hw; e += 32) acc += xp[e];
    for (int o = 16; o > 0; o /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if (lane == 0) y[plane] = acc / float(hw);
  }
}

// The output rows whose windows contain input row h: start(i) <= h < end(i) holds exactly for
// floor(h*out/in) <= i <= ceil((h+1)*out/in) - 1.
__device__ __forceinline__ void windows_of(int h, int in, int out, int* lo, int* hi) {
  *lo = int(int64_t(h) * out / in);
  *hi = min(int((int64_t(h + 1) * out + in - 1) / in) - 1, out - 1);
}

__global__ void adaptive_avg_backward_kernel(AdaptivePool2dShape s, const float* dy, float* dx) {
  const int64_t total = int64_t(s.n) * s.c * s.h * s.w;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int w = int(e % s.w), h = int((e / s.w) % s.h);
    const float* dyp = dy + (e / (int64_t(s.h) * s.w)) * s.out_h * s.out_w;
    int i0, i1, j0, j1;
    windows_of(h, s.h, s.out_h, &i0, &i1);
    windows_of(w, s.w, s.out_w, &j0, &j1);
    float acc = 0.0f;
    for (int i = i0; i <= i1; ++i) {
      const int rows = A::end(i, s.h, s.out_h) - A::start(i, s.h, s.out_h);
      for (int j = j0; j <= j1; ++j) {
        const int cols = A::end(j, s.w, s.out_w) - A::start(j, s.w, s.out_w);
        acc += dyp[i * s.out_w + j] / float(rows * cols);
      }
    }
    dx[e] = acc;
  }
}

}  // namespace

void adaptive_avg_pool2d_forward_cuda(const AdaptivePool2dShape& s, const float* x, float* y) {
  const int64_t planes = int64_t(s.n) * s.c;
  if (s.out_h == 1 && s.out_w == 1) {
    launch("adaptive_avg_pool2d plane mean", plane_mean_kernel, grid_for(planes * 32), 256, planes,
           int64_t(s.h) * s.w, x, y);
    return;
  }
  const int64_t total = planes * s.out_h * s.out_w;
  launch("adaptive_avg_pool2d_forward_cuda", adaptive_avg_forward_kernel, grid_for(total), 256, s, x, y);
}

void adaptive_avg_pool2d_backward_cuda(const AdaptivePool2dShape& s, const float* dy, float* dx) {
  const int64_t total = int64_t(s.n) * s.c * s.h * s.w;
  launch("adaptive_avg_pool2d_backward_cuda", adaptive_avg_backward_kernel, grid_for(total), 256, s, dy, dx);
}

}  // namespace dlcraft
