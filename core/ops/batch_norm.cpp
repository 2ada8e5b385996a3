// batch_norm op (배치 정규화): checks, device dispatch, the running statistics, backward.
// Kernels: kernels/cpu/batch_norm.cpp, kernels/cuda/batch_norm.cu, cuDNN's in
// kernels/cuda/vendor.cu. Note: docs/batch_norm.md.
#include <cmath>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/ops.hpp"
#include "core/ops/elementwise_util.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

namespace {

// A per-channel tensor (running stats, weight, bias): undefined, or float32 of shape (C).
void check_channel_tensor(const Tensor& t, int64_t channels, const Tensor& x, const std::string& who,
                          const char* what) {
  if (!t.defined()) return;
  check_float32(t, who, what);
  if (t.dim() != 1 || t.size(0) != channels)
    throw ShapeError(who + ": " + what + " " + to_string(t.shape()) + " does not fit input " +
                     to_string(x.shape()) + " with " + std::to_string(channels) + " channels (expected [" +
                     std::to_string(channels) + "])");
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps,
                  const std::string& who) {
  check_defined(x, who, "input");
  check_float32(x, who, "input");
  if (x.dim() < 2 || x.dim() > 4)
    throw ShapeError(who + ": input must be (N,C), (N,C,L) or (N,C,H,W), got " + to_string(x.shape()));
  check_same_device({x, running_mean, running_var, weight, bias}, who);
  const int64_t channels = x.size(1);
  check_channel_tensor(running_mean, channels, x, who, "running_mean");
  check_channel_tensor(running_var, channels, x, who, "running_var");
  check_channel_tensor(weight, channels, x, who, "weight");
  check_channel_tensor(bias, channels, x, who, "bias");
  if (running_mean.defined() != running_var.defined())
    throw ArgumentError(who + ": running_mean and running_var must both be given or both be undefined");
  if (!training && !running_mean.defined())
    throw ArgumentError(who + ": evaluation mode normalises with the running statistics, but running_mean and "
                              "running_var are undefined (use training=true for batch statistics)");
  if (!(eps >= 0.0) || !(momentum >= 0.0 && momentum <= 1.0))
    throw ArgumentError(who + ": eps must be >= 0 and momentum in [0, 1] (got eps " + std::to_string(eps) +
                        ", momentum " + std::to_string(momentum) + ")");

  BatchNormShape s{x.size(0), channels, 1};
  for (int64_t d = 2; d < x.dim(); ++d) s.inner *= x.size(d);
  // One value per channel has no spread: the variance is 0 and the running variance's
  // unbiased form 0/0. torch refuses it too.
  if (training && s.per_channel() <= 1)
    throw ShapeError(who + ": expected more than 1 value per channel when training, got input size " +
                     to_string(x.shape()));

  const Device d = x.device();
  const bool vendor = d.is_cuda() && cuda_kernels() == CudaKernels::Vendor;  // backward follows the forward
  Tensor y = Tensor::empty(x.shape(), d);
  // Row 0: the mean that normalised x, row 1: 1 / sqrt(var + eps); backward reads them.
  Tensor stats = Tensor::empty({2, channels}, d);
  float* save_mean = stats.data();
  float* save_invstd = save_mean + channels;
  float* rm = running_mean.defined() ? running_mean.data() : nullptr;
  float* rv = running_var.defined() ? running_var.data() : nullptr;
  const float* w = weight.defined() ? weight.data() : nullptr;
  const float* b = bias.defined() ? bias.data() : nullptr;
  if (vendor) {
    // cuDNN needs a scale and a shift: 1 and 0 for affine=False.
    Tensor ones_c = weight.defined() ? Tensor() : ones({channels}, d);
    Tensor zeros_c = bias.defined() ? Tensor() : zeros({channels}, d);
    batch_norm_forward_cudnn(s, training, momentum, eps, x.data(), w ? w : ones_c.data(),
                             b ? b : zeros_c.data(), rm, rv, y.data(), save_mean, save_invstd);
  } else if (d.is_cuda()) {
    batch_norm_forward_cuda(s, training, momentum, eps, x.data(), w, b, rm, rv, y.data(), save_mean,
                            save_invstd);
  } else {
    batch_norm_forward_cpu(s, training, momentum, eps, x.data(), w, b, rm, rv, y.data(), save_mean,
                           save_invstd);
  }
  // The running statistics were written in place (as an optimizer writes parameters): a
  // SavedTensor of them taken earlier must now refuse to be read.
  if (training && rm) {
    running_mean.bump_version();
    running_var.bump_version();
  }

  return record(y, who, {x, weight, bias},
                [s, training, eps, vendor, who, x, weight, bias, stats, saved_x = SavedTensor(x),
                 saved_w = SavedTensor(weight)](const Tensor& dy) {
                  saved_x.get(who);
                  if (saved_w.defined()) saved_w.get(who);
                  const Device dev = dy.device();
                  const int64_t c = s.c;
                  // dweight = sum dy * xhat and dbias = sum dy are computed in any case: they are
                  // the two sums the training dx needs.
                  Tensor dw = Tensor::empty({c}, dev), db = Tensor::empty({c}, dev);
                  const bool want_dx = x.requires_grad();
                  Tensor dx = want_dx || (vendor && training) ? Tensor::empty(x.shape(), dev) : Tensor();
                  const float* mean = stats.data();
                  const float* invstd = mean + c;
                  const float* w = weight.defined() ? weight.data() : nullptr;
                  float* dxp = dx.defined() ? dx.data() : nullptr;
                  if (vendor && training) {
                    Tensor ones_c = w ? Tensor() : ones({c}, dev);
                    batch_norm_backward_cudnn(s, eps, x.data(), dy.data(), w ? w : ones_c.data(), mean, invstd,
                                              dxp, dw.data(), db.data());
                  } else if (dev.is_cuda()) {
                    batch_norm_backward_cuda(s, training, x.data(), dy.data(), w, mean, invstd, dxp, dw.data(),
                                             db.data());
                  } else {
                    batch_norm_backward_cpu(s, training, x.data(), dy.data(), w, mean, invstd, dxp, dw.data(),
                                            db.data());
                  }
                  if (want_dx) accumulate_grad(x, dx);
                  if (weight.defined() && weight.requires_grad()) accumulate_grad(weight, dw);
                  if (bias.defined() && bias.requires_grad()) accumulate_grad(bias, db);
                });
}

}  // namespace dlcraft
