// Unary element-wise ops: neg, exp, log, sqrt, abs, sigmoid, tanh, leaky_relu, gelu, clamp.
// One generic kernel per device for the forward and one for the backward dx = dy * f'(x)
// (kernels/cpu/unary.cpp, kernels/cuda/unary.cu; formulas in kernels/elementwise_ops.hpp).
// The backward reads the input x, or the output y where f' is simpler in y (exp, sqrt,
// sigmoid, tanh), saved as a SavedTensor so an in-place change before backward raises.
// docs/elementwise.md.
#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/elementwise_util.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/elementwise_ops.hpp"

namespace dlcraft {

namespace {

Tensor unary(UnaryOp op, const std::string& name, const Tensor& x, float p0 = 0, float p1 = 0) {
  check_defined(x, name, "input");
  check_float32(x, name, "input");
  Tensor y = Tensor::empty(x.shape(), x.device());
  if (x.device().is_cuda())
    unary_cuda(op, x.numel(), x.data(), y.data(), p0, p1);
  else
    unary_cpu(op, x.numel(), x.data(), y.data(), p0, p1);
  if (!needs_grad({x})) return y;
  // y.detach(): the same memory (and version counter) without the node, which must not own y.
  const SavedTensor saved = op == UnaryOp::Neg ? SavedTensor()
                            : unary_backward_reads_output(op) ? SavedTensor(y.detach())
                                                              : SavedTensor(x);
  return record(y, name, {x}, [x, saved, op, name, p0, p1](const Tensor& dy) {
    // neg reads nothing; dy stands in for the saved values.
    const Tensor& s = saved.defined() ? saved.get(name) : dy;
    Tensor dx = Tensor::empty(x.shape(), dy.device());
    if (dy.device().is_cuda())
      unary_backward_cuda(op, x.numel(), s.data(), dy.data(), dx.data(), p0, p1);
    else
      unary_backward_cpu(op, x.numel(), s.data(), dy.data(), dx.data(), p0, p1);
    accumulate_grad(x, dx);
  });
}

}  // namespace

Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, "neg", x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, "exp", x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, "log", x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, "sqrt", x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, "abs", x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, "sigmoid", x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, "tanh", x); }

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return unary(UnaryOp::LeakyRelu, "leaky_relu", x, float(negative_slope));
}

Tensor gelu(const Tensor& x, bool tanh_approximation) {
  return unary(tanh_approximation ? UnaryOp::GeluTanh : UnaryOp::Gelu, "gelu", x);
}

Tensor clamp(const Tensor& x, double min, double max) {
  if (min != min || max != max) throw ArgumentError("clamp: a bound is NaN");
  return unary(UnaryOp::Clamp, "clamp", x, float(min), float(max));
}

}  // namespace dlcraft
