// sum over dimensions, and sum_to (the gradient of broadcasting). The backward of a sum hands
// every input the gradient of the output it went into: dL/dx = expand(dL/dy) with the reduced
// dimensions put back as size 1. docs/reductions.md.
#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_defined(x, "sum", "input");
  x.check_dtype(DType::Float32, "sum");
  const std::vector<int64_t> dims = reduction_dims(x.shape(), dims_in, "sum");
  const ReduceShape rs = reduce_shape(x.shape(), dims);
  Tensor y = Tensor::empty(reduced_shape(x.shape(), dims, keepdim), x.device());
  if (x.device().is_cuda())
    reduce_sum_cuda(rs, x.data(), y.data());
  else
    reduce_sum_cpu(rs, x.data(), y.data());
  const Shape in_shape = x.shape(), kept = reduced_shape(x.shape(), dims, true);
  return record(y, "sum", {x}, [x, in_shape, kept](const Tensor& dy) {
    accumulate_grad(x, expand(reshape(dy, kept), in_shape));
  });
}

Tensor sum(const Tensor& x, int64_t dim, bool keepdim) {
  return sum(x, std::vector<int64_t>{dim}, keepdim);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "sum_to", "input");
  if (x.shape() == shape) return x;
  if (broadcast_shapes({x.shape(), shape}, "sum_to") != x.shape())
    throw ShapeError("sum_to: " + to_string(x.shape()) + " is not a broadcast of " + to_string(shape));
  // The leading dimensions x has beyond `shape`, and those where `shape` has 1.
  std::vector<int64_t> dims;
  const size_t lead = x.shape().size() - shape.size();
  for (size_t k = 0; k < x.shape().size(); ++k)
    if (k < lead || (shape[k - lead] == 1 && x.shape()[k] != 1)) dims.push_back(int64_t(k));
  if (dims.empty()) return reshape(x, shape);
  return reshape(sum(x, dims, /*keepdim=*/true), shape);
}

}  // namespace dlcraft
