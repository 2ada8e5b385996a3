// The differentiable ops. Each takes and returns Tensors, checks shapes and devices, runs the
// kernel for the tensor's device (kernels/cpu or kernels/cuda) and records its backward.
// `who` names the caller in shape errors, e.g. "fc1 (Linear)".
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace dlcraft {

// Which CPU kernels run: the fast ones (im2col + GEMM) or the reference loops students read.
enum class CpuKernels { Fast, Reference };
void set_cpu_kernels(CpuKernels k);
CpuKernels cpu_kernels();

// Which GPU kernels run: ours (kernels/cuda/*.cu) or the vendor libraries (cuDNN for conv,
// cuBLAS for linear) where the build found them; Vendor without them throws DeviceError.
enum class CudaKernels { Ours, Vendor };
void set_cuda_kernels(CudaKernels k);
CudaKernels cuda_kernels();

// A (height, width) pair; a single int means both, as torch's "int or tuple" arguments.
struct Size2 {
  int h = 0, w = 0;
  Size2() = default;
  Size2(int v) : h(v), w(v) {}  // NOLINT: implicit on purpose (conv2d(x, w, b, 2, 1))
  Size2(int h_, int w_) : h(h_), w(w_) {}
  bool operator==(const Size2& o) const { return h == o.h && w == o.w; }
};

// Which algorithm a CPU conv2d runs with the fast kernels (docs/winograd.md): im2col + GEMM, or
// Winograd F(2x2,3x3) / F(4x4,3x3), which only 3x3 kernels with stride 1 can use (others run
// im2col whatever is set).
// - Auto (the default) picks by the layer's shape, the same way every run: im2col below 16 input
//   channels (too little to gain from Winograd's transforms) or with fewer than 64 output
//   tiles in the batch (too few for Winograd's per-block GEMMs); else F(4x4) on outputs of
//   8x8 or more, F(2x2) on smaller ones (F(4x4)'s few tiles there are mostly padding). The rule comes from timing
//   all three passes of each algorithm on many shapes (docs/winograd.md, "Which one runs").
// - Benchmark times forward and both backward passes of each eligible algorithm the first time
//   a layer shape is seen and keeps the fastest, as torch's cudnn.benchmark does: faster where
//   the rule is wrong for a machine, but a pick by timing can differ run to run.
// The backward runs the algorithm its forward ran. Setting any value forgets Benchmark's picks.
enum class ConvAlgorithm { Auto, Im2col, Winograd2, Winograd4, Benchmark };
void set_conv_algorithm(ConvAlgorithm a);
ConvAlgorithm conv_algorithm();
// What a CPU conv2d of x (N,C,H,W) and weight (K,C,R,S) with this stride and padding runs now
// (never Auto or Benchmark: their pick, timed here if Benchmark sees the shape first).
ConvAlgorithm conv_algorithm_for(const Shape& x, const Shape& weight, Size2 stride, Size2 padding);

// x (N,C,H,W), weight (K,C,R,S), bias (K) or undefined -> (N,K,OH,OW) with
// OH = (H + 2*padding.h - R) / stride.h + 1 (and the same with w, S for OW).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride = 1,
              Size2 padding = 0, const std::string& who = "conv2d");
// x (N,in), weight (out,in), bias (out) or undefined -> (N,out)
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const std::string& who = "linear");
Tensor relu(const Tensor& x);
// (N,C,H,W) -> (N,C,(H+2p-k)/s+1,(W+2p-k)/s+1) per side; stride 0 means stride = kernel.
// Padding (at most half the kernel, as torch) is -inf for max (never picked) and counts as
// zeros in avg's divisor (torch's count_include_pad=True). No ceil_mode.
Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride = 0, Size2 padding = 0,
                  const std::string& who = "max_pool2d");
Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride = 0, Size2 padding = 0,
                  const std::string& who = "avg_pool2d");
// (N,C,H,W) -> (N,C,out.h,out.w): output cell i averages input rows floor(i*H/out.h) up to
// ceil((i+1)*H/out.h) (torch's adaptive windows; the same for columns), any H >= 1.
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size,
                           const std::string& who = "adaptive_avg_pool2d");

