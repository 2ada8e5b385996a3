// In-place arithmetic: x.add_(y), x.sub_(y), x.mul_(y), x.div_(y), x.add_(s), x.mul_(s),
// x.zero_(). `other` broadcasts to x's shape (never the other way: x's memory cannot grow)
// and the binary kernels write straight into x (kernels/cpu/binary.cpp, kernels/cuda/
// binary.cu; element i reads a[i] before writing y[i], so y == a is safe). Each write bumps
// the version counter, so a SavedTensor of x raises if backward would read the changed
// values. Not recorded by autograd: with grad mode on they refuse a tensor that requires grad
// (PyTorch: "a leaf Variable that requires grad is used in an in-place operation"), and an
// operand that requires grad (its gradient would be lost). docs/elementwise.md.
#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/ops/elementwise_util.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/elementwise_ops.hpp"

namespace dlcraft {

namespace {

void check_writable(const Tensor& x, const std::string& name) {
  check_defined(x, name, "tensor");
  if (grad_enabled() && x.requires_grad())
    throw AutogradError(name + ": a tensor " + to_string(x.shape()) +
                        " that requires grad is used in an in-place operation, which autograd does "
                        "not record; use the out-of-place op, or wrap it in NoGradGuard (as an "
                        "optimizer step does)");
}

Tensor& inplace(Tensor& x, BinaryOp op, const std::string& name, const Tensor& other) {
  check_writable(x, name);
  check_defined(other, name, "other operand");
  check_same_device({x, other}, name);
  check_float32(x, name, "tensor");
  check_float32(other, name, "other operand");
  if (grad_enabled() && other.requires_grad())
    throw AutogradError(name + ": the other operand " + to_string(other.shape()) +
                        " requires grad, but in-place operations are not recorded by autograd; "
                        "use the out-of-place op");
  const Shape out = broadcast_shapes({x.shape(), other.shape()}, name);
  if (out != x.shape())
    throw ShapeError(name + ": other operand " + to_string(other.shape()) +
                     " does not broadcast to the tensor's shape " + to_string(x.shape()) +
                     " (the result would be " + to_string(out) + ")");
  const StridedIndex ix = broadcast_index(x.shape(), out), io = broadcast_index(other.shape(), out);
  if (x.device().is_cuda())
    binary_cuda(op, ix, io, x.data(), other.data(), x.data());
  else
    binary_cpu(op, ix, io, x.data(), other.data(), x.data());
  x.bump_version();
  return x;
}

Tensor& inplace(Tensor& x, BinaryOp op, const std::string& name, double value) {
  check_writable(x, name);
  check_float32(x, name, "tensor");
  if (x.device().is_cuda())
    binary_scalar_cuda(op, false, x.numel(), x.data(), float(value), x.data());
  else
    binary_scalar_cpu(op, false, x.numel(), x.data(), float(value), x.data());
  x.bump_version();
  return x;
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other) { return inplace(*this, BinaryOp::Add, "add_", other); }
Tensor& Tensor::sub_(const Tensor& other) { return inplace(*this, BinaryOp::Sub, "sub_", other); }
Tensor& Tensor::mul_(const Tensor& other) { return inplace(*this, BinaryOp::Mul, "mul_", other); }
Tensor& Tensor::div_(const Tensor& other) { return inplace(*this, BinaryOp::Div, "div_", other); }
Tensor& Tensor::add_(double value) { return inplace(*this, BinaryOp::Add, "add_", value); }
Tensor& Tensor::mul_(double value) { return inplace(*this, BinaryOp::Mul, "mul_", value); }

Tensor& Tensor::zero_() {
  check_writable(*this, "zero_");
  fill_(0.0f);  // any dtype; bumps the version
  return *this;
}

}  // namespace dlcraft
