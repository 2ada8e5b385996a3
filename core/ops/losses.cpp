// The losses (손실 함수) as torch.nn.functional has them, with reduction None / Mean / Sum:
// mse_loss, l1_loss, binary_cross_entropy, binary_cross_entropy_with_logits, nll_loss and
// cross_entropy (int64 targets, label smoothing). Each is one fused kernel per element (or
// row), then a reduce_sum / reduce_mean for Mean and Sum; the backward is one fused kernel
// that reads the loss's gradient per element (None) or once (Mean/Sum: stride 0, times 1/n for
// Mean). Unlike torch, input and target must have the same shape (torch broadcasts with a
// warning). Kernels: kernels/cpu/losses.cpp, kernels/cuda/losses.cu; docs/losses.md.
#include <cmath>

#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

void check_dtype(const Tensor& t, DType want, const std::string& who, const char* what) {
  check_defined(t, who, what);
  if (t.dtype() != want)
    throw DTypeError(who + ": " + what + " must be " + to_string(want) + ", got " + to_string(t.dtype()));
}

// The per-element losses reduced to the op's result (0-d for Mean and Sum, as torch).
Tensor reduce_losses(const Tensor& elems, Reduction reduction) {
  if (reduction == Reduction::None) return elems;
  std::vector<int64_t> all;
  for (int64_t d = 0; d < elems.dim(); ++d) all.push_back(d);
  const ReduceShape rs = reduce_shape(elems.shape(), all);
  Tensor out = Tensor::empty({}, elems.device());
  const bool mean = reduction == Reduction::Mean;
  if (elems.device().is_cuda())
    (mean ? reduce_mean_cuda : reduce_sum_cuda)(rs, elems.data(), out.data());
  else
    (mean ? reduce_mean_cpu : reduce_sum_cpu)(rs, elems.data(), out.data());
  return out;
}

// How the backward reads the loss's gradient: per element, or one value for all.
int64_t grad_stride(Reduction r) { return r == Reduction::None ? 1 : 0; }
float grad_scale(Reduction r, int64_t n) { return r == Reduction::Mean && n > 0 ? 1.0f / float(n) : 1.0f; }

using PointForward = void (*)(int64_t, const float*, const float*, float*);
using PointBackward = void (*)(int64_t, const float*, const float*, const float*, int64_t, float,
                               float*, float*);
struct PointKernels {
  PointForward forward_cpu, forward_cuda;
  PointBackward backward_cpu, backward_cuda;
};

// A loss computed element by element from input and target of the same shape; gradients to
// both (the target's only when it requires grad).
Tensor point_loss(const std::string& who, const PointKernels& k, const Tensor& input,
                  const Tensor& target, Reduction reduction) {
  check_dtype(input, DType::Float32, who, "input");
  check_dtype(target, DType::Float32, who, "target");
  check_same_device({input, target}, who);
  if (input.shape() != target.shape())
    throw ShapeError(who + ": input " + to_string(input.shape()) + " vs target " +
                     to_string(target.shape()) + " (they must have the same shape)");
  const int64_t n = input.numel();
  Tensor elems = Tensor::empty(input.shape(), input.device());
  (input.device().is_cuda() ? k.forward_cuda : k.forward_cpu)(n, input.data(), target.data(), elems.data());
  Tensor out = reduce_losses(elems, reduction);
  const SavedTensor saved_input(input), saved_target(target);
  return record(out, who, {input, target},
                [input, target, saved_input, saved_target, k, n, reduction, who](const Tensor& dl) {
    const Tensor& x = saved_input.get(who);
    const Tensor& t = saved_target.get(who);
    Tensor dx, dt;
    if (input.requires_grad()) dx = Tensor::empty(x.shape(), dl.device());
    if (target.requires_grad()) dt = Tensor::empty(t.shape(), dl.device());
    (dl.device().is_cuda() ? k.backward_cuda : k.backward_cpu)(
        n, x.data(), t.data(), dl.data(), grad_stride(reduction), grad_scale(reduction, n),
        dx.defined() ? dx.data() : nullptr, dt.defined() ? dt.data() : nullptr);
    if (dx.defined()) accumulate_grad(input, dx);
    if (dt.defined()) accumulate_grad(target, dt);
  });
}

