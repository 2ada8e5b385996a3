// Broadcasting, as NumPy and PyTorch define it: shapes are aligned at their last dimension;
// two sizes fit when they are equal or one is 1 (a missing dimension counts as 1); the result
// takes the larger. [8,1,6] and [7,1] broadcast to [8,7,6]. docs/broadcasting.md.
#pragma once
#include <string>
#include <vector>

#include "core/shape.hpp"
#include "kernels/shapes.hpp"

namespace dlcraft {

// The broadcast shape of all `shapes`; ShapeError naming `who` and the shapes when they don't fit.
Shape broadcast_shapes(const std::vector<Shape>& shapes, const std::string& who);

// How to read a contiguous tensor of shape `in` as if it had the (broadcast) shape `out`:
// sizes are out's, strides are in's with 0 where `in` has size 1 or no dimension.
StridedIndex broadcast_index(const Shape& in, const Shape& out);

// Row-major strides of a contiguous tensor of this shape.
std::vector<int64_t> contiguous_strides(const Shape& shape);

// A dimension index that may count from the end (-1 is the last), checked against `rank`.
int64_t normalize_dim(int64_t dim, int64_t rank, const std::string& who);

// The reduction of a contiguous tensor of shape `in` over `dims` (each in range, no repeats;
// empty means all): which elements each output reads. dims are normalised and sorted.
ReduceShape reduce_shape(const Shape& in, const std::vector<int64_t>& dims);

// The output shape of that reduction: the reduced dimensions dropped, or kept as 1.
Shape reduced_shape(const Shape& in, const std::vector<int64_t>& dims, bool keepdim);

// Normalised, sorted, checked dims for a reduction (all of them when `dims` is empty).
std::vector<int64_t> reduction_dims(const Shape& in, const std::vector<int64_t>& dims,
                                    const std::string& who);

}  // namespace dlcraft
