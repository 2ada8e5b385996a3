// Views and data movement: transpose/permute, view/flatten/squeeze/unsqueeze/contiguous,
// cat/stack, narrow/slice/select. Tensors stay contiguous, so what PyTorch answers with a
// strided view is a copy here, made by one strided-copy kernel (kernels/cpu/views.cpp,
// kernels/cuda/views.cu); only the reshapes share memory. Every op takes float32, int64 and
// bool; gradients flow for float32:
//   permute -> the inverse permute of dy;  cat -> the slices of dy;  stack -> select(dy, k);
//   narrow/slice/select -> zeros with dy copied into the slice.
// docs/views_and_indexing.md.
#include <algorithm>
#include <utility>

#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/creation.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

// A block of `sizes` elements, walked in row-major order: the i-th is read at
// src_offset + sum_k i_k * src_strides[k] and written at dst_offset + sum_k i_k * dst_strides[k]
// (in elements).
struct Copy {
  Shape sizes;
  std::vector<int64_t> src_strides, dst_strides;
  int64_t src_offset = 0, dst_offset = 0;
};

// Runs a Copy from x's memory into y's (same dtype, same device).
void run_copy(const Copy& c, const Tensor& x, const Tensor& y, const std::string& who) {
  // Fewer dimensions make cheaper offsets: drop the size-1 ones and merge a dimension into the
  // one before when both sides step over it contiguously (a [4,5] block of a [4,5] tensor is
  // one run of 20).
  std::vector<int64_t> sizes, ss, ds;
  for (size_t k = 0; k < c.sizes.size(); ++k) {
    const int64_t n = c.sizes[k];
    if (n == 0) return;
    if (n == 1) continue;
    if (!sizes.empty() && ss.back() == c.src_strides[k] * n && ds.back() == c.dst_strides[k] * n) {
      sizes.back() *= n;
      ss.back() = c.src_strides[k];
      ds.back() = c.dst_strides[k];
    } else {
      sizes.push_back(n);
      ss.push_back(c.src_strides[k]);
      ds.push_back(c.dst_strides[k]);
    }
  }
  if (sizes.size() > size_t(kMaxDims))
    throw ShapeError(who + ": this copy of " + to_string(c.sizes) + " needs more than " +
                     std::to_string(kMaxDims) + " dimensions");
  StridedIndex src, dst;
  src.rank = dst.rank = int(sizes.size());
  for (size_t k = 0; k < sizes.size(); ++k) {
    src.sizes[k] = dst.sizes[k] = sizes[k];
    src.strides[k] = ss[k];
    dst.strides[k] = ds[k];
  }
  const int es = int(element_size(x.dtype()));
  const char* xp = static_cast<const char*>(x.raw_data()) + c.src_offset * es;
  char* yp = static_cast<char*>(y.raw_data()) + c.dst_offset * es;
  if (x.device().is_cuda())
    strided_copy_cuda(src, dst, es, xp, yp);
  else
    strided_copy_cpu(src, dst, es, xp, yp);
}

Tensor permute_impl(const Tensor& x, const std::vector<int64_t>& perm, const std::string& who) {
  const std::vector<int64_t> st = contiguous_strides(x.shape());
  Copy c;
  for (int64_t p : perm) {
    c.sizes.push_back(x.shape()[p]);
    c.src_strides.push_back(st[p]);
  }
  c.dst_strides = contiguous_strides(c.sizes);
  Tensor y = Tensor::empty(c.sizes, x.options());
  run_copy(c, x, y, who);
  std::vector<int64_t> inverse(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) inverse[perm[k]] = int64_t(k);
  return record(y, who, {x}, [x, inverse](const Tensor& dy) {
    accumulate_grad(x, permute(dy, inverse));
  });
}

// x[..., start : start + length*step : step, ...] along dim `d` (dropped when drop_dim): the
// forward of narrow, slice and select. The backward writes dy into the same places of a zero
// tensor of x's shape: the same Copy with its two sides swapped.
Tensor slice_impl(const Tensor& x, int64_t d, int64_t start, int64_t length, int64_t step,
                  bool drop_dim, const std::string& who) {
  const std::vector<int64_t> st = contiguous_strides(x.shape());
  Copy c;
  c.sizes = x.shape();
  c.sizes[d] = length;
  c.src_strides = st;
  c.src_strides[d] *= step;
  c.src_offset = start * st[d];
  c.dst_strides = contiguous_strides(c.sizes);
  Shape out = c.sizes;
  if (drop_dim) out.erase(out.begin() + d);
  Tensor y = Tensor::empty(out, x.options());
  run_copy(c, x, y, who);
  Copy back = c;
  std::swap(back.src_strides, back.dst_strides);
  std::swap(back.src_offset, back.dst_offset);
  const Shape in_shape = x.shape();
  return record(y, who, {x}, [x, back, in_shape, who](const Tensor& dy) {
    Tensor dx = zeros(in_shape, dy.options());
    run_copy(back, dy, dx, who);
    accumulate_grad(x, dx);
  });
}