// (N, C) float input and an int64 target (N) of classes in [0, C): checked on the host.
void check_class_target(const Tensor& input, const Tensor& target, const std::string& who,
                        const char* input_name) {
  check_dtype(input, DType::Float32, who, input_name);
  check_dtype(target, DType::Int64, who, "target");
  check_same_device({input, target}, who);
  if (input.dim() != 2)
    throw ShapeError(who + ": " + input_name + " must be (N, C), got " + to_string(input.shape()));
  if (target.dim() != 1 || target.size(0) != input.size(0))
    throw ShapeError(who + ": " + input_name + " " + to_string(input.shape()) + " vs target " +
                     to_string(target.shape()) + " (the target must be (N))");
  const int64_t classes = input.size(1);
  const std::vector<int64_t> t = target.values_as<int64_t>();  // copied back from the GPU too
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i] < 0 || t[i] >= classes)
      throw ArgumentError(who + ": target " + std::to_string(t[i]) + " at index " + std::to_string(i) +
                          " is outside [0, " + std::to_string(classes) + ")");
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  static const PointKernels k{mse_loss_forward_cpu, mse_loss_forward_cuda, mse_loss_backward_cpu,
                              mse_loss_backward_cuda};
  return point_loss("mse_loss", k, input, target, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  static const PointKernels k{l1_loss_forward_cpu, l1_loss_forward_cuda, l1_loss_backward_cpu,
                              l1_loss_backward_cuda};
  return point_loss("l1_loss", k, input, target, reduction);
}

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, Reduction reduction) {
  static const PointKernels k{bce_loss_forward_cpu, bce_loss_forward_cuda, bce_loss_backward_cpu,
                              bce_loss_backward_cuda};
  check_dtype(probs, DType::Float32, "binary_cross_entropy", "input");
  // torch refuses probabilities outside [0, 1] (and NaN). Checked on the CPU only: on the GPU
  // it would cost a copy back and a wait (a bad value there gives a NaN or finite loss).
  if (!probs.device().is_cuda()) {
    const float* p = probs.data();
    for (int64_t i = 0; i < probs.numel(); ++i)
      if (!(p[i] >= 0.0f && p[i] <= 1.0f))
        throw ArgumentError("binary_cross_entropy: input " + std::to_string(p[i]) + " at index " +
                            std::to_string(i) + " is outside [0, 1] (it takes probabilities; "
                            "binary_cross_entropy_with_logits takes logits)");
  }
  return point_loss("binary_cross_entropy", k, probs, target, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction) {
  static const PointKernels k{bce_logits_loss_forward_cpu, bce_logits_loss_forward_cuda,
                              bce_logits_loss_backward_cpu, bce_logits_loss_backward_cuda};
  return point_loss("binary_cross_entropy_with_logits", k, logits, target, reduction);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction) {
  check_class_target(log_probs, target, "nll_loss", "input");
  const int64_t n = log_probs.size(0), classes = log_probs.size(1);
  Tensor elems = Tensor::empty({n}, log_probs.device());
  if (log_probs.device().is_cuda())
    nll_loss_forward_cuda(n, classes, log_probs.data(), target.data_ptr<int64_t>(), elems.data());
  else
    nll_loss_forward_cpu(n, classes, log_probs.data(), target.data_ptr<int64_t>(), elems.data());
  Tensor out = reduce_losses(elems, reduction);
  const SavedTensor saved_target(target);
  return record(out, "nll_loss", {log_probs}, [log_probs, saved_target, n, classes, reduction](const Tensor& dl) {
    const int64_t* t = saved_target.get("nll_loss").data_ptr<int64_t>();
    Tensor dx = Tensor::empty({n, classes}, dl.device());
    if (dl.device().is_cuda())
      nll_loss_backward_cuda(n, classes, t, dl.data(), grad_stride(reduction), grad_scale(reduction, n), dx.data());
    else
      nll_loss_backward_cpu(n, classes, t, dl.data(), grad_stride(reduction), grad_scale(reduction, n), dx.data());
    accumulate_grad(log_probs, dx);
  });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction,
                     double label_smoothing) {
  check_class_target(logits, target, "cross_entropy", "logits");
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw ArgumentError("cross_entropy: label_smoothing must be in [0, 1], got " +
                        std::to_string(label_smoothing));
  const int64_t n = logits.size(0), classes = logits.size(1);
  const float eps = float(label_smoothing);
  Tensor elems = Tensor::empty({n}, logits.device());
  Tensor lse = Tensor::empty({n}, logits.device());  // log sum exp of each row, for backward
  if (logits.device().is_cuda())
    cross_entropy_forward_cuda(n, classes, eps, logits.data(), target.data_ptr<int64_t>(), elems.data(), lse.data());
  else
    cross_entropy_forward_cpu(n, classes, eps, logits.data(), target.data_ptr<int64_t>(), elems.data(), lse.data());
  Tensor out = reduce_losses(elems, reduction);
  const SavedTensor saved_logits(logits), saved_target(target);
  return record(out, "cross_entropy", {logits},
                [logits, saved_logits, saved_target, lse, n, classes, eps, reduction](const Tensor& dl) {
    const float* z = saved_logits.get("cross_entropy").data();
    const int64_t* t = saved_target.get("cross_entropy").data_ptr<int64_t>();
    Tensor dz = Tensor::empty({n, classes}, dl.device());
    const int64_t stride = grad_stride(reduction);
    const float scale = grad_scale(reduction, n);
    if (dl.device().is_cuda())
      cross_entropy_backward_cuda(n, classes, eps, z, t, lse.data(), dl.data(), stride, scale, dz.data());
    else
      cross_entropy_backward_cpu(n, classes, eps, z, t, lse.data(), dl.data(), stride, scale, dz.data());
    accumulate_grad(logits, dz);
  });
}

}  // namespace dlcraft
