// adaptive_avg_pool2d (적응형 평균 풀링) on the CPU. See docs/adaptive_pooling.md.
// x is (n, c, h, w), y is (n, c, out_h, out_w). Output row i averages the input rows
// [floor(i*h/out_h), ceil((i+1)*h/out_h)) (AdaptivePool2dShape::start/end), columns likewise:
// the windows cover the input, neighbouring ones may share a row, and an output larger than
// the input repeats rows.
#include <algorithm>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

using A = AdaptivePool2dShape;

void adaptive_avg_pool2d_forward_cpu(const AdaptivePool2dShape& s, const float* x, float* y) {
  const int64_t planes = int64_t(s.n) * s.c, hw = int64_t(s.h) * s.w;
  if (s.out_h == 1 && s.out_w == 1) {
    // ResNet's head: one mean per plane, in double so a large plane (e.g. 56x56) loses nothing.
#pragma omp parallel for schedule(static) if (planes * hw > 32768)
    for (int64_t plane = 0; plane < planes; ++plane) {
      const float* xp = x + plane * hw;
      double acc = 0.0;
      for (int64_t e = 0; e < hw; ++e) acc += xp[e];
      y[plane] = float(acc / double(hw));
    }
    return;
  }
#pragma omp parallel for schedule(static) if (planes * hw > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* xp = x + plane * hw;
    float* yp = y + plane * s.out_h * s.out_w;
    for (int i = 0; i < s.out_h; ++i) {
      const int h0 = A::start(i, s.h, s.out_h), h1 = A::end(i, s.h, s.out_h);
      for (int j = 0; j < s.out_w; ++j) {
        const int w0 = A::start(j, s.w, s.out_w), w1 = A::end(j, s.w, s.out_w);
        float acc = 0.0f;
        for (int r = h0; r < h1; ++r)
          for (int q = w0; q < w1; ++q) acc += xp[int64_t(r) * s.w + q];
        yp[i * s.out_w + j] = acc / float((h1 - h0) * (w1 - w0));
      }
    }
  }
}

void adaptive_avg_pool2d_backward_cpu(const AdaptivePool2dShape& s, const float* dy, float* dx) {
  // Each window hands dy/(its size) to every input in it; an input in several windows (they
  // overlap when the sizes do not divide) collects from each.
  const int64_t planes = int64_t(s.n) * s.c, hw = int64_t(s.h) * s.w;
#pragma omp parallel for schedule(static) if (planes * hw > 32768)
  for (int64_t plane = 0; plane < planes; ++plane) {
    float* dxp = dx + plane * hw;
    const float* dyp = dy + plane * s.out_h * s.out_w;
    std::fill(dxp, dxp + hw, 0.0f);
    for (int i = 0; i < s.out_h; ++i) {
      const int h0 = A::start(i, s.h, s.out_h), h1 = A::end(i, s.h, s.out_h);
      for (int j = 0; j < s.out_w; ++j) {
        const int w0 = A::start(j, s.w, s.out_w), w1 = A::end(j, s.w, s.out_w);
        const float g = dyp[i * s.out_w + j] / float((h1 - h0) * (w1 - w0));
        for (int r = h0; r < h1; ++r)
          for (int q = w0; q < w1; ++q) dxp[int64_t(r) * s.w + q] += g;
      }
    }
  }
}

}  // namespace dlcraft