void check_list(const std::vector<Tensor>& xs, const std::string& who) {
  if (xs.empty()) throw ArgumentError(who + ": an empty list of tensors");
  for (size_t k = 0; k < xs.size(); ++k)
    if (!xs[k].defined())
      throw ArgumentError(who + ": tensor " + std::to_string(k) + " is an undefined tensor");
  check_same_device(xs, who);
  for (size_t k = 1; k < xs.size(); ++k)
    if (xs[k].dtype() != xs[0].dtype())
      throw DTypeError(who + ": tensor " + std::to_string(k) + " is " + to_string(xs[k].dtype()) +
                       ", tensor 0 is " + to_string(xs[0].dtype()) + " (all must be the same)");
}

// The pieces xs (read as `shapes`) side by side along dim d of a new tensor `out`: each one
// copied into its slab of the output.
Tensor join(const std::vector<Tensor>& xs, const std::vector<Shape>& shapes, int64_t d,
            const Shape& out, const std::string& who) {
  Tensor y = Tensor::empty(out, xs[0].options());
  const std::vector<int64_t> out_st = contiguous_strides(out);
  int64_t offset = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    Copy c;
    c.sizes = shapes[k];
    c.src_strides = contiguous_strides(shapes[k]);
    c.dst_strides = out_st;
    c.dst_offset = offset * out_st[d];
    run_copy(c, xs[k], y, who);
    offset += shapes[k][d];
  }
  return y;
}

}  // namespace

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  check_defined(x, "permute", "input");
  std::string dims_str = "[";
  for (size_t k = 0; k < dims.size(); ++k) dims_str += (k ? "," : "") + std::to_string(dims[k]);
  dims_str += "]";
  if (int64_t(dims.size()) != x.dim())
    throw ShapeError("permute: " + dims_str + " has " + std::to_string(dims.size()) +
                     " dimensions, the input " + to_string(x.shape()) + " has " +
                     std::to_string(x.dim()));
  std::vector<int64_t> perm;
  for (int64_t d : dims) {
    const int64_t n = normalize_dim(d, x.dim(), "permute");
    if (std::find(perm.begin(), perm.end(), n) != perm.end())
      throw ShapeError("permute: dimension " + std::to_string(d) + " appears twice in " + dims_str);
    perm.push_back(n);
  }
  return permute_impl(x, perm, "permute");
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  check_defined(x, "transpose", "input");
  const int64_t a = normalize_dim(dim0, x.dim(), "transpose");
  const int64_t b = normalize_dim(dim1, x.dim(), "transpose");
  std::vector<int64_t> perm(size_t(x.dim()));
  for (size_t k = 0; k < perm.size(); ++k) perm[k] = int64_t(k);
  if (x.dim() > 0) std::swap(perm[a], perm[b]);
  return permute_impl(x, perm, "transpose");
}

Tensor view(const Tensor& x, Shape shape) { return reshape(x, std::move(shape)); }

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  check_defined(x, "flatten", "input");
  if (x.dim() == 0) return reshape(x, {1});  // as torch: a 0-d tensor flattens to [1]
  const int64_t s = normalize_dim(start_dim, x.dim(), "flatten");
  const int64_t e = normalize_dim(end_dim, x.dim(), "flatten");
  if (s > e)
    throw ShapeError("flatten: start_dim " + std::to_string(start_dim) + " comes after end_dim " +
                     std::to_string(end_dim) + " for " + to_string(x.shape()));
  Shape out(x.shape().begin(), x.shape().begin() + s);
  int64_t n = 1;
  for (int64_t k = s; k <= e; ++k) n *= x.shape()[k];
  out.push_back(n);
  out.insert(out.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, out);
}

Tensor squeeze(const Tensor& x) {
  check_defined(x, "squeeze", "input");
  Shape out;
  for (int64_t n : x.shape())
    if (n != 1) out.push_back(n);
  return reshape(x, out);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  check_defined(x, "squeeze", "input");
  const int64_t d = normalize_dim(dim, x.dim(), "squeeze");
  Shape out = x.shape();
  if (x.dim() > 0 && out[d] == 1) out.erase(out.begin() + d);
  return reshape(x, out);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  check_defined(x, "unsqueeze", "input");
  const int64_t d = normalize_dim(dim, x.dim() + 1, "unsqueeze");
  Shape out = x.shape();
  out.insert(out.begin() + d, 1);
  return reshape(x, out);
}

