// Comparisons (eq, ne, lt, le, gt, ge -> bool tensors, no gradient) and where(cond, a, b).
// Kernels: kernels/cpu/binary.cpp, kernels/cuda/binary.cu (the broadcast indices as for the
// arithmetic ops). where's gradient goes to the side each element was taken from, summed back
// to that operand's shape. docs/elementwise.md.
#include <cmath>

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

bool float_or_int64(DType t) { return t == DType::Float32 || t == DType::Int64; }

Tensor compare(CompareOp op, const std::string& name, const Tensor& a, const Tensor& b) {
  check_defined(a, name, "left operand");
  check_defined(b, name, "right operand");
  check_same_device({a, b}, name);
  if (a.dtype() != b.dtype() || !float_or_int64(a.dtype()))
    throw DTypeError(name + ": operands are " + to_string(a.dtype()) + " and " + to_string(b.dtype()) +
                     "; it takes two float32 or two int64 tensors (convert with to(DType))");
  const Shape out = broadcast_shapes({a.shape(), b.shape()}, name);
  const StridedIndex ia = broadcast_index(a.shape(), out), ib = broadcast_index(b.shape(), out);
  Tensor y = Tensor::empty(out, TensorOptions(DType::Bool).with_device(a.device()));
  uint8_t* py = y.data_ptr<uint8_t>();
  const bool cuda = a.device().is_cuda();
  if (a.dtype() == DType::Float32) {
    if (cuda) compare_cuda(op, ia, ib, a.data(), b.data(), py);
    else compare_cpu(op, ia, ib, a.data(), b.data(), py);
  } else {
    const int64_t* pa = a.data_ptr<int64_t>();
    const int64_t* pb = b.data_ptr<int64_t>();
    if (cuda) compare_cuda(op, ia, ib, pa, pb, py);
    else compare_cpu(op, ia, ib, pa, pb, py);
  }
  return y;
}

// a float32 tensor is compared with float(b), as torch does; an int64 one exactly with an
// integral b, and otherwise (b = 2.5) as float32, which is torch's type promotion for an int
// tensor and a float scalar.
Tensor compare(CompareOp op, const std::string& name, const Tensor& a, double b) {
  check_defined(a, name, "tensor");
  if (!float_or_int64(a.dtype()))
    throw DTypeError(name + ": tensor is " + to_string(a.dtype()) + "; it takes float32 or int64");
  const bool exact_int = std::isfinite(b) && b == std::trunc(b) && b >= -9.2233720368547758e18 &&
                         b < 9.2233720368547758e18;
  if (a.dtype() == DType::Int64 && !exact_int) return compare(op, name, a.to(DType::Float32), b);
  Tensor y = Tensor::empty(a.shape(), TensorOptions(DType::Bool).with_device(a.device()));
  uint8_t* py = y.data_ptr<uint8_t>();
  const bool cuda = a.device().is_cuda();
  if (a.dtype() == DType::Float32) {
    if (cuda) compare_scalar_cuda(op, a.numel(), a.data(), float(b), py);
    else compare_scalar_cpu(op, a.numel(), a.data(), float(b), py);
  } else {
    const int64_t* pa = a.data_ptr<int64_t>();
    if (cuda) compare_scalar_cuda(op, a.numel(), pa, int64_t(b), py);
    else compare_scalar_cpu(op, a.numel(), pa, int64_t(b), py);
  }
  return y;
}

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) { return compare(CompareOp::Eq, "eq", a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(CompareOp::Ne, "ne", a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(CompareOp::Lt, "lt", a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(CompareOp::Le, "le", a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(CompareOp::Gt, "gt", a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(CompareOp::Ge, "ge", a, b); }
Tensor eq(const Tensor& a, double b) { return compare(CompareOp::Eq, "eq", a, b); }
Tensor ne(const Tensor& a, double b) { return compare(CompareOp::Ne, "ne", a, b); }
Tensor lt(const Tensor& a, double b) { return compare(CompareOp::Lt, "lt", a, b); }
Tensor le(const Tensor& a, double b) { return compare(CompareOp::Le, "le", a, b); }
Tensor gt(const Tensor& a, double b) { return compare(CompareOp::Gt, "gt", a, b); }
Tensor ge(const Tensor& a, double b) { return compare(CompareOp::Ge, "ge", a, b); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined(cond, "where", "condition");
  check_defined(a, "where", "first value tensor");
  check_defined(b, "where", "second value tensor");
  check_same_device({cond, a, b}, "where");
  if (cond.dtype() != DType::Bool)
    throw DTypeError("where: condition is " + to_string(cond.dtype()) +
                     "; it takes a bool tensor (from a comparison, or to(DType::Bool))");
  if (a.dtype() != b.dtype() || !float_or_int64(a.dtype()))
    throw DTypeError("where: values are " + to_string(a.dtype()) + " and " + to_string(b.dtype()) +
                     "; it takes two float32 or two int64 tensors");
  const Shape out = broadcast_shapes({cond.shape(), a.shape(), b.shape()}, "where");
  const StridedIndex ic = broadcast_index(cond.shape(), out), ia = broadcast_index(a.shape(), out),
                     ib = broadcast_index(b.shape(), out);
  Tensor y = Tensor::empty(out, a.options());
  const uint8_t* pc = cond.data_ptr<uint8_t>();
  const bool cuda = a.device().is_cuda();
  if (a.dtype() == DType::Int64) {  // no gradient
    int64_t* py = y.data_ptr<int64_t>();
    if (cuda) where_cuda(ic, ia, ib, pc, a.data_ptr<int64_t>(), b.data_ptr<int64_t>(), py);
    else where_cpu(ic, ia, ib, pc, a.data_ptr<int64_t>(), b.data_ptr<int64_t>(), py);
    return y;
  }
  if (cuda) where_cuda(ic, ia, ib, pc, a.data(), b.data(), y.data());
  else where_cpu(ic, ia, ib, pc, a.data(), b.data(), y.data());
  // dL/da = dL/dy where cond, 0 elsewhere; dL/db the other way round; each summed to its shape.
  const SavedTensor sc(cond);
  return record(y, "where", {a, b}, [a, b, sc](const Tensor& dy) {
    const Tensor& c = sc.get("where");
    const Tensor zero = scalar_zero(dy.device());
    if (a.requires_grad()) accumulate_grad(a, sum_to(where(c, dy, zero), a.shape()));
    if (b.requires_grad()) accumulate_grad(b, sum_to(where(c, zero, dy), b.shape()));
  });
}

}  // namespace dlcraft
