// Reductions beyond sum: mean, max/min (values and indices), argmax/argmin, var/std.
// How each backpropagates (docs/reductions.md):
//   mean:    every input gets dy / count (sum's expand, divided);
//   max/min: only the winner gets dy (a scatter, as in max pooling);
//   var/std: dx = 2 (x - mean) / (count - correction) * dy, std's divided by 2 std.
// Kernels: kernels/cpu/reduce.cpp, reduce_minmax.cpp, reduce_moments.cpp and the .cu files of
// the same names.
#include <algorithm>

#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

void check_float_input(const Tensor& x, const std::string& who) {
  check_defined(x, who, "input");
  if (x.dtype() != DType::Float32)
    throw DTypeError(who + ": input " + to_string(x.shape()) + " is " + to_string(x.dtype()) +
                     "; it takes float32");
}

// max/min over `dims` (one dimension, or all): values (differentiable) and int64 positions in
// the walk over the reduced dimensions (the index along a single dimension; the flat index
// over all of them).
ValuesIndices minmax(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim,
                     bool is_max, const std::string& who) {
  check_float_input(x, who);
  const std::vector<int64_t> dims = reduction_dims(x.shape(), dims_in, who);
  const ReduceShape rs = reduce_shape(x.shape(), dims);
  if (rs.inner.count() == 0)  // torch raises too: there is no maximum of nothing
    throw ShapeError(who + ": cannot reduce " + to_string(x.shape()) +
                     (dims_in.empty() ? std::string(", which has no elements")
                                      : " over its empty dimension " + std::to_string(dims_in[0])));
  const Shape out_shape = reduced_shape(x.shape(), dims, keepdim);
  Tensor values = Tensor::empty(out_shape, x.device());
  Tensor indices = Tensor::empty(out_shape, TensorOptions(DType::Int64).with_device(x.device()));
  if (x.device().is_cuda())
    reduce_minmax_cuda(rs, is_max, x.data(), values.data(), indices.data_ptr<int64_t>());
  else
    reduce_minmax_cpu(rs, is_max, x.data(), values.data(), indices.data_ptr<int64_t>());
  const SavedTensor saved_indices(indices);
  const Shape in_shape = x.shape();
  values = record(values, who, {x}, [x, rs, in_shape, saved_indices, who](const Tensor& dy) {
    const Tensor& idx = saved_indices.get(who);
    Tensor dx = Tensor::empty(in_shape, dy.device());
    if (dy.device().is_cuda())
      reduce_minmax_backward_cuda(rs, numel(in_shape), dy.data(), idx.data_ptr<int64_t>(), dx.data());
    else
      reduce_minmax_backward_cpu(rs, numel(in_shape), dy.data(), idx.data_ptr<int64_t>(), dx.data());
    accumulate_grad(x, dx);
  });
  return {values, indices};
}

Tensor moments(const Tensor& x, const std::vector<int64_t>& dims_in, int64_t correction,
               bool keepdim, bool take_sqrt, const std::string& who) {
  check_float_input(x, who);
  const std::vector<int64_t> dims = reduction_dims(x.shape(), dims_in, who);
  const ReduceShape rs = reduce_shape(x.shape(), dims);
  const Shape kept = reduced_shape(x.shape(), dims, true), in_shape = x.shape();
  Tensor mean = Tensor::empty(kept, x.device());  // kept for the backward
  Tensor y = Tensor::empty(reduced_shape(x.shape(), dims, keepdim), x.device());
  if (x.device().is_cuda())
    reduce_var_cuda(rs, correction, take_sqrt, x.data(), mean.data(), y.data());
  else
    reduce_var_cpu(rs, correction, take_sqrt, x.data(), mean.data(), y.data());
  const float divisor = float(std::max<int64_t>(0, rs.inner.count() - correction));
  // std's backward reads std itself: saved through a detached handle (the output's own
  // handle would hold its node: a reference cycle), which shares the version counter.
  const SavedTensor saved_x(x), saved_std(take_sqrt ? y.detach() : Tensor());
  return record(y, who, {x}, [x, saved_x, saved_std, mean, kept, in_shape, divisor, who](const Tensor& dy) {
    const Tensor& xv = saved_x.get(who);
    const float* s = saved_std.defined() ? saved_std.get(who).data() : nullptr;
    const StridedIndex ix = broadcast_index(kept, in_shape);
    Tensor dx = Tensor::empty(in_shape, dy.device());
    if (dy.device().is_cuda())
      var_backward_cuda(ix, divisor, xv.data(), mean.data(), dy.data(), s, dx.data());
    else
      var_backward_cpu(ix, divisor, xv.data(), mean.data(), dy.data(), s, dx.data());
    accumulate_grad(x, dx);
  });
}

}  // namespace

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_float_input(x, "mean");
  const std::vector<int64_t> dims = reduction_dims(x.shape(), dims_in, "mean");
  const ReduceShape rs = reduce_shape(x.shape(), dims);
  Tensor y = Tensor::empty(reduced_shape(x.shape(), dims, keepdim), x.device());
  if (x.device().is_cuda())
    reduce_mean_cuda(rs, x.data(), y.data());
  else
    reduce_mean_cpu(rs, x.data(), y.data());
  const Shape in_shape = x.shape(), kept = reduced_shape(x.shape(), dims, true);
  const int64_t count = rs.inner.count();
  return record(y, "mean", {x}, [x, in_shape, kept, count](const Tensor& dy) {
    // Every input gets its output's gradient divided by how many inputs shared it.
    const StridedIndex ix = broadcast_index(kept, in_shape);
    const float scale = count > 0 ? 1.0f / float(count) : 0.0f;
    Tensor dx = Tensor::empty(in_shape, dy.device());
    if (dy.device().is_cuda())
      expand_cuda(ix, dy.data(), dx.data(), scale);
    else
      expand_cpu(ix, dy.data(), dx.data(), scale);
    accumulate_grad(x, dx);
  });
}

Tensor mean(const Tensor& x, int64_t dim, bool keepdim) {
  return mean(x, std::vector<int64_t>{dim}, keepdim);
}

ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim) {
  return minmax(x, {dim}, keepdim, true, "max");
}
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim) {
  return minmax(x, {dim}, keepdim, false, "min");
}
Tensor max(const Tensor& x) { return minmax(x, {}, false, true, "max").values; }
Tensor min(const Tensor& x) { return minmax(x, {}, false, false, "min").values; }

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  NoGradGuard no_grad;  // only the indices are wanted
  return minmax(x, {dim}, keepdim, true, "argmax").indices;
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  NoGradGuard no_grad;
  return minmax(x, {dim}, keepdim, false, "argmin").indices;
}
Tensor argmax(const Tensor& x) {
  NoGradGuard no_grad;
  return minmax(x, {}, false, true, "argmax").indices;
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  return moments(x, dims, correction, keepdim, false, "var");
}
Tensor std(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  return moments(x, dims, correction, keepdim, true, "std");
}

}  // namespace dlcraft
