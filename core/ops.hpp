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

// x (N,C,H,W), weight (K,C,R,S), bias (K) or undefined -> (N,K,OH,OW)
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int stride = 1,
              int padding = 0, const std::string& who = "conv2d");
// x (N,in), weight (out,in), bias (out) or undefined -> (N,out)
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const std::string& who = "linear");
Tensor relu(const Tensor& x);
// (N,C,H,W) -> (N,C,(H-k)/s+1,(W-k)/s+1); stride 0 means stride = kernel
Tensor max_pool2d(const Tensor& x, int kernel, int stride = 0, const std::string& who = "max_pool2d");
Tensor avg_pool2d(const Tensor& x, int kernel, int stride = 0, const std::string& who = "avg_pool2d");
// Same data, new shape; one dimension may be -1 (inferred).
Tensor reshape(const Tensor& x, Shape shape);
// (N, d1, d2, ...) -> (N, d1*d2*...)
Tensor flatten(const Tensor& x, int start_dim = 1);
Tensor add(const Tensor& a, const Tensor& b);
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }

// Mean softmax cross-entropy of logits (N,classes) against labels in [0, classes).
Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& labels);

// Index of the largest logit in each row (host result).
std::vector<int32_t> argmax(const Tensor& logits);
// How many rows have their largest logit at the label.
int64_t count_correct(const Tensor& logits, const std::vector<int32_t>& labels);
// Row-wise softmax probabilities (no grad), e.g. for predict's top-5.
Tensor softmax(const Tensor& logits);

// Whether every element is finite: no NaN, no ±Inf (no grad; one pass on the tensor's device).
bool all_finite(const Tensor& x);
// The index of the first tensor in xs holding a NaN or ±Inf, or -1 when all are finite
// (undefined tensors are skipped). One pass per tensor on its device; GPU tensors share one
// copy back, so checking all of a model's parameters costs one synchronisation.
int64_t first_nonfinite(const std::vector<Tensor>& xs);

// first_nonfinite in two halves, so the check rides on a wait the caller makes anyway: start
// queues the GPU kernels (CPU tensors are checked at once) and returns; result() copies the
// flags back. Between the two, anything that waits for the stream (loss.item(), a count read
// back) also waits for the flags, so result() finds them ready. (apps/training.cpp)
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
