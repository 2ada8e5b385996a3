// index_select and gather on the CPU, and their backward (scatter-add). Both ops read
//   y[i] = x[xi.offset(i) + index[ii.offset(i)] * dim_stride]
// walking the output in row-major order: xi reads x with stride 0 along the indexed dimension
// (the index supplies that coordinate), ii reads the index (for index_select: stride 1 along
// the dimension, 0 elsewhere; for gather: the index's own contiguous strides).
// The backward sends each output gradient back to the element it was read from; an element
// read twice (a repeated index) gets the sum. docs/views_and_indexing.md.
#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {
namespace {
template <class T>
void index_gather(const StridedIndex& xi, const StridedIndex& ii, int64_t dim_stride, const T* x,
                  const int64_t* index, T* y) {
  const int64_t n = xi.count();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = x[xi.offset(i) + index[ii.offset(i)] * dim_stride];
}
}  // namespace

void index_gather_cpu(const StridedIndex& xi, const StridedIndex& ii, int64_t dim_stride,
                      int elem_size, const void* x, const int64_t* index, void* y) {
  switch (elem_size) {
    case 1: index_gather(xi, ii, dim_stride, static_cast<const uint8_t*>(x), index, static_cast<uint8_t*>(y)); break;
    case 4: index_gather(xi, ii, dim_stride, static_cast<const uint32_t*>(x), index, static_cast<uint32_t*>(y)); break;
    case 8: index_gather(xi, ii, dim_stride, static_cast<const uint64_t*>(x), index, static_cast<uint64_t*>(y)); break;
    default: break;
  }
}

// One thread, in output order: repeated indices add into the same dx element, so a parallel
// loop would race (the GPU kernel uses atomicAdd instead). The order of the additions is fixed.
void index_scatter_add_cpu(const StridedIndex& xi, const StridedIndex& ii, int64_t dim_stride,
                           const float* dy, const int64_t* index, float* dx) {
  const int64_t n = xi.count();
  for (int64_t i = 0; i < n; ++i) dx[xi.offset(i) + index[ii.offset(i)] * dim_stride] += dy[i];
}

}  // namespace dlcraft