Tensor contiguous(const Tensor& x) {
  check_defined(x, "contiguous", "input");
  return x;
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  check_list(xs, "cat");
  const Shape& first = xs[0].shape();
  if (first.empty()) throw ShapeError("cat: zero-dimensional tensor 0 cannot be concatenated");
  const int64_t d = normalize_dim(dim, int64_t(first.size()), "cat");
  Shape out = first;
  out[d] = 0;
  std::vector<Shape> shapes;
  std::vector<int64_t> offsets;
  for (size_t k = 0; k < xs.size(); ++k) {
    const Shape& s = xs[k].shape();
    bool fits = s.size() == first.size();
    for (size_t j = 0; fits && j < s.size(); ++j) fits = int64_t(j) == d || s[j] == first[j];
    if (!fits)
      throw ShapeError("cat: shapes " + to_string(first) + " (tensor 0) and " + to_string(s) +
                       " (tensor " + std::to_string(k) + ") differ outside dimension " +
                       std::to_string(d));
    offsets.push_back(out[d]);
    out[d] += s[d];
    shapes.push_back(s);
  }
  Tensor y = join(xs, shapes, d, out, "cat");
  return record(y, "cat", xs, [xs, shapes, offsets, d](const Tensor& dy) {
    for (size_t k = 0; k < xs.size(); ++k)
      if (xs[k].requires_grad()) accumulate_grad(xs[k], narrow(dy, d, offsets[k], shapes[k][d]));
  });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  check_list(xs, "stack");
  const Shape& first = xs[0].shape();
  for (size_t k = 1; k < xs.size(); ++k)
    if (xs[k].shape() != first)
      throw ShapeError("stack: shapes " + to_string(first) + " (tensor 0) and " +
                       to_string(xs[k].shape()) + " (tensor " + std::to_string(k) +
                       ") differ; stack needs equal shapes");
  const int64_t d = normalize_dim(dim, int64_t(first.size()) + 1, "stack");
  Shape piece = first, out = first;
  piece.insert(piece.begin() + d, 1);
  out.insert(out.begin() + d, int64_t(xs.size()));
  Tensor y = join(xs, std::vector<Shape>(xs.size(), piece), d, out, "stack");
  return record(y, "stack", xs, [xs, d](const Tensor& dy) {
    for (size_t k = 0; k < xs.size(); ++k)
      if (xs[k].requires_grad()) accumulate_grad(xs[k], select(dy, d, int64_t(k)));
  });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  check_defined(x, "narrow", "input");
  if (x.dim() == 0) throw ShapeError("narrow: cannot narrow a zero-dimensional tensor");
  const int64_t d = normalize_dim(dim, x.dim(), "narrow");
  const int64_t size = x.shape()[d];
  const int64_t s = start < 0 ? start + size : start;  // a negative start counts from the end
  if (s < 0 || s > size || length < 0 || s + length > size)
    throw ArgumentError("narrow: start " + std::to_string(start) + " and length " +
                        std::to_string(length) + " do not fit dimension " + std::to_string(d) +
                        " of size " + std::to_string(size) + " (input " + to_string(x.shape()) + ")");
  return slice_impl(x, d, s, length, 1, false, "narrow");
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  check_defined(x, "slice", "input");
  if (x.dim() == 0) throw ShapeError("slice: cannot slice a zero-dimensional tensor");
  if (step < 1) throw ArgumentError("slice: step must be at least 1, got " + std::to_string(step));
  const int64_t d = normalize_dim(dim, x.dim(), "slice");
  const int64_t size = x.shape()[d];
  // As Python: a negative bound counts from the end, then both are clamped to [0, size].
  auto bound = [size](int64_t i) {
    if (i < 0) i += size;
    return std::min(std::max<int64_t>(i, 0), size);
  };
  const int64_t s = bound(start), e = bound(end);
  const int64_t length = e > s ? (e - s + step - 1) / step : 0;
  return slice_impl(x, d, s, length, step, false, "slice");
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  check_defined(x, "select", "input");
  if (x.dim() == 0) throw ShapeError("select: cannot select from a zero-dimensional tensor");
  const int64_t d = normalize_dim(dim, x.dim(), "select");
  const int64_t size = x.shape()[d];
  const int64_t i = index < 0 ? index + size : index;
  if (i < 0 || i >= size)
    throw ArgumentError("select: index " + std::to_string(index) + " is out of range for dimension " +
                        std::to_string(d) + " of size " + std::to_string(size) + " (input " +
                        to_string(x.shape()) + ")");
  return slice_impl(x, d, i, 1, 1, true, "select");
}

}  // namespace dlcraft
