// conv2d (합성곱) on the CPU. See docs/convolution.md for the formulas.
//   1: reference — direct loops over every output and every kernel tap (read this first);
//   2: im2col + GEMM — unfold each image's patches into a matrix, then one matrix product.
// x is (n, c, h, w), w is (k, c, r, s), b is (k), y is (n, k, oh, ow).
#include <algorithm>
#include <vector>

#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cpu/parallel.hpp"

namespace dlcraft {

// ---------------------------------------------------------------- 1: reference loops
void conv2d_forward_reference_cpu(const Conv2dShape& s, const float* x, const float* w,
                                  const float* b, float* y, bool relu) {
  const int oh = s.out_h(), ow = s.out_w();
  for (int n = 0; n < s.n; ++n)
    for (int k = 0; k < s.k; ++k)
      for (int p = 0; p < oh; ++p)
        for (int q = 0; q < ow; ++q) {
          // y[n,k,p,q] = b[k] + sum_{c,i,j} w[k,c,i,j] * x[n, c, p*stride_h+i-pad_h, q*stride_w+j-pad_w]
          double acc = b ? b[k] : 0.0;
          for (int c = 0; c < s.c; ++c)
            for (int i = 0; i < s.r; ++i)
              for (int j = 0; j < s.s; ++j) {
                int hi = p * s.stride_h + i - s.pad_h, wi = q * s.stride_w + j - s.pad_w;
                if (hi < 0 || hi >= s.h || wi < 0 || wi >= s.w) continue;  // zero padding
                acc += double(w[((k * s.c + c) * s.r + i) * s.s + j]) *
                       x[((n * s.c + c) * s.h + hi) * s.w + wi];
              }
          const float v = float(acc);
          y[((n * s.k + k) * oh + p) * ow + q] = relu && v < 0.0f ? 0.0f : v;  // NaN, -0 kept (relu.cpp)
        }
}

void conv2d_backward_input_reference_cpu(const Conv2dShape& s, const float* dy, const float* w,
                                         float* dx) {
  // Each input pixel collects dy from every output whose window covered it.
  const int oh = s.out_h(), ow = s.out_w();
  std::fill(dx, dx + int64_t(s.n) * s.c * s.h * s.w, 0.0f);
  for (int n = 0; n < s.n; ++n)
    for (int k = 0; k < s.k; ++k)
      for (int p = 0; p < oh; ++p)
        for (int q = 0; q < ow; ++q) {
          float g = dy[((n * s.k + k) * oh + p) * ow + q];
          for (int c = 0; c < s.c; ++c)
            for (int i = 0; i < s.r; ++i)
              for (int j = 0; j < s.s; ++j) {
                int hi = p * s.stride_h + i - s.pad_h, wi = q * s.stride_w + j - s.pad_w;
                if (hi < 0 || hi >= s.h || wi < 0 || wi >= s.w) continue;
                dx[((n * s.c + c) * s.h + hi) * s.w + wi] +=
                    g * w[((k * s.c + c) * s.r + i) * s.s + j];
              }
        }
}

void conv2d_backward_weight_reference_cpu(const Conv2dShape& s, const float* x, const float* dy,
                                          float* dw, float* db) {
  // dw[k,c,i,j] = sum over images and output positions of dy * the input under that tap.
  const int oh = s.out_h(), ow = s.out_w();
  for (int k = 0; k < s.k; ++k) {
    for (int c = 0; c < s.c; ++c)
      for (int i = 0; i < s.r; ++i)
        for (int j = 0; j < s.s; ++j) {
          double acc = 0.0;
          for (int n = 0; n < s.n; ++n)
            for (int p = 0; p < oh; ++p)
              for (int q = 0; q < ow; ++q) {
                int hi = p * s.stride_h + i - s.pad_h, wi = q * s.stride_w + j - s.pad_w;
                if (hi < 0 || hi >= s.h || wi < 0 || wi >= s.w) continue;
                acc += double(dy[((n * s.k + k) * oh + p) * ow + q]) *
                       x[((n * s.c + c) * s.h + hi) * s.w + wi];
              }
          dw[((k * s.c + c) * s.r + i) * s.s + j] = float(acc);
        }
    if (db) {
      double acc = 0.0;
      for (int n = 0; n < s.n; ++n)
        for (int p = 0; p < oh * ow; ++p) acc += dy[(n * s.k + k) * oh * ow + p];
      db[k] = float(acc);
    }
  }
}

// ---------------------------------------------------------------- 2: im2col + GEMM
namespace {

// The outputs q in [*q0, *q1) whose tap lands inside an input row of `size` pixels:
// q * stride + offset in [0, size), offset = tap - padding. The others read padding (zero).
void inside_range(int offset, int stride, int size, int count, int* q0, int* q1) {
  *q0 = offset >= 0 ? 0 : std::min(count, (-offset + stride - 1) / stride);
  *q1 = size - 1 - offset < 0 ? 0 : std::min(count, (size - 1 - offset) / stride + 1);
  *q1 = std::max(*q1, *q0);
}

// col is (c*r*s, oh*ow): row (c,i,j) holds the input pixel under tap (i,j) of channel c for
// every output position — so the convolution becomes W (k, c*r*s) x col.
// Each output row is zeros, a run copied from one input row, zeros: the bounds are worked out
// once per run instead of tested per pixel (a plain copy when stride is 1; 2.4x faster for
// the first layer, whose 3 channels make im2col most of its time).
// in_parallel: split the channels over the threads (when one image is unfolded at a time;
// inside the per-image parallel loop each thread unfolds its own image alone).
void im2col(const Conv2dShape& s, const float* x, float* col, bool in_parallel = false) {
  const int oh = s.out_h(), ow = s.out_w();
#pragma omp parallel for schedule(static) if (in_parallel)
  for (int c = 0; c < s.c; ++c)
    for (int i = 0; i < s.r; ++i)
      for (int j = 0; j < s.s; ++j) {
        float* row = col + ((c * s.r + i) * s.s + j) * oh * ow;
        int q0, q1;
        inside_range(j - s.pad_w, s.stride_w, s.w, ow, &q0, &q1);
        for (int p = 0; p < oh; ++p) {
          float* out = row + p * ow;
          const int hi = p * s.stride_h + i - s.pad_h;
          if (hi < 0 || hi >= s.h) {
            std::fill(out, out + ow, 0.0f);
            continue;
          }
          const int base = (c * s.h + hi) * s.w + j - s.pad_w;  // pixel of q: x[base + q * stride_w]
          std::fill(out, out + q0, 0.0f);
          if (s.stride_w == 1)
            std::copy(x + (base + q0), x + (base + q1), out + q0);
          else
            for (int q = q0; q < q1; ++q) out[q] = x[base + q * s.stride_w];
          std::fill(out + q1, out + ow, 0.0f);
        }
      }
}

// The adjoint of im2col: adds every column entry back onto the pixel it came from.
void col2im(const Conv2dShape& s, const float* col, float* x) {
  const int oh = s.out_h(), ow = s.out_w();
  std::fill(x, x + s.c * s.h * s.w, 0.0f);
  for (int c = 0; c < s.c; ++c)
    for (int i = 0; i < s.r; ++i)
      for (int j = 0; j < s.s; ++j) {
        const float* row = col + ((c * s.r + i) * s.s + j) * oh * ow;
        int q0, q1;
        inside_range(j - s.pad_w, s.stride_w, s.w, ow, &q0, &q1);
        for (int p = 0; p < oh; ++p) {
          const int hi = p * s.stride_h + i - s.pad_h;
          if (hi < 0 || hi >= s.h) continue;
          const float* in = row + p * ow;
          const int base = (c * s.h + hi) * s.w + j - s.pad_w;  // pixel of q: x[base + q * stride_w]
          for (int q = q0; q < q1; ++q) x[base + q * s.stride_w] += in[q];
        }
      }
}

// Per-thread scratch that grows to the largest layer once and is then reused, so steady-state
// training steps do not allocate. It holds one image's col (C*R*S x OH*OW floats), never the
// whole batch's: 29 MB for a 3x3 conv of 256 channels at 56x56, whatever the batch size.
// Slot 0 holds col, slot 1 the weight gradient's private sums: kept apart so that growing
// one never copies the other (a resize briefly holds the old and the new buffer).
float* scratch(size_t count, int slot = 0) {
  thread_local std::vector<float> buf[2];
  if (buf[slot].size() < count) buf[slot].resize(count);
  return buf[slot].data();
}

// A 1x1 kernel with stride 1 and no padding: col would be a copy of the image itself
// (C x H*W), so the GEMMs read x (and write dx) directly.
int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

bool pointwise(const Conv2dShape& s) {
  return s.r == 1 && s.s == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_h == 0 && s.pad_w == 0;
}

// The output pass over columns [p0, p1) of y_n (k rows, P apart): + b[k], then the fused ReLU
// (docs/fused_epilogues.md) while the values are still in cache, instead of a second pass
// over the whole activation later. Same formula as kernels/cpu/relu.cpp: NaN and -0 kept.
void epilogue(int k_count, int P, int p0, int p1, const float* b, bool relu, float* yn) {
  if (!b && !relu) return;
  for (int k = 0; k < k_count; ++k) {
    const float bk = b ? b[k] : 0.0f;
    float* row = yn + int64_t(k) * P;
    if (relu)
      for (int p = p0; p < p1; ++p) {
        const float v = b ? row[p] + bk : row[p];
        row[p] = v < 0.0f ? 0.0f : v;
      }
    else
      for (int p = p0; p < p1; ++p) row[p] += bk;
  }
}

}  // namespace

void conv2d_forward_cpu(const Conv2dShape& s, const float* x, const float* w, const float* b,
                        float* y, bool relu) {
  const int P = s.out_h() * s.out_w(), CRS = s.c * s.r * s.s;
  const bool direct = pointwise(s);
  if (s.n < max_threads()) {
    // Fewer images than threads (inference at batch 1): one image at a time, its GEMM split
    // by columns (output pixels) over the threads: y_n[:, p0:p1] = W * col[:, p0:p1].
    const int threads = max_threads();
    const int block = ((P + threads - 1) / threads + 15) / 16 * 16;  // whole 16-float groups
    for (int n = 0; n < s.n; ++n) {
      const float* xn = x + int64_t(n) * s.c * s.h * s.w;
      const float* col = xn;
      if (!direct) {
        float* buf = scratch(size_t(CRS) * P);
        im2col(s, xn, buf, /*in_parallel=*/true);
        col = buf;
      }
      float* yn = y + int64_t(n) * s.k * P;
#pragma omp parallel for schedule(static)
      for (int p0 = 0; p0 < P; p0 += block) {
        const int cols = std::min(block, P - p0);
        gemm_cpu(false, false, s.k, cols, CRS, 1.0f, w, CRS, col + p0, P, 0.0f, yn + p0, P);
        epilogue(s.k, P, p0, p0 + cols, b, relu, yn);
      }
    }
    return;
  }
  // One image per thread: im2col into thread-local scratch, then GEMM y_n = W * col.
#pragma omp parallel for schedule(static)
  for (int n = 0; n < s.n; ++n) {
    const float* xn = x + int64_t(n) * s.c * s.h * s.w;
    const float* col = xn;
    if (!direct) {
      float* buf = scratch(size_t(CRS) * P);
      im2col(s, xn, buf);
      col = buf;
    }
    float* yn = y + int64_t(n) * s.k * P;
    gemm_cpu(false, false, s.k, P, CRS, 1.0f, w, CRS, col, P, 0.0f, yn, P);
    epilogue(s.k, P, 0, P, b, relu, yn);
  }
}

void conv2d_backward_input_cpu(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  const int P = s.out_h() * s.out_w(), CRS = s.c * s.r * s.s;
  const bool direct = pointwise(s);
  // dcol = W^T (crs, k) x dy_n (k, P); then col2im folds the patches back onto the image.
#pragma omp parallel for schedule(static)
  for (int n = 0; n < s.n; ++n) {
    float* dxn = dx + int64_t(n) * s.c * s.h * s.w;
    float* dcol = direct ? dxn : scratch(size_t(CRS) * P);
    gemm_cpu(true, false, CRS, P, s.k, 1.0f, w, CRS, dy + int64_t(n) * s.k * P, P, 0.0f, dcol, P);
    if (!direct) col2im(s, dcol, dxn);
  }
}

void conv2d_backward_weight_cpu(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                float* db) {
  const int P = s.out_h() * s.out_w(), CRS = s.c * s.r * s.s;
  const int64_t wsize = int64_t(s.k) * CRS;
  const bool direct = pointwise(s);
  // Each thread sums dW over its own images (dy_n (k,P) x col^T (P,crs)) into a private
  // buffer; the buffers are then added in thread order, so results repeat run to run.
  std::fill(dw, dw + wsize, 0.0f);
  if (db) std::fill(db, db + s.k, 0.0f);
#pragma omp parallel
  {
    float* buf = direct ? nullptr : scratch(size_t(CRS) * P);
    float* dw_local = scratch(size_t(wsize) + s.k, 1);
    float* db_local = dw_local + wsize;
    std::fill(dw_local, dw_local + wsize + s.k, 0.0f);
#pragma omp for schedule(static)
    for (int n = 0; n < s.n; ++n) {
      const float* xn = x + int64_t(n) * s.c * s.h * s.w;
      const float* col = xn;
      if (!direct) {
        im2col(s, xn, buf);
        col = buf;
      }
      const float* dyn = dy + int64_t(n) * s.k * P;
      gemm_cpu(false, true, s.k, CRS, P, 1.0f, dyn, P, col, P, 1.0f, dw_local, CRS);
      for (int k = 0; k < s.k; ++k) {
        float acc = 0.0f;
        for (int p = 0; p < P; ++p) acc += dyn[k * P + p];
        db_local[k] += acc;
      }
    }
    // schedule(static, 1) with one iteration per thread: thread t runs iteration t, and
    // `ordered` makes the additions happen in thread order 0, 1, 2...
    const int threads = team_size();
#pragma omp for ordered schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
#pragma omp ordered
      {
        for (int64_t i = 0; i < wsize; ++i) dw[i] += dw_local[i];
        if (db)
          for (int k = 0; k < s.k; ++k) db[k] += db_local[k];
      }
    }
  }
}

}  // namespace dlcraft
