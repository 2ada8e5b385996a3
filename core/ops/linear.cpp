// linear op: checks, device dispatch, backward. Kernels: kernels/cpu/linear.cpp,
// kernels/cuda/linear.cu. Note: docs/linear.md.
#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const std::string& who) {
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
  if (x.device().is_cuda())
    (vendor ? linear_forward_cublas : linear_forward_cuda)(s, x.data(), weight.data(), b, y.data());
  else if (cpu_kernels() == CpuKernels::Reference)
    linear_forward_reference_cpu(s, x.data(), weight.data(), b, y.data());
  else
    linear_forward_cpu(s, x.data(), weight.data(), b, y.data());

  // The backward reads x and the weight: raise if either is changed in place before it runs.
  return record(y, who, {x, weight, bias}, [s, x, weight, bias, vendor, who, saved_x = SavedTensor(x),
                                            saved_w = SavedTensor(weight)](const Tensor& dy) {
    saved_x.get(who);
    saved_w.get(who);
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

}  // namespace dlcraft
