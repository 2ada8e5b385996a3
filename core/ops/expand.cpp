// expand: x read as a larger, broadcast shape (torch.Tensor.expand / broadcast_to). PyTorch
// returns a view with stride 0; tensors here stay contiguous, so this copies. The gradient
// sums the copies back: dL/dx = sum_to(dL/dy, x.shape). docs/broadcasting.md.
#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

Tensor expand(const Tensor& x, const Shape& shape) {
  check_defined(x, "expand", "input");
  x.check_dtype(DType::Float32, "expand");
  if (shape.size() < x.shape().size())
    throw ShapeError("expand: cannot expand " + to_string(x.shape()) + " to fewer dimensions " +
                     to_string(shape));
  Shape target = shape;
  const size_t lead = shape.size() - x.shape().size();
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == -1) {
      if (k < lead) throw ShapeError("expand: -1 for a new leading dimension in " + to_string(shape));
      target[k] = x.shape()[k - lead];
    }
    if (k >= lead && x.shape()[k - lead] != 1 && x.shape()[k - lead] != target[k])
      throw ShapeError("expand: cannot expand " + to_string(x.shape()) + " to " + to_string(shape) +
                       " (only size-1 dimensions can grow)");
  }
  if (target == x.shape()) return x;
  const StridedIndex ix = broadcast_index(x.shape(), target);
  Tensor y = Tensor::empty(target, x.device());
  if (x.device().is_cuda())
    expand_cuda(ix, x.data(), y.data());
  else
    expand_cpu(ix, x.data(), y.data());
  const Shape in_shape = x.shape();
  return record(y, "expand", {x}, [x, in_shape](const Tensor& dy) {
    accumulate_grad(x, sum_to(dy, in_shape));
  });
}

}  // namespace dlcraft
