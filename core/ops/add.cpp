// add op: y = a + b (same shapes), the residual connection's join. dL/da = dL/db = dL/dy.
#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

Tensor add(const Tensor& a, const Tensor& b) {
  check_defined(a, "add", "left operand");
  check_defined(b, "add", "right operand");
  check_same_device({a, b}, "add");
  if (a.shape() != b.shape())
    throw ShapeError("add: " + to_string(a.shape()) + " vs " + to_string(b.shape()));
  Tensor y = Tensor::empty(a.shape(), a.device());
  if (a.device().is_cuda())
    add_cuda(a.numel(), a.data(), b.data(), y.data());
  else
    add_cpu(a.numel(), a.data(), b.data(), y.data());
  // Both inputs get dy itself: gradients are never changed in place, so sharing is safe.
  return record(y, "add", {a, b}, [a, b](const Tensor& dy) {
    accumulate_grad(a, dy);
    accumulate_grad(b, dy);
  });
}

}  // namespace dlcraft
