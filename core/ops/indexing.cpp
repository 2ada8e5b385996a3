// index_select and gather: elements picked by an int64 index tensor. Both run one kernel
// (kernels/cpu/indexing.cpp, kernels/cuda/indexing.cu),
//   y[i] = x[xi.offset(i) + index[ii.offset(i)] * dim_stride],
// and differ only in how the output walk reads x and the index (xi, ii). The backward is a
// scatter-add of dy into zeros of x's shape: an element picked k times gets k gradients.
// Indices are checked on the host (one copy back for a GPU index). docs/views_and_indexing.md.
#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/creation.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

StridedIndex make_index(const Shape& sizes, const std::vector<int64_t>& strides) {
  StridedIndex ix;
  ix.rank = int(sizes.size());
  for (size_t k = 0; k < sizes.size(); ++k) {
    ix.sizes[k] = sizes[k];
    ix.strides[k] = strides[k];
  }
  return ix;
}

void check_index_tensor(const Tensor& x, const Tensor& index, const std::string& who) {
  check_defined(x, who, "input");
  check_defined(index, who, "index");
  check_same_device({x, index}, who);
  if (index.dtype() != DType::Int64)
    throw DTypeError(who + ": index is " + to_string(index.dtype()) + "; it takes int64");
}

void check_in_range(const Tensor& index, int64_t size, int64_t dim, const Tensor& x,
                    const std::string& who) {
  for (int64_t i : index.values_as<int64_t>())
    if (i < 0 || i >= size)
      throw ArgumentError(who + ": index " + std::to_string(i) + " is out of range for dimension " +
                          std::to_string(dim) + " of size " + std::to_string(size) + " (input " +
                          to_string(x.shape()) + ")");
}

// Runs the gather kernel and records the scatter-add backward.
Tensor gather_impl(const Tensor& x, const Tensor& index, const Shape& out, const StridedIndex& xi,
                   const StridedIndex& ii, int64_t dim_stride, const std::string& who) {
  Tensor y = Tensor::empty(out, x.options());
  const int es = int(element_size(x.dtype()));
  if (x.device().is_cuda())
    index_gather_cuda(xi, ii, dim_stride, es, x.raw_data(), index.data_ptr<int64_t>(), y.raw_data());
  else
    index_gather_cpu(xi, ii, dim_stride, es, x.raw_data(), index.data_ptr<int64_t>(), y.raw_data());
  const SavedTensor saved_index(index);
  return record(y, who, {x}, [x, saved_index, xi, ii, dim_stride, who](const Tensor& dy) {
    const Tensor& idx = saved_index.get(who);
    Tensor dx = zeros(x.shape(), dy.options());
    if (dy.device().is_cuda())
      index_scatter_add_cuda(xi, ii, dim_stride, dy.data(), idx.data_ptr<int64_t>(), dx.data());
    else
      index_scatter_add_cpu(xi, ii, dim_stride, dy.data(), idx.data_ptr<int64_t>(), dx.data());
    accumulate_grad(x, dx);
  });
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_index_tensor(x, index, "index_select");
  if (index.dim() > 1)
    throw ShapeError("index_select: index must be 1-D, got " + to_string(index.shape()));
  const int64_t d = normalize_dim(dim, x.dim(), "index_select");
  const int64_t k = index.numel();
  Shape out = x.shape();
  int64_t outer = 1, size = 1, inner = 1;
  if (x.dim() == 0) {
    if (k != 1)
      throw ShapeError("index_select: a zero-dimensional input takes one index, got " +
                       to_string(index.shape()));
  } else {
    for (int64_t j = 0; j < d; ++j) outer *= x.shape()[j];
    size = x.shape()[d];
    for (int64_t j = d + 1; j < x.dim(); ++j) inner *= x.shape()[j];
    out[d] = k;
  }
  check_in_range(index, size, d, x, "index_select");
  // x seen as [outer, size, inner], the output as [outer, k, inner]: element (o, j, i) reads
  // x[o, index[j], i].
  const StridedIndex xi = make_index({outer, k, inner}, {size * inner, 0, 1});
  const StridedIndex ii = make_index({outer, k, inner}, {0, 1, 0});
  return gather_impl(x, index, out, xi, ii, inner, "index_select");
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_index_tensor(x, index, "gather");
  if (index.dim() != x.dim())
    throw ShapeError("gather: index " + to_string(index.shape()) + " and input " +
                     to_string(x.shape()) + " differ in rank");
  if (x.dim() > kMaxDims)
    throw ShapeError("gather: tensors of more than " + std::to_string(kMaxDims) +
                     " dimensions are not supported, got " + to_string(x.shape()));
  const int64_t d = normalize_dim(dim, x.dim(), "gather");
  for (int64_t j = 0; j < x.dim(); ++j)
    if (j != d && index.shape()[j] > x.shape()[j])
      throw ShapeError("gather: index " + to_string(index.shape()) + " is larger than input " +
                       to_string(x.shape()) + " in dimension " + std::to_string(j));
  const int64_t size = x.dim() ? x.shape()[d] : 1;
  check_in_range(index, size, d, x, "gather");
  // The output walks the index's shape; x is read with its own strides, except along `dim`,
  // where the index gives the coordinate.
  std::vector<int64_t> xs = contiguous_strides(x.shape());
  const int64_t dim_stride = x.dim() ? xs[d] : 1;
  if (x.dim()) xs[d] = 0;
  const StridedIndex xi = make_index(index.shape(), xs);
  const StridedIndex ii = make_index(index.shape(), contiguous_strides(index.shape()));
  return gather_impl(x, index, index.shape(), xi, ii, dim_stride, "gather");
}

}  // namespace dlcraft
