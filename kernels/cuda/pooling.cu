// max_pool2d and avg_pool2d (풀링) on the GPU. See docs/pooling.md.
// Forward: one thread per output element scans its window. Backward: one thread per INPUT
// element gathers from the windows that contain it (no atomics, deterministic, and correct
// for overlapping windows too).
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

// The rows [*lo, *hi) of window p that lie inside the input (the rest is padding).
__device__ __forceinline__ void clip(int p, int stride, int pad, int kernel, int size, int* lo, int* hi) {
  const int start = p * stride - pad;
  *lo = max(start, 0);
  *hi = min(start + kernel, size);
}

__global__ void max_pool_forward_kernel(Pool2dShape s, const float* x, float* y, int32_t* argmax) {
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t total = int64_t(s.n) * s.c * oh * ow;
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int q = int(o % ow), p = int((o / ow) % oh);
    const int64_t plane = o / (int64_t(oh) * ow);
    const float* xp = x + plane * s.h * s.w;
    int h0, h1, w0, w1;
    clip(p, s.stride_h, s.pad_h, s.kernel_h, s.h, &h0, &h1);
    clip(q, s.stride_w, s.pad_w, s.kernel_w, s.w, &w0, &w1);
    int best = h0 * s.w + w0;  // the window's first real input (padding is never picked)
    for (int i = h0; i < h1; ++i)
      for (int j = w0; j < w1; ++j) {
        const int idx = i * s.w + j;
        if (xp[idx] > xp[best] || isnan(xp[idx])) best = idx;  // ties, NaN: as on the CPU
      }
    y[o] = xp[best];
    argmax[o] = best;
  }
}

// Output windows p that contain input row h. Window p covers padded rows
// p*stride .. p*stride + kernel - 1, and input row h is padded row h + pad.
__device__ __forceinline__ void window_range(int h, int stride, int kernel, int pad, int out, int* lo, int* hi) {
  const int hp = h + pad;
  *lo = hp >= kernel ? (hp - kernel) / stride + 1 : 0;
  *hi = min(hp / stride, out - 1);
}

__global__ void max_pool_backward_kernel(Pool2dShape s, const float* dy, const int32_t* argmax, float* dx) {
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t total = int64_t(s.n) * s.c * s.h * s.w;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int w = int(e % s.w), h = int((e / s.w) % s.h);
    const int64_t plane = e / (int64_t(s.h) * s.w);
    const int me = h * s.w + w;
    int p0, p1, q0, q1;
    window_range(h, s.stride_h, s.kernel_h, s.pad_h, oh, &p0, &p1);
    window_range(w, s.stride_w, s.kernel_w, s.pad_w, ow, &q0, &q1);
    float acc = 0.0f;
    for (int p = p0; p <= p1; ++p)
      for (int q = q0; q <= q1; ++q) {
        const int64_t o = (plane * oh + p) * ow + q;
        if (argmax[o] == me) acc += dy[o];
      }
    dx[e] = acc;
  }
}

__global__ void avg_pool_forward_kernel(Pool2dShape s, const float* x, float* y) {
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t total = int64_t(s.n) * s.c * oh * ow;
  const float inv = 1.0f / float(s.kernel_h * s.kernel_w);  // padding counts (count_include_pad)
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int q = int(o % ow), p = int((o / ow) % oh);
    const float* xp = x + (o / (int64_t(oh) * ow)) * s.h * s.w;
    int h0, h1, w0, w1;
    clip(p, s.stride_h, s.pad_h, s.kernel_h, s.h, &h0, &h1);
    clip(q, s.stride_w, s.pad_w, s.kernel_w, s.w, &w0, &w1);
    float acc = 0.0f;
    for (int i = h0; i < h1; ++i)
      for (int j = w0; j < w1; ++j) acc += xp[i * s.w + j];
    y[o] = acc * inv;
  }
}

__global__ void avg_pool_backward_kernel(Pool2dShape s, const float* dy, float* dx) {
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t total = int64_t(s.n) * s.c * s.h * s.w;
  const float inv = 1.0f / float(s.kernel_h * s.kernel_w);
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int w = int(e % s.w), h = int((e / s.w) % s.h);
    const int64_t plane = e / (int64_t(s.h) * s.w);
    int p0, p1, q0, q1;
    window_range(h, s.stride_h, s.kernel_h, s.pad_h, oh, &p0, &p1);
    window_range(w, s.stride_w, s.kernel_w, s.pad_w, ow, &q0, &q1);
    float acc = 0.0f;
    for (int p = p0; p <= p1; ++p)
      for (int q = q0; q <= q1; ++q) acc += dy[(plane * oh + p) * ow + q];
    dx[e] = acc * inv;
  }
}

}  // namespace

void max_pool2d_forward_cuda(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  const int64_t total = int64_t(s.n) * s.c * s.out_h() * s.out_w();
  launch("max_pool2d_forward_cuda", max_pool_forward_kernel, grid_for(total), 256, s, x, y, argmax);
}

void max_pool2d_backward_cuda(const Pool2dShape& s, const float* dy, const int32_t* argmax, float* dx) {
  const int64_t total = int64_t(s.n) * s.c * s.h * s.w;
  launch("max_pool2d_backward_cuda", max_pool_backward_kernel, grid_for(total), 256, s, dy, argmax, dx);
}

void avg_pool2d_forward_cuda(const Pool2dShape& s, const float* x, float* y) {
  const int64_t total = int64_t(s.n) * s.c * s.out_h() * s.out_w();
  launch("avg_pool2d_forward_cuda", avg_pool_forward_kernel, grid_for(total), 256, s, x, y);
}

void avg_pool2d_backward_cuda(const Pool2dShape& s, const float* dy, float* dx) {
  const int64_t total = int64_t(s.n) * s.c * s.h * s.w;
  launch("avg_pool2d_backward_cuda", avg_pool_backward_kernel, grid_for(total), 256, s, dy, dx);
}

}  // namespace dlcraft
