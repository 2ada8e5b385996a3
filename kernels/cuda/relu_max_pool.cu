// max_pool2d(relu(x)) in one pass on the GPU (docs/fused_epilogues.md); the CPU's twin is
// kernels/cpu/relu_max_pool.cpp (why it works, the tie rule). Forward: one thread per output
// scans its window on x, then ReLU on the result. Backward: one thread per INPUT gathers dy
// from the windows that picked it and whose output is > 0 (no atomics, as pooling.cu).
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

// Output windows p that contain input row h (pooling.cu's window_range).
__device__ __forceinline__ void window_range(int h, int stride, int kernel, int pad, int out, int* lo, int* hi) {
  const int hp = h + pad;
  *lo = hp >= kernel ? (hp - kernel) / stride + 1 : 0;
  *hi = min(hp / stride, out - 1);
}

__global__ void relu_max_pool_forward_kernel(Pool2dShape s, const float* x, float* y, int32_t* argmax) {
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t total = int64_t(s.n) * s.c * oh * ow;
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int q = int(o % ow), p = int((o / ow) % oh);
    const float* xp = x + (o / (int64_t(oh) * ow)) * s.h * s.w;
    int h0, h1, w0, w1;
    clip(p, s.stride_h, s.pad_h, s.kernel_h, s.h, &h0, &h1);
    clip(q, s.stride_w, s.pad_w, s.kernel_w, s.w, &w0, &w1);
    const int first = h0 * s.w + w0;
    int best = first;
    for (int i = h0; i < h1; ++i)
      for (int j = w0; j < w1; ++j) {
        const int idx = i * s.w + j;
        if (xp[idx] > xp[best] || isnan(xp[idx])) best = idx;  // ties, NaN: as max_pool2d
      }
    if (!(xp[best] > 0.0f) && !isnan(xp[best])) best = first;  // all zeros after ReLU: the first
    y[o] = xp[best] < 0.0f ? 0.0f : xp[best];
    argmax[o] = best;
  }
}

__global__ void relu_max_pool_backward_kernel(Pool2dShape s, const float* dy, const float* y,
                                              const int32_t* argmax, float* dx) {
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
        if (argmax[o] == me && !(y[o] <= 0.0f)) acc += dy[o];  // ReLU's mask from the output
      }
    dx[e] = acc;
  }
}

}  // namespace

void relu_max_pool2d_forward_cuda(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  const int64_t total = int64_t(s.n) * s.c * s.out_h() * s.out_w();
  if (total == 0) return;
  launch("relu_max_pool2d_forward_cuda", relu_max_pool_forward_kernel, grid_for(total), 256, s, x, y, argmax);
}

void relu_max_pool2d_backward_cuda(const Pool2dShape& s, const float* dy, const float* y,
                                   const int32_t* argmax, float* dx) {
  const int64_t total = int64_t(s.n) * s.c * s.h * s.w;
  if (total == 0) return;
  launch("relu_max_pool2d_backward_cuda", relu_max_pool_backward_kernel, grid_for(total), 256, s, dy, y, argmax, dx);
}

}  // namespace dlcraft
