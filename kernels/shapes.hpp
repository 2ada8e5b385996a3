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

// x is (n, c, h, w), weight is (k, c, r, s), y is (n, k, out_h, out_w). Stride and zero
// padding are per side (torch's tuples): rows use stride_h/pad_h, columns stride_w/pad_w.
struct Conv2dShape {
  int n, c, h, w;  // input
  int k, r, s;     // output channels, kernel height, kernel width
  int stride_h, stride_w, pad_h, pad_w;
  DLCRAFT_HOST_DEVICE int out_h() const { return (h + 2 * pad_h - r) / stride_h + 1; }
  DLCRAFT_HOST_DEVICE int out_w() const { return (w + 2 * pad_w - s) / stride_w + 1; }
};

// x is (n, in), weight is (out, in) as in PyTorch, y is (n, out).
struct LinearShape {
  int n, in, out;
};

// x is (n, c, h, w), y is (n, c, out_h, out_w); windows of kernel_h x kernel_w, stride_h /
// stride_w apart, over the input padded by pad_h rows and pad_w columns on each side. The
// window of output (p, q) starts at input row p*stride_h - pad_h, column q*stride_w - pad_w.
struct Pool2dShape {
  int n, c, h, w;
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  DLCRAFT_HOST_DEVICE int out_h() const { return (h + 2 * pad_h - kernel_h) / stride_h + 1; }
  DLCRAFT_HOST_DEVICE int out_w() const { return (w + 2 * pad_w - kernel_w) / stride_w + 1; }
};

// x is (n, c, h, w), y is (n, c, out_h, out_w): output row i averages input rows
// [floor(i*h/out_h), ceil((i+1)*h/out_h)), and the same for columns (torch's adaptive windows).
struct AdaptivePool2dShape {
  int n, c, h, w, out_h, out_w;
  // 64-bit products: i*h stays exact for any sizes.
  DLCRAFT_HOST_DEVICE static int start(int i, int in, int out) { return int(int64_t(i) * in / out); }
  DLCRAFT_HOST_DEVICE static int end(int i, int in, int out) {
    return int((int64_t(i + 1) * in + out - 1) / out);
  }
};

// Hyper-parameters of one Adam step (PyTorch semantics; see docs/adam.md).
struct AdamStep {
  float lr, beta1, beta2, eps, weight_decay;
  int64_t step;  // 1 for the first step: used for bias correction
  // AdamW (decoupled weight decay): p *= 1 - lr * weight_decay before the update, and the
  // gradient is left alone. false: Adam's L2, weight_decay * p added to the gradient.
  bool decoupled_weight_decay = false;
};

// AdamW's factor 1 - lr * weight_decay, in double then rounded once (torch passes it to mul_
// as a Python float); the CPU and CUDA kernels both use it.
inline float adamw_decay(const AdamStep& h) { return float(1.0 - double(h.lr) * double(h.weight_decay)); }

struct SgdStep {
  float lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first_step;  // the momentum buffer starts as the gradient itself
};

// ---- The general tensor library's index helpers (docs/broadcasting.md) ----
// Tensors are contiguous and row-major: element (i0, i1, ..., i_{r-1}) of a tensor of sizes
// (d0, ..., d_{r-1}) sits at i0*s0 + ... + i_{r-1}*s_{r-1}, with s_{r-1} = 1 and
// s_k = s_{k+1} * d_{k+1} (the NCHW index is the case r = 4; docs/nchw_index.md).
constexpr int kMaxDims = 8;

// Walks `sizes` in row-major order and reads memory with `strides`: offset(i) is where the
// i-th element of that walk lives. A stride of 0 repeats the same element along a dimension:
// that is how a broadcast operand of size 1 is read once per output element.
struct StridedIndex {
  int rank = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
  DLCRAFT_HOST_DEVICE int64_t count() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d) n *= sizes[d];
    return n;
  }
  DLCRAFT_HOST_DEVICE int64_t offset(int64_t i) const {
    int64_t off = 0;
    for (int d = rank - 1; d >= 0; --d) {
      off += (i % sizes[d]) * strides[d];
      i /= sizes[d];
    }
    return off;
  }
};

// Merges adjacent dimensions that one stride can walk (stride[d] == stride[d+1] * size[d+1])
// and drops dimensions of size 1, so offset(i) is unchanged for every i but costs fewer
// div/mods (a contiguous tensor becomes rank 1, a broadcast row rank 2). An index with a
// dimension of size 0 is left alone (it walks nothing). Only valid for an index used on its
// own: indices walked together (a binary op's operands) must be merged together.
DLCRAFT_HOST_DEVICE inline void coalesce(StridedIndex& ix) {
  for (int d = 0; d < ix.rank; ++d)
    if (ix.sizes[d] == 0) return;
  int r = 0;
  for (int d = 0; d < ix.rank; ++d) {
    if (ix.sizes[d] == 1) continue;
    if (r > 0 && ix.strides[r - 1] == ix.strides[d] * ix.sizes[d]) {
      ix.sizes[r - 1] *= ix.sizes[d];
      ix.strides[r - 1] = ix.strides[d];
    } else {
      ix.sizes[r] = ix.sizes[d];
      ix.strides[r] = ix.strides[d];
      ++r;
    }
  }
  for (int d = r; d < ix.rank; ++d) ix.sizes[d] = ix.strides[d] = 0;
  ix.rank = r;
}

// A reduction of x over some of its dimensions: output element o reads the inputs
// x[outer.offset(o) + inner.offset(r)] for r in [0, inner.count()). `outer` walks the kept
// dimensions, `inner` the reduced ones, both with x's strides. core/reduce_shape.cpp makes it.
struct ReduceShape {
  StridedIndex outer, inner;
};

// ---- batch_norm (kernels/cpu/batch_norm.cpp, kernels/cuda/batch_norm.cu) ----
// x (N,C), (N,C,L) or (N,C,H,W) read as (n, c, inner): inner = L or H*W (1 for 2-D input).
// Channel ch holds the n * inner elements x[(i * c + ch) * inner + j].
struct BatchNormShape {
  int64_t n, c, inner;
  DLCRAFT_HOST_DEVICE int64_t per_channel() const { return n * inner; }
  DLCRAFT_HOST_DEVICE int64_t count() const { return n * c * inner; }
};

}  // namespace dlcraft