// Fused epilogues (core/ops/fused_epilogues.cpp, docs/fused_epilogues.md): the same values and
// gradients as the compositions, with one pass over the activations fewer each.
// conv2d_relu = relu(conv2d(...)) and linear_relu = relu(linear(...)): bias and ReLU in the
// output pass; backward masks dy by y > 0 from the saved output.
Tensor conv2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride = 1,
                   Size2 padding = 0, const std::string& who = "conv2d_relu");
Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                   const std::string& who = "linear_relu");
// relu_max_pool2d = max_pool2d(relu(x)), bitwise: pools x, then ReLU on the smaller output.
Tensor relu_max_pool2d(const Tensor& x, Size2 kernel, Size2 stride = 0, Size2 padding = 0,
                       const std::string& who = "relu_max_pool2d");

// Batch normalisation over dim 1 of x (N,C), (N,C,L) or (N,C,H,W) (core/ops/batch_norm.cpp):
//   y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c
// training: mean/var are the batch's (over N and the spatial dims; var biased), and the
// running statistics, when defined, are updated in place:
//   running = (1 - momentum) * running + momentum * stat   (running_var gets the unbiased var)
// not training: running_mean/running_var are used (they must be defined). weight and bias (C)
// may be undefined (affine=False). Differentiable in x, weight, bias (training and eval).
// Needs more than one value per channel in training (torch's error otherwise).
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5, const std::string& who = "batch_norm");

// Dropout (core/ops/dropout.cpp): in training, each element is zeroed with probability p and
// the rest scaled by 1/(1-p) (the mask drawn on the host from `gen`, or the default generator
// when null, so CPU and GPU drop the same elements for the same seed); identity otherwise.
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr,
               const std::string& who = "dropout");
// Same data, new shape; one dimension may be -1 (inferred).
Tensor reshape(const Tensor& x, Shape shape);
// (N, d1, d2, ...) -> (N, d1*d2*...)
Tensor flatten(const Tensor& x, int start_dim = 1);
// a + b, broadcasting (core/ops/binary.cpp; same shapes take the residual join's fast path).
Tensor add(const Tensor& a, const Tensor& b);
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }

// Mean softmax cross-entropy of logits (N,classes) against labels in [0, classes).
Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& labels);

// Index of the largest logit in each row (host result).
std::vector<int32_t> argmax_rows(const Tensor& logits);
// How many rows have their largest logit at the label.
int64_t count_correct(const Tensor& logits, const std::vector<int32_t>& labels);

// ---- broadcasting and reductions (core/ops/expand.cpp, core/ops/sum.cpp) ----
// x read as the broadcast shape `shape` (a copy: tensors stay contiguous); -1 keeps x's size.
Tensor expand(const Tensor& x, const Shape& shape);
// Sum over `dims` (all when empty), dropping them or keeping them as size 1.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor sum(const Tensor& x, int64_t dim, bool keepdim = false);
// Sums a broadcast result back down to `shape` (the gradient of broadcasting): the leading
// dimensions x has beyond `shape` and the ones where `shape` has 1.
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- element-wise math (core/ops/binary.cpp, unary.cpp, compare.cpp, cast.cpp) ----
// Binary ops broadcast their operands as NumPy/PyTorch do (core/broadcast.hpp) and take
// float32 tensors; the gradient of a broadcast operand is summed back to its shape (sum_to).
// add(a, b) above is the same op.
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // the gradient goes to the larger (half each on a tie, as torch)
Tensor minimum(const Tensor& a, const Tensor& b);
// Scalar forms (the scalar is not a tensor and gets no gradient).
Tensor add(const Tensor& a, double b);
Tensor sub(const Tensor& a, double b);
Tensor rsub(const Tensor& a, double b);  // b - a
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, double b);
Tensor rdiv(const Tensor& a, double b);  // b / a
Tensor pow(const Tensor& a, double exponent);
Tensor neg(const Tensor& x);
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
inline Tensor operator-(double a, const Tensor& b) { return rsub(b, a); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(const Tensor& a, double b) { return div(a, b); }
inline Tensor operator/(double a, const Tensor& b) { return rdiv(b, a); }

// Comparisons: bool tensors (no gradient), broadcasting; float32 or int64 operands.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
// cond ? a : b element-wise, all three broadcast; cond is bool. Gradients go to the chosen side.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Unary (float32).
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
// GELU: x * Phi(x) with the exact erf form, or torch's approximate='tanh' form.
Tensor gelu(const Tensor& x, bool tanh_approximation = false);
// Clamped into [min, max]; -INFINITY / INFINITY for no bound. Gradient 1 inside, 0 outside.
Tensor clamp(const Tensor& x, double min, double max);

// A copy converted to another dtype (float32 <-> int64 <-> bool; float to int truncates toward
// zero as torch does). Also Tensor::to(DType).
Tensor cast(const Tensor& x, DType dtype);

// ---- reductions beyond sum, softmax, losses (core/ops/reduce_ops.cpp, softmax.cpp, losses.cpp) ----
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, int64_t dim, bool keepdim = false);
// Values and int64 indices along a dimension, as torch.max(x, dim) returns them. The gradient
// goes to the element at the index (the first of equal maxima).
struct ValuesIndices {
  Tensor values, indices;
};
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // of all elements (0-d)
Tensor min(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // int64
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x);  // flat index of the largest element (0-d int64), as torch
// Variance and standard deviation with Bessel's correction by default (correction = 1). The
// divisor is max(0, count - correction), as torch: 0 gives inf (NaN where all deviations are 0).
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, int64_t correction = 1,
           bool keepdim = false);
