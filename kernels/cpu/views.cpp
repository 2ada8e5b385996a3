// The data movement behind transpose/permute, narrow/slice/select, cat and stack (and the
// backward of each), on the CPU: one strided copy, y[dst.offset(i)] = x[src.offset(i)] for i
// in [0, src.count()). Both sides are walked in the same row-major order of the copied block;
// each reads memory through its own strides (kernels/shapes.hpp, StridedIndex), so
//   permute:        src strides permuted, dst contiguous;
//   slice/select:   src strides of x (the sliced one times the step), dst contiguous;
//   cat / backward: src contiguous, dst strides of the bigger tensor (a "copy into").
// The element is moved as raw bits of its size, so one kernel serves float32, int64 and bool.
// docs/views_and_indexing.md.
#include <cstring>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {
namespace {
template <class T>
void strided_copy(const StridedIndex& src, const StridedIndex& dst, const T* x, T* y) {
  const int64_t n = src.count();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[dst.offset(i)] = x[src.offset(i)];
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
