// linear and linear_relu ops: checks, device dispatch, backward. Kernels: kernels/cpu/linear.cpp,
// kernels/cuda/linear.cu. Notes: docs/linear.md, docs/fused_epilogues.md (linear_relu).
#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/elementwise_util.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

namespace {

// relu: linear_relu, the ReLU applied in the output pass (the fused epilogue).
Tensor linear_op(const Tensor& x, const Tensor& weight, const Tensor& bias, const std::string& who,
                 bool relu) {
  check_rank(x, 2, who, "input");
  check_rank(weight, 2, who, "weight");
  check_same_device({x, weight, bias}, who);
  if (x.size(1) != weight.size(1))
    throw ShapeError(who + ": input " + to_string(x.shape()) + " vs weight " +
                     to_string(weight.shape()));
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    throw ShapeError(who + ": bias " + to_string(bias.shape()) + " vs weight " +
                     to_string(weight.shape()));
  LinearShape s{int(x.size(0)), int(x.size(1)), int(weight.size(0))};
  Tensor y = Tensor::empty({s.n, s.out}, x.device());
  const float* b = bias.defined() ? bias.data() : nullptr;
  const bool vendor = cuda_kernels() == CudaKernels::Vendor;
  if (x.device().is_cuda() && vendor) {
    linear_forward_cublas(s, x.data(), weight.data(), b, y.data());
    if (relu) relu_forward_cuda(y.numel(), y.data(), y.data());  // cuBLAS's output, then ReLU in place
  } else if (x.device().is_cuda()) {
    linear_forward_cuda(s, x.data(), weight.data(), b, y.data(), relu);
  } else if (cpu_kernels() == CpuKernels::Reference) {
    linear_forward_reference_cpu(s, x.data(), weight.data(), b, y.data(), relu);
  } else {
    linear_forward_cpu(s, x.data(), weight.data(), b, y.data(), relu);
  }
  if (!needs_grad({x, weight, bias})) return y;

  // The backward reads x and the weight (and, fused, the output y for ReLU's mask): raise if
  // one is changed in place before it runs. y.detach(): the node must not own its output.
  const SavedTensor saved_y = relu ? SavedTensor(y.detach()) : SavedTensor();
  return record(y, who, {x, weight, bias}, [s, x, weight, bias, vendor, who, saved_x = SavedTensor(x),
                                            saved_w = SavedTensor(weight), saved_y](const Tensor& dy_out) {
    saved_x.get(who);
    saved_w.get(who);
    // linear_relu: dL/d(pre-activation) = dy where y > 0; the rest is linear's backward.
    const Tensor dy = saved_y.defined() ? relu_backward_from_output(saved_y.get(who), dy_out) : dy_out;
    const Device d = dy.device();
    const bool want_b = bias.defined() && bias.requires_grad();
    Tensor dx = x.requires_grad() ? Tensor::empty(x.shape(), d) : Tensor();
    Tensor dw = weight.requires_grad() ? Tensor::empty(weight.shape(), d) : Tensor();
    Tensor db = want_b ? Tensor::empty(bias.shape(), d) : Tensor();
    float* dxp = dx.defined() ? dx.data() : nullptr;
    float* dwp = dw.defined() ? dw.data() : nullptr;
    float* dbp = db.defined() ? db.data() : nullptr;
    if (d.is_cuda())
      (vendor ? linear_backward_cublas : linear_backward_cuda)(s, x.data(), weight.data(), dy.data(), dxp, dwp, dbp);
    else if (cpu_kernels() == CpuKernels::Reference)
      linear_backward_reference_cpu(s, x.data(), weight.data(), dy.data(), dxp, dwp, dbp);
    else
      linear_backward_cpu(s, x.data(), weight.data(), dy.data(), dxp, dwp, dbp);
    if (dx.defined()) accumulate_grad(x, dx);
    if (dw.defined()) accumulate_grad(weight, dw);
    if (db.defined()) accumulate_grad(bias, db);
  });
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const std::string& who) {
  return linear_op(x, weight, bias, who, /*relu=*/false);
}

Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, const std::string& who) {
  return linear_op(x, weight, bias, who, /*relu=*/true);
}

}  // namespace dlcraft