Tensor std(const Tensor& x, const std::vector<int64_t>& dims = {}, int64_t correction = 1,
           bool keepdim = false);
// Differentiable softmax / log-softmax over a dimension.
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);
Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim = false);

enum class Reduction { None, Mean, Sum };
// input and target of the same shape (float32).
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
// probs in [0, 1] (ArgumentError otherwise, checked for CPU tensors only); log clamped at -100
// as torch does.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target,
                            Reduction reduction = Reduction::Mean);
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::Mean);
// log_probs / logits (N, C), target int64 (N) with classes in [0, C) (ArgumentError otherwise).
// label_smoothing in [0, 1], torch's definition. docs/losses.md.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::Mean,
                     double label_smoothing = 0.0);

// ---- matmul, views and indexing (core/ops/matmul.cpp, views.cpp, indexing.cpp) ----
// torch.matmul: 1-D x 1-D dot, 2-D x 2-D, 1-D promoted to a matrix and the added dimension
// removed after, batch dimensions broadcast ([j,1,n,m] x [k,m,p] -> [j,k,n,p]).
Tensor matmul(const Tensor& a, const Tensor& b);
// Tensors stay contiguous: transpose/permute/narrow/slice/select return copies, not views.
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor view(const Tensor& x, Shape shape);  // reshape: the same memory
Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim);
Tensor squeeze(const Tensor& x);                // every size-1 dimension
Tensor squeeze(const Tensor& x, int64_t dim);   // that one, if it has size 1
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor contiguous(const Tensor& x);             // x itself: every tensor is contiguous
// Joins along an existing dimension / along a new one. Any dtype; all the same.
Tensor cat(const std::vector<Tensor>& xs, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim = 0);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// Python slicing x[start:end:step] along dim: negative start/end count from the end and are
// clamped to the size, as in Python. step >= 1.
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor select(const Tensor& x, int64_t dim, int64_t index);  // x[..., index, ...]: drops dim
// index: int64, 1-D; rows (along dim) picked in that order, repeats allowed.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and so on): index int64, same rank as x.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

// Whether every element is finite: no NaN, no ±Inf (no grad; one pass on the tensor's device).
bool all_finite(const Tensor& x);
// The index of the first tensor in xs holding a NaN or ±Inf, or -1 when all are finite
// (undefined tensors are skipped). One pass per tensor on its device; GPU tensors share one
// copy back, so checking all of a model's parameters costs one synchronisation.
int64_t first_nonfinite(const std::vector<Tensor>& xs);

// first_nonfinite in two halves, so the check rides on a wait the caller makes anyway: start
// queues the GPU kernels (CPU tensors are checked at once) and returns; result() copies the
// flags back. Between the two, anything that waits for the stream (loss.item(), a count read
// back) also waits for the flags, so result() finds them ready. (train/training.cpp)
class NonfiniteCheck {
 public:
  explicit NonfiniteCheck(const std::vector<Tensor>& xs);
  int64_t result();  // as first_nonfinite(xs)

 private:
  int64_t first_cpu_ = -1;
  std::vector<int64_t> on_gpu_;        // indices into xs of the GPU tensors
  std::shared_ptr<class Buffer> flags_;  // one int32 per GPU tensor, on their device
};

}  // namespace dlcraft
