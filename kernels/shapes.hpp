// Small parameter structs that carry an op's shape to its kernels (CPU and CUDA alike),
// instead of long lists of ints.
#pragma once
#include <cstdint>

// The size helpers are callable from CUDA kernels too.
#ifdef __CUDACC__
#define DLCRAFT_HOST_DEVICE __host__ __device__
#else
#define DLCRAFT_HOST_DEVICE
#endif

namespace dlcraft {

// x is (n, c, h, w), weight is (k, c, r, s), y is (n, k, out_h, out_w).
struct Conv2dShape {
  int n, c, h, w;  // input
  int k, r, s;     // output channels, kernel height, kernel width
  int stride, pad;
  DLCRAFT_HOST_DEVICE int out_h() const { return (h + 2 * pad - r) / stride + 1; }
  DLCRAFT_HOST_DEVICE int out_w() const { return (w + 2 * pad - s) / stride + 1; }
};

// x is (n, in), weight is (out, in) as in PyTorch, y is (n, out).
struct LinearShape {
  int n, in, out;
};

// x is (n, c, h, w), y is (n, c, out_h, out_w); windows of kernel x kernel, no padding.
struct Pool2dShape {
  int n, c, h, w;
  int kernel, stride;
  DLCRAFT_HOST_DEVICE int out_h() const { return (h - kernel) / stride + 1; }
  DLCRAFT_HOST_DEVICE int out_w() const { return (w - kernel) / stride + 1; }
};

// Hyper-parameters of one Adam step (PyTorch semantics; see docs/adam.md).
struct AdamStep {
  float lr, beta1, beta2, eps, weight_decay;
  int64_t step;  // 1 for the first step: used for bias correction
};

struct SgdStep {
  float lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first_step;  // the momentum buffer starts as the gradient itself
};

}  // namespace dlcraft
