// The data movement behind transpose/permute, narrow/slice/select, cat and stack (and the
// backward of each), on the CPU: one strided copy, y[dst.offset(i)] = x[src.offset(i)] for i
// in [0, src.count()). Both sides are walked in the same row-major order of the copied block;
// each reads memory through its own strides (kernels/shapes.hpp, StridedIndex), so
//   permute:        src strides permuted, dst contiguous;
//   slice/select:   src strides of x (the sliced one times the step), dst contiguous;
//   cat / backward: src contiguous, dst strides of the bigger tensor (a "copy into").
// The element is moved as raw bits of its size, so one kernel serves float32, int64 and bool.
// docs/views_and_indexing.md.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {
namespace {
// The last two dimensions of the copy are walked in kTile x kTile tiles, so both sides touch
// whole cache lines even when one of them is transposed (transpose, permute of the last two
// dimensions); the leading dimensions (a batch of such copies) take one offset() per tile.
constexpr int64_t kTile = 32;

template <class T>
void strided_copy(const StridedIndex& src, const StridedIndex& dst, const T* x, T* y) {
  const int64_t n = src.count();
  if (n == 0) return;
  if (src.rank <= 1) {
    const int64_t ss = src.rank ? src.strides[0] : 0, ds = dst.rank ? dst.strides[0] : 0;
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) y[i * ds] = x[i * ss];
    return;
  }
  const int r = src.rank;
  const int64_t rows = src.sizes[r - 2], cols = src.sizes[r - 1];
  const int64_t sr = src.strides[r - 2], sc = src.strides[r - 1];
  const int64_t dr = dst.strides[r - 2], dc = dst.strides[r - 1];
  const int64_t tr = (rows + kTile - 1) / kTile, tc = (cols + kTile - 1) / kTile;
  const int64_t per_batch = tr * tc, tiles = (n / (rows * cols)) * per_batch;
  // The leading dimensions alone (both sides walk them in the same order).
  StridedIndex lead_src = src, lead_dst = dst;
  lead_src.rank = lead_dst.rank = r - 2;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t batch = t / per_batch, tile = t % per_batch;
    const int64_t i0 = (tile / tc) * kTile, j0 = (tile % tc) * kTile;
    const int64_t i1 = std::min(rows, i0 + kTile), j1 = std::min(cols, j0 + kTile);
    const T* xb = x + lead_src.offset(batch);
    T* yb = y + lead_dst.offset(batch);
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = j0; j < j1; ++j) yb[i * dr + j * dc] = xb[i * sr + j * sc];
  }
}
}  // namespace

void strided_copy_cpu(const StridedIndex& src, const StridedIndex& dst, int elem_size,
                      const void* x, void* y) {
  switch (elem_size) {
    case 1: strided_copy(src, dst, static_cast<const uint8_t*>(x), static_cast<uint8_t*>(y)); break;
    case 4: strided_copy(src, dst, static_cast<const uint32_t*>(x), static_cast<uint32_t*>(y)); break;
    case 8: strided_copy(src, dst, static_cast<const uint64_t*>(x), static_cast<uint64_t*>(y)); break;
    default: break;  // the ops only pass the sizes of the three dtypes
  }
}

}  // namespace dlcraft
