// index_select and gather on the GPU, and their backward (scatter-add). One thread per output
// element: y[i] = x[xi.offset(i) + index[ii.offset(i)] * dim_stride] (kernels/cpu/indexing.cpp
// is the CPU reference and explains xi and ii).
// The backward runs the same walk the other way, dx[...] += dy[i]. With a repeated index,
// two threads add into the same dx element at the same time; a plain `+=` (read, add, write)
// would lose one of the two, so the addition is an atomicAdd. The order of the additions then
// varies from run to run: the sum is the same up to float rounding. docs/views_and_indexing.md.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {
template <class T>
__global__ void index_gather_kernel(StridedIndex xi, StridedIndex ii, int64_t dim_stride, int64_t n,
                                    const T* x, const int64_t* index, T* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = x[xi.offset(i) + index[ii.offset(i)] * dim_stride];
}

__global__ void index_scatter_add_kernel(StridedIndex xi, StridedIndex ii, int64_t dim_stride, int64_t n,
                                         const float* dy, const int64_t* index, float* dx) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    atomicAdd(dx + xi.offset(i) + index[ii.offset(i)] * dim_stride, dy[i]);
}

template <class T>
void run(const StridedIndex& xi, const StridedIndex& ii, int64_t dim_stride, int64_t n, const void* x,
         const int64_t* index, void* y) {
  launch("index_gather_cuda", index_gather_kernel<T>, grid_for(n), 256, xi, ii, dim_stride, n,
         static_cast<const T*>(x), index, static_cast<T*>(y));
}
}  // namespace

void index_gather_cuda(const StridedIndex& xi, const StridedIndex& ii, int64_t dim_stride,
                       int elem_size, const void* x, const int64_t* index, void* y) {
  const int64_t n = xi.count();
  if (n == 0) return;
  switch (elem_size) {
    case 1: run<uint8_t>(xi, ii, dim_stride, n, x, index, y); break;
    case 4: run<uint32_t>(xi, ii, dim_stride, n, x, index, y); break;
    case 8: run<uint64_t>(xi, ii, dim_stride, n, x, index, y); break;
    default: throw ArgumentError("index_gather_cuda: element size " + std::to_string(elem_size));
  }
}

void index_scatter_add_cuda(const StridedIndex& xi, const StridedIndex& ii, int64_t dim_stride,
                            const float* dy, const int64_t* index, float* dx) {
  const int64_t n = xi.count();
  if (n == 0) return;
  launch("index_scatter_add_cuda", index_scatter_add_kernel, grid_for(n), 256, xi, ii, dim_stride, n,
         dy, index, dx);
}

}  // namespace dlcraft
