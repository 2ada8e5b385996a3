// Broadcasting and reduction index helpers (core/broadcast.hpp).
#include "core/broadcast.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace dlcraft {

namespace {
void check_rank(const Shape& s, const std::string& who) {
  if (s.size() > size_t(kMaxDims))
    throw ShapeError(who + ": tensors of more than " + std::to_string(kMaxDims) +
                     " dimensions are not supported, got " + to_string(s));
}
}  // namespace

Shape broadcast_shapes(const std::vector<Shape>& shapes, const std::string& who) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape& s : shapes) {
    check_rank(s, who);
    for (size_t k = 0; k < s.size(); ++k) {
      int64_t& o = out[rank - s.size() + k];
      const int64_t d = s[k];
      if (d == o || d == 1) continue;
      if (o != 1) {
        std::string list;
        for (const Shape& t : shapes) list += (list.empty() ? "" : " and ") + to_string(t);
        throw ShapeError(who + ": shapes " + list + " cannot be broadcast together (dimension " +
                         std::to_string(int64_t(k) - int64_t(s.size())) + ": " +
                         std::to_string(o) + " vs " + std::to_string(d) + ")");
      }
      o = d;
    }
  }
  return out;
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> st(shape.size(), 1);
  for (int64_t k = int64_t(shape.size()) - 2; k >= 0; --k) st[k] = st[k + 1] * shape[k + 1];
  return st;
}

StridedIndex broadcast_index(const Shape& in, const Shape& out) {
  check_rank(out, "broadcast");
  StridedIndex ix;
  ix.rank = int(out.size());
  const std::vector<int64_t> st = contiguous_strides(in);
  const size_t lead = out.size() - in.size();
  for (size_t k = 0; k < out.size(); ++k) {
    ix.sizes[k] = out[k];
    ix.strides[k] = (k < lead || in[k - lead] == 1) ? 0 : st[k - lead];
  }
  return ix;
}

int64_t normalize_dim(int64_t dim, int64_t rank, const std::string& who) {
  const int64_t r = std::max<int64_t>(rank, 1);  // a 0-d tensor takes dim 0 and -1, as in torch
  if (dim < -r || dim >= r)
    throw ShapeError(who + ": dimension " + std::to_string(dim) + " out of range for a tensor of " +
                     std::to_string(rank) + " dimensions");
  return dim < 0 ? dim + r : dim;
}

std::vector<int64_t> reduction_dims(const Shape& in, const std::vector<int64_t>& dims,
                                    const std::string& who) {
  check_rank(in, who);
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (size_t k = 0; k < in.size(); ++k) out.push_back(int64_t(k));
    return out;
  }
  for (int64_t d : dims) {
    const int64_t n = normalize_dim(d, int64_t(in.size()), who);
    if (std::find(out.begin(), out.end(), n) != out.end())
      throw ShapeError(who + ": dimension " + std::to_string(d) + " appears twice");
    out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  if (in.empty()) out.clear();  // a 0-d tensor: dim 0 reduces nothing
  return out;
}

ReduceShape reduce_shape(const Shape& in, const std::vector<int64_t>& dims) {
  const std::vector<int64_t> st = contiguous_strides(in);
  ReduceShape r;
  for (size_t k = 0; k < in.size(); ++k) {
    StridedIndex& ix = std::binary_search(dims.begin(), dims.end(), int64_t(k)) ? r.inner : r.outer;
    ix.sizes[ix.rank] = in[k];
    ix.strides[ix.rank] = st[k];
    ++ix.rank;
  }
  // Fewer dimensions, same offsets: sum over all becomes one contiguous run, a column sum one
  // strided run per output (kernels/shapes.hpp).
  coalesce(r.outer);
  coalesce(r.inner);
  return r;
}

Shape reduced_shape(const Shape& in, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (size_t k = 0; k < in.size(); ++k) {
    if (!std::binary_search(dims.begin(), dims.end(), int64_t(k)))
      out.push_back(in[k]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

}  // namespace dlcraft
