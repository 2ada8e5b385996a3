// The strided copy on the GPU (transpose/permute, narrow/slice/select, cat, stack and their
// backward): one thread per element, y[dst.offset(i)] = x[src.offset(i)]. Threads of a warp
// take neighbouring i, so the contiguous side (the output of a permute, the piece read by
// cat) is accessed coalesced; the strided side is not, which is what a transpose costs.
// CPU reference: kernels/cpu/views.cpp. docs/views_and_indexing.md.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {
template <class T>
__global__ void strided_copy_kernel(StridedIndex src, StridedIndex dst, int64_t n, const T* x, T* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[dst.offset(i)] = x[src.offset(i)];
}

template <class T>
void run(const StridedIndex& src, const StridedIndex& dst, int64_t n, const void* x, void* y) {
  launch("strided_copy_cuda", strided_copy_kernel<T>, grid_for(n), 256, src, dst, n,
         static_cast<const T*>(x), static_cast<T*>(y));
}
}  // namespace

void strided_copy_cuda(const StridedIndex& src, const StridedIndex& dst, int elem_size,
                       const void* x, void* y) {
  const int64_t n = src.count();
  if (n == 0) return;
  // Elements move as raw bits of their size: one kernel for float32, int64 and bool.
  switch (elem_size) {
    case 1: run<uint8_t>(src, dst, n, x, y); break;
    case 4: run<uint32_t>(src, dst, n, x, y); break;
    case 8: run<uint64_t>(src, dst, n, x, y); break;
    default: throw ArgumentError("strided_copy_cuda: element size " + std::to_string(elem_size));
  }
}

}  // namespace dlcraft
