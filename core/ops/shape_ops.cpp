// reshape / flatten: the same memory seen with another shape; the gradient is reshaped back.
#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"

namespace dlcraft {

Tensor reshape(const Tensor& x, Shape shape) {
  check_defined(x, "reshape", "input");
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw ShapeError("reshape: more than one -1 in " + to_string(shape));
      infer = int(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0 && known > 0 && x.numel() % known == 0) shape[infer] = x.numel() / known;
  if (numel(shape) != x.numel() || (infer >= 0 && shape[infer] < 0))
    throw ShapeError("reshape: cannot view " + to_string(x.shape()) + " as " + to_string(shape));
  Tensor y = x.detach();
  y.impl()->shape = shape;
  const Shape in_shape = x.shape();
  return record(y, "reshape", {x}, [x, in_shape](const Tensor& dy) {
    Tensor dx = dy.detach();
    dx.impl()->shape = in_shape;
    accumulate_grad(x, dx);
  });
}

Tensor flatten(const Tensor& x, int start_dim) {
  check_defined(x, "flatten", "input");
  if (start_dim < 0 || start_dim >= x.dim())
    throw ShapeError("flatten: start_dim " + std::to_string(start_dim) + " for " +
                     to_string(x.shape()));
  Shape s(x.shape().begin(), x.shape().begin() + start_dim);
  s.push_back(-1);
  return reshape(x, s);
}

}  // namespace dlcraft
