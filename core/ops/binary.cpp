// Broadcasting binary ops: add, sub, mul, div, pow, maximum, minimum, their scalar forms.
// Forward: one generic kernel per device reads both operands through broadcast indices
// (kernels/cpu/binary.cpp, kernels/cuda/binary.cu). Backward: dL/da = sum_to(dL/dy * dy/da,
// a.shape) and the same for b: an operand broadcast over some dimensions was used once per
// output element there, so its gradient is the sum of theirs (docs/broadcasting.md).
// Backward functions use the public ops (they run under NoGradGuard) and compute a gradient
// only for an input that requires one. docs/elementwise.md.
#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/ops.hpp"
#include "core/ops/elementwise_util.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/elementwise_ops.hpp"

namespace dlcraft {

namespace {

void check_operands(const Tensor& a, const Tensor& b, const std::string& name) {
  check_defined(a, name, "left operand");
  check_defined(b, name, "right operand");
  check_same_device({a, b}, name);
  check_float32(a, name, "left operand");
  check_float32(b, name, "right operand");
}

// y = a op b over the broadcast shape.
Tensor binary_forward(BinaryOp op, const std::string& name, const Tensor& a, const Tensor& b) {
  check_operands(a, b, name);
  const Shape out = broadcast_shapes({a.shape(), b.shape()}, name);
  const StridedIndex ia = broadcast_index(a.shape(), out), ib = broadcast_index(b.shape(), out);
  Tensor y = Tensor::empty(out, a.device());
  if (a.device().is_cuda())
    binary_cuda(op, ia, ib, a.data(), b.data(), y.data());
  else
    binary_cpu(op, ia, ib, a.data(), b.data(), y.data());
  return y;
}

// y = a op s, or s op a when scalar_first.
Tensor scalar_forward(BinaryOp op, bool scalar_first, const std::string& name, const Tensor& a, double s) {
  check_defined(a, name, "tensor");
  check_float32(a, name, "tensor");
  Tensor y = Tensor::empty(a.shape(), a.device());
  if (a.device().is_cuda())
    binary_scalar_cuda(op, scalar_first, a.numel(), a.data(), float(s), y.data());
  else
    binary_scalar_cpu(op, scalar_first, a.numel(), a.data(), float(s), y.data());
  return y;
}

// maximum / minimum backward: the gradient goes to the winner, half to each on a tie (torch).
// a_lost / b_lost: where each operand lost (for maximum, a < b and a > b).
void extremum_backward(const Tensor& dy, const Tensor& a, const Tensor& b, const Tensor& a_lost,
                       const Tensor& b_lost) {
  Tensor g = where(eq(a, b), mul(dy, 0.5), dy);
  const Tensor zero = scalar_zero(dy.device());
  if (a.requires_grad()) accumulate_grad(a, sum_to(where(a_lost, zero, g), a.shape()));
  if (b.requires_grad()) accumulate_grad(b, sum_to(where(b_lost, zero, g), b.shape()));
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y;
  check_operands(a, b, "add");
  if (a.shape() == b.shape()) {
    // Same shapes: the residual join and accumulate_grad's hot path, one flat loop.
    y = Tensor::empty(a.shape(), a.device());
    if (a.device().is_cuda())
      add_cuda(a.numel(), a.data(), b.data(), y.data());
    else
      add_cpu(a.numel(), a.data(), b.data(), y.data());
  } else {
    y = binary_forward(BinaryOp::Add, "add", a, b);
  }
  // Both inputs get dy itself (summed to their shapes): gradients are never changed in place,
  // so sharing is safe.
  return record(y, "add", {a, b}, [a, b](const Tensor& dy) {
    if (a.requires_grad()) accumulate_grad(a, sum_to(dy, a.shape()));
    if (b.requires_grad()) accumulate_grad(b, sum_to(dy, b.shape()));
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward(BinaryOp::Sub, "sub", a, b);
  return record(y, "sub", {a, b}, [a, b](const Tensor& dy) {
    if (a.requires_grad()) accumulate_grad(a, sum_to(dy, a.shape()));
    if (b.requires_grad()) accumulate_grad(b, sum_to(neg(dy), b.shape()));
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward(BinaryOp::Mul, "mul", a, b);
  const SavedTensor sa(a), sb(b);
  return record(y, "mul", {a, b}, [a, b, sa, sb](const Tensor& dy) {
    if (a.requires_grad()) accumulate_grad(a, sum_to(mul(dy, sb.get("mul")), a.shape()));
    if (b.requires_grad()) accumulate_grad(b, sum_to(mul(dy, sa.get("mul")), b.shape()));
  });
}

// y = a / b: dy/da = 1/b, dy/db = -a/b^2.
Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward(BinaryOp::Div, "div", a, b);
  const SavedTensor sa(a), sb(b);
  return record(y, "div", {a, b}, [a, b, sa, sb](const Tensor& dy) {
    const Tensor g = div(dy, sb.get("div"));
    if (a.requires_grad()) accumulate_grad(a, sum_to(g, a.shape()));
    if (b.requires_grad())
      accumulate_grad(b, sum_to(neg(mul(g, div(sa.get("div"), sb.get("div")))), b.shape()));
  });
}

// y = a^b: dy/da = b a^(b-1) (0 where b == 0), dy/db = y log(a) (0 where a == 0 and b >= 0),
// both as torch. For a < 0, log(a) is NaN and so is dy/db, as in torch.
Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward(BinaryOp::Pow, "pow", a, b);
  const SavedTensor sa(a), sb(b), sy(y.detach());  // detach: the node must not own y itself
  return record(y, "pow", {a, b}, [a, b, sa, sb, sy](const Tensor& dy) {
    const Tensor& av = sa.get("pow");
    const Tensor& bv = sb.get("pow");
    const Tensor zero = scalar_zero(dy.device());
    if (a.requires_grad()) {
      const Tensor d = mul(bv, pow(av, sub(bv, 1.0)));
      accumulate_grad(a, sum_to(mul(dy, where(eq(bv, 0.0), zero, d)), a.shape()));
    }
    if (b.requires_grad()) {
      const Tensor ylog = mul(sy.get("pow"), log(av));
      const Tensor d = where(eq(av, 0.0), where(ge(bv, 0.0), zero, ylog), ylog);
      accumulate_grad(b, sum_to(mul(dy, d), b.shape()));
    }
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward(BinaryOp::Maximum, "maximum", a, b);
  const SavedTensor sa(a), sb(b);
  return record(y, "maximum", {a, b}, [a, b, sa, sb](const Tensor& dy) {
    const Tensor& av = sa.get("maximum");
    const Tensor& bv = sb.get("maximum");
    extremum_backward(dy, av, bv, lt(av, bv), gt(av, bv));
  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward(BinaryOp::Minimum, "minimum", a, b);
  const SavedTensor sa(a), sb(b);
  return record(y, "minimum", {a, b}, [a, b, sa, sb](const Tensor& dy) {
    const Tensor& av = sa.get("minimum");
    const Tensor& bv = sb.get("minimum");
    extremum_backward(dy, av, bv, gt(av, bv), lt(av, bv));
  });
}

// ---- scalar forms: the scalar gets no gradient ----

Tensor add(const Tensor& a, double b) {
  Tensor y = scalar_forward(BinaryOp::Add, false, "add", a, b);
  return record(y, "add", {a}, [a](const Tensor& dy) { accumulate_grad(a, dy); });
}

Tensor sub(const Tensor& a, double b) {
  Tensor y = scalar_forward(BinaryOp::Sub, false, "sub", a, b);
  return record(y, "sub", {a}, [a](const Tensor& dy) { accumulate_grad(a, dy); });
}

Tensor rsub(const Tensor& a, double b) {
  Tensor y = scalar_forward(BinaryOp::Sub, true, "rsub", a, b);
  return record(y, "rsub", {a}, [a](const Tensor& dy) { accumulate_grad(a, neg(dy)); });
}

Tensor mul(const Tensor& a, double b) {
  Tensor y = scalar_forward(BinaryOp::Mul, false, "mul", a, b);
  return record(y, "mul", {a}, [a, b](const Tensor& dy) { accumulate_grad(a, mul(dy, b)); });
}

Tensor div(const Tensor& a, double b) {
  Tensor y = scalar_forward(BinaryOp::Div, false, "div", a, b);
  return record(y, "div", {a}, [a, b](const Tensor& dy) { accumulate_grad(a, div(dy, b)); });
}

// y = b / a: dy/da = -b / a^2.
Tensor rdiv(const Tensor& a, double b) {
  Tensor y = scalar_forward(BinaryOp::Div, true, "rdiv", a, b);
  const SavedTensor sa(a);
  return record(y, "rdiv", {a}, [a, sa, b](const Tensor& dy) {
    const Tensor& av = sa.get("rdiv");
    accumulate_grad(a, mul(div(dy, mul(av, av)), -b));
  });
}

// y = a^e: dy/da = e a^(e-1), and 0 for e == 0 (torch).
Tensor pow(const Tensor& a, double exponent) {
  Tensor y = scalar_forward(BinaryOp::Pow, false, "pow", a, exponent);
  const SavedTensor sa(a);
  return record(y, "pow", {a}, [a, sa, exponent](const Tensor& dy) {
    const Tensor& av = sa.get("pow");
    if (exponent == 0.0)
      accumulate_grad(a, zeros(a.shape(), a.device()));
    else
      accumulate_grad(a, mul(mul(dy, pow(av, exponent - 1.0)), exponent));
  });
}

}  // namespace dlcraft
