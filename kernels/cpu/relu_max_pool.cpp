// max_pool2d(relu(x)) in one pass on the CPU (the fused epilogue, docs/fused_epilogues.md).
// ReLU and max commute (max(relu(a)) = relu(max(a)): both are monotone), so the window is
// pooled on x itself and ReLU runs once per output, a quarter of the inputs for 2x2 windows.
// Same windows, padding and tie rule as max_pool2d_forward_cpu (kernels/cpu/pooling.cpp);
// y and argmax are bitwise those of max_pool2d_forward_cpu on relu(x).
#include <algorithm>
#include <cmath>

#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cpu/pool_window.hpp"

namespace dlcraft {

void relu_max_pool2d_forward_cpu(const Pool2dShape& s, const float* x, float* y, int32_t* argmax) {
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t plane_out = int64_t(oh) * ow;
#pragma omp parallel for schedule(static) if (int64_t(s.n) * s.c * s.h * s.w > 32768)
  for (int plane = 0; plane < s.n * s.c; ++plane) {
    const float* xp = x + int64_t(plane) * s.h * s.w;
    int32_t* ap = argmax + plane * plane_out;
    float* yp = y + plane * plane_out;
    max_pool_plane_argmax(s, xp, ap);  // the same winner as max_pool2d (pool_window.hpp)
    for (int p = 0; p < oh; ++p)
      for (int q = 0; q < ow; ++q) {
        const int o = p * ow + q;
        int best = ap[o];
        // A window whose max is <= 0 is all zeros after ReLU, and max_pool2d of those keeps the
        // first (ties): so take the window's first input, whose ReLU is +0 (or -0 if it was -0).
        if (!(xp[best] > 0.0f) && !std::isnan(xp[best])) best = first_in_window(s, p, q);
        yp[o] = xp[best] < 0.0f ? 0.0f : xp[best];  // ReLU on the output (relu.cpp's formula)
        ap[o] = best;
      }
  }
}

void relu_max_pool2d_backward_cpu(const Pool2dShape& s, const float* dy, const float* y,
                                  const int32_t* argmax, float* dx) {
  const int oh = s.out_h(), ow = s.out_w();
#pragma omp parallel for schedule(static) if (int64_t(s.n) * s.c * s.h * s.w > 32768)
  for (int plane = 0; plane < s.n * s.c; ++plane) {
    float* dxp = dx + int64_t(plane) * s.h * s.w;
    std::fill(dxp, dxp + s.h * s.w, 0.0f);
    for (int o = 0; o < oh * ow; ++o) {
      const int64_t i = int64_t(plane) * oh * ow + o;
      // ReLU's slope from the saved output: y > 0 exactly where the winner x > 0 (y <= 0 is
      // false for NaN, which lets dy through, as relu_backward_cpu does).
      if (!(y[i] <= 0.0f)) dxp[argmax[i]] += dy[i];
    }
  }
}

}  // namespace dlcraft
