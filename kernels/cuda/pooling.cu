// max_pool2d and avg_pool2d (풀링) on the GPU. See docs/pooling.md.
// Forward: one thread per output element scans its window. Backward: one thread per INPUT
// element gathers from the windows that contain it (no atomics, deterministic, and correct
// for overlapping windows too).
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

__global__ void max_pool_forward_kernel(Pool2dShape s, const float* x, float* y, int32_t* argmax) {
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t total = int64_t(s.n) * s.c * oh * ow;
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int q = int(o % ow), p = int((o / ow) % oh);
    const int64_t plane = o / (int64_t(oh) * ow);
    const float* xp = x + plane * s.h * s.w;
    int best = (p * s.stride) * s.w + q * s.stride;
    for (int i = 0; i < s.kernel; ++i)
      for (int j = 0; j < s.kernel; ++j) {
        const int idx = (p * s.stride + i) * s.w + q * s.stride + j;
        if (xp[idx] > xp[best] || isnan(xp[idx])) best = idx;  // ties, NaN: as on the CPU
      }
    y[o] = xp[best];
    argmax[o] = best;
  }
}

// Output windows (p, q) that contain input row h: p*stride <= h < p*stride + kernel.
__device__ __forceinline__ void window_range(int h, int stride, int kernel, int out, int* lo, int* hi) {
  *lo = h >= kernel ? (h - kernel) / stride + 1 : 0;
  *hi = min(h / stride, out - 1);
}

__global__ void max_pool_backward_kernel(Pool2dShape s, const float* dy, const int32_t* argmax, float* dx) {
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t total = int64_t(s.n) * s.c * s.h * s.w;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int w = int(e % s.w), h = int((e / s.w) % s.h);
    const int64_t plane = e / (int64_t(s.h) * s.w);
    const int me = h * s.w + w;
    int p0, p1, q0, q1;
    window_range(h, s.stride, s.kernel, oh, &p0, &p1);
    window_range(w, s.stride, s.kernel, ow, &q0, &q1);
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
  const float inv = 1.0f / float(s.kernel * s.kernel);
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int q = int(o % ow), p = int((o / ow) % oh);
    const float* xp = x + (o / (int64_t(oh) * ow)) * s.h * s.w;
    float acc = 0.0f;
    for (int i = 0; i < s.kernel; ++i)
      for (int j = 0; j < s.kernel; ++j) acc += xp[(p * s.stride + i) * s.w + q * s.stride + j];
    y[o] = acc * inv;
  }
}

__global__ void avg_pool_backward_kernel(Pool2dShape s, const float* dy, float* dx) {
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t total = int64_t(s.n) * s.c * s.h * s.w;
  const float inv = 1.0f / float(s.kernel * s.kernel);
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int w = int(e % s.w), h = int((e / s.w) % s.h);
    const int64_t plane = e / (int64_t(s.h) * s.w);
    int p0, p1, q0, q1;
    window_range(h, s.stride, s.kernel, oh, &p0, &p1);
    window_range(w, s.stride, s.kernel, ow, &q0, &q1);
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
