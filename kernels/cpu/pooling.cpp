// max_pool2d and avg_pool2d (풀링) on the CPU. See docs/pooling.md.
// x is (n, c, h, w), y is (n, c, oh, ow); windows are kernel x kernel, `stride` apart.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

void max_pool2d_forward_cpu(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  const int oh = s.out_h(), ow = s.out_w();
#pragma omp parallel for schedule(static)
  for (int plane = 0; plane < s.n * s.c; ++plane) {
    const float* xp = x + int64_t(plane) * s.h * s.w;
    for (int p = 0; p < oh; ++p)
      for (int q = 0; q < ow; ++q) {
        // Remember which input won: backward sends the whole gradient there.
        int best = (p * s.stride) * s.w + q * s.stride;
        for (int i = 0; i < s.kernel; ++i)
          for (int j = 0; j < s.kernel; ++j) {
            int idx = (p * s.stride + i) * s.w + q * s.stride + j;
            // First maximum wins ties; a NaN always wins (the last one), as in PyTorch, so
            // a NaN is passed on, not hidden.
            if (xp[idx] > xp[best] || std::isnan(xp[idx])) best = idx;
          }
        int64_t o = (int64_t(plane) * oh + p) * ow + q;
        y[o] = xp[best];
        argmax[o] = best;
      }
  }
}

void max_pool2d_backward_cpu(const Pool2dShape& s, const float* dy, const int32_t* argmax,
                             float* dx) {
  const int oh = s.out_h(), ow = s.out_w();
#pragma omp parallel for schedule(static)
  for (int plane = 0; plane < s.n * s.c; ++plane) {
    float* dxp = dx + int64_t(plane) * s.h * s.w;
    std::fill(dxp, dxp + s.h * s.w, 0.0f);
    // += because overlapping windows (stride < kernel) can pick the same input twice.
    for (int o = 0; o < oh * ow; ++o) {
      int64_t i = int64_t(plane) * oh * ow + o;
      dxp[argmax[i]] += dy[i];
    }
  }
}

void avg_pool2d_forward_cpu(const Pool2dShape& s, const float* x, float* y) {
  const int oh = s.out_h(), ow = s.out_w();
  const float inv = 1.0f / float(s.kernel * s.kernel);
#pragma omp parallel for schedule(static)
  for (int plane = 0; plane < s.n * s.c; ++plane) {
    const float* xp = x + int64_t(plane) * s.h * s.w;
    for (int p = 0; p < oh; ++p)
      for (int q = 0; q < ow; ++q) {
        float acc = 0.0f;
        for (int i = 0; i < s.kernel; ++i)
          for (int j = 0; j < s.kernel; ++j) acc += xp[(p * s.stride + i) * s.w + q * s.stride + j];
        y[(int64_t(plane) * oh + p) * ow + q] = acc * inv;
      }
  }
}

void avg_pool2d_backward_cpu(const Pool2dShape& s, const float* dy, float* dx) {
  // Every input in a window gets an equal share (1/kernel^2) of that window's gradient.
  const int oh = s.out_h(), ow = s.out_w();
  const float inv = 1.0f / float(s.kernel * s.kernel);
#pragma omp parallel for schedule(static)
  for (int plane = 0; plane < s.n * s.c; ++plane) {
    float* dxp = dx + int64_t(plane) * s.h * s.w;
    std::fill(dxp, dxp + s.h * s.w, 0.0f);
    for (int p = 0; p < oh; ++p)
      for (int q = 0; q < ow; ++q) {
        float g = dy[(int64_t(plane) * oh + p) * ow + q] * inv;
        for (int i = 0; i < s.kernel; ++i)
          for (int j = 0; j < s.kernel; ++j) dxp[(p * s.stride + i) * s.w + q * s.stride + j] += g;
      }
  }
}

}  // namespace dlcraft
