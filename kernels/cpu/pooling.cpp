// max_pool2d and avg_pool2d (풀링) on the CPU. See docs/pooling.md.
// x is (n, c, h, w), y is (n, c, oh, ow); windows are kernel_h x kernel_w, stride_h / stride_w
// apart, over the input padded by pad_h / pad_w on each side. The padding is never read: max
// skips it (as if -inf), avg counts it as zeros (the divisor stays kernel_h * kernel_w).
#include <algorithm>
#include <cmath>

#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cpu/pool_window.hpp"

namespace dlcraft {

// Threads only when the planes are large enough to pay for waking them (small models).
void max_pool2d_forward_cpu(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  const int64_t plane_out = int64_t(s.out_h()) * s.out_w();
#pragma omp parallel for schedule(static) if (int64_t(s.n) * s.c * s.h * s.w > 32768)
  for (int plane = 0; plane < s.n * s.c; ++plane) {
    // Remember which input won (kernels/cpu/pool_window.hpp): backward sends the whole
    // gradient there.
    const float* xp = x + int64_t(plane) * s.h * s.w;
    int32_t* ap = argmax + plane * plane_out;
    max_pool_plane_argmax(s, xp, ap);
    for (int64_t o = 0; o < plane_out; ++o) y[plane * plane_out + o] = xp[ap[o]];
  }
}

void max_pool2d_backward_cpu(const Pool2dShape& s, const float* dy, const int32_t* argmax,
                             float* dx) {
  const int oh = s.out_h(), ow = s.out_w();
#pragma omp parallel for schedule(static) if (int64_t(s.n) * s.c * s.h * s.w > 32768)
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
  // The padding counts in the divisor (torch's count_include_pad=True).
  const float inv = 1.0f / float(s.kernel_h * s.kernel_w);
#pragma omp parallel for schedule(static) if (int64_t(s.n) * s.c * s.h * s.w > 32768)
  for (int plane = 0; plane < s.n * s.c; ++plane) {
    const float* xp = x + int64_t(plane) * s.h * s.w;
    for_each_window(s, [&](int p, int q, int h0, int h1, int w0, int w1) {
      float acc = 0.0f;
      for (int i = h0; i < h1; ++i)
        for (int j = w0; j < w1; ++j) acc += xp[i * s.w + j];
      y[(int64_t(plane) * oh + p) * ow + q] = acc * inv;
    });
  }
}

void avg_pool2d_backward_cpu(const Pool2dShape& s, const float* dy, float* dx) {
  // Every input in a window gets an equal share (1/(kernel_h*kernel_w)) of that window's
  // gradient; the shares that fall on the padding are dropped.
  const int oh = s.out_h(), ow = s.out_w();
  const float inv = 1.0f / float(s.kernel_h * s.kernel_w);
#pragma omp parallel for schedule(static) if (int64_t(s.n) * s.c * s.h * s.w > 32768)
  for (int plane = 0; plane < s.n * s.c; ++plane) {
    float* dxp = dx + int64_t(plane) * s.h * s.w;
    std::fill(dxp, dxp + s.h * s.w, 0.0f);
    for_each_window(s, [&](int p, int q, int h0, int h1, int w0, int w1) {
      const float g = dy[(int64_t(plane) * oh + p) * ow + q] * inv;
      for (int i = h0; i < h1; ++i)
        for (int j = w0; j < w1; ++j) dxp[i * s.w + j] += g;
    });
  }
}

}  // namespace dlcraft
