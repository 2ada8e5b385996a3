// linear (fully connected) on the CPU. See docs/linear.md.
//   1: reference — the dot products written out;
//   2: GEMM — the same sums as three matrix products (kernels/cpu/gemm.cpp).
// x is (n, in), w is (out, in), b is (out), y is (n, out).
#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

void linear_forward_reference_cpu(const LinearShape& s, const float* x, const float* w,
                                  const float* b, float* y, bool relu) {
  for (int n = 0; n < s.n; ++n)
    for (int o = 0; o < s.out; ++o) {
      double acc = b ? b[o] : 0.0;  // y[n,o] = b[o] + sum_i x[n,i] w[o,i]
      for (int i = 0; i < s.in; ++i) acc += double(x[n * s.in + i]) * w[o * s.in + i];
      const float v = float(acc);
      y[n * s.out + o] = relu && v < 0.0f ? 0.0f : v;  // the fused ReLU (relu.cpp's formula)
    }
}

void linear_backward_reference_cpu(const LinearShape& s, const float* x, const float* w,
                                   const float* dy, float* dx, float* dw, float* db) {
  if (dx)  // dx[n,i] = sum_o dy[n,o] w[o,i]
    for (int n = 0; n < s.n; ++n)
      for (int i = 0; i < s.in; ++i) {
        double acc = 0.0;
        for (int o = 0; o < s.out; ++o) acc += double(dy[n * s.out + o]) * w[o * s.in + i];
        dx[n * s.in + i] = float(acc);
      }
  if (dw)  // dw[o,i] = sum_n dy[n,o] x[n,i]
    for (int o = 0; o < s.out; ++o)
      for (int i = 0; i < s.in; ++i) {
        double acc = 0.0;
        for (int n = 0; n < s.n; ++n) acc += double(dy[n * s.out + o]) * x[n * s.in + i];
        dw[o * s.in + i] = float(acc);
      }
  if (db)  // db[o] = sum_n dy[n,o]
    for (int o = 0; o < s.out; ++o) {
      double acc = 0.0;
      for (int n = 0; n < s.n; ++n) acc += dy[n * s.out + o];
      db[o] = float(acc);
    }
}

void linear_forward_cpu(const LinearShape& s, const float* x, const float* w, const float* b,
                        float* y, bool relu) {
  // y = x W^T, then the bias on every row, and the fused ReLU in the same pass
  // (docs/fused_epilogues.md; relu.cpp's formula: NaN and -0 kept).
  gemm_cpu(false, true, s.n, s.out, s.in, 1.0f, x, s.in, w, s.in, 0.0f, y, s.out);
  if (!b && !relu) return;
  for (int n = 0; n < s.n; ++n)
    for (int o = 0; o < s.out; ++o) {
      const float v = b ? y[n * s.out + o] + b[o] : y[n * s.out + o];
      y[n * s.out + o] = relu && v < 0.0f ? 0.0f : v;
    }
}

void linear_backward_cpu(const LinearShape& s, const float* x, const float* w, const float* dy,
                         float* dx, float* dw, float* db) {
  if (dx) gemm_cpu(false, false, s.n, s.in, s.out, 1.0f, dy, s.out, w, s.in, 0.0f, dx, s.in);
  if (dw) gemm_cpu(true, false, s.out, s.in, s.n, 1.0f, dy, s.out, x, s.in, 0.0f, dw, s.in);
  if (db)
    for (int o = 0; o < s.out; ++o) {
      float acc = 0.0f;
      for (int n = 0; n < s.n; ++n) acc += dy[n * s.out + o];
      db[o] = acc;
    }
}

}  // namespace dlcraft
