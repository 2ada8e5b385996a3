// dtype conversion on the GPU: one thread per element, the pair of types a template.
// CPU reference: kernels/cpu/cast.cpp (same rules: float -> int64 truncates toward zero and
// saturates, NaN -> 0; -> bool is x != 0). docs/elementwise.md.
#include "core/dtype.hpp"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/elementwise_ops.hpp"

namespace dlcraft {
namespace {

template <class From, class To>
__device__ inline To convert(From v) {
  if constexpr (std::is_same<To, uint8_t>::value) return v != From(0);
  else if constexpr (std::is_same<From, float>::value && std::is_same<To, int64_t>::value) return float_to_int64(v);
  else return static_cast<To>(v);
}

template <class From, class To>
__global__ void cast_kernel(int64_t n, const From* x, To* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = convert<From, To>(x[i]);
}

template <class From, class To>
void cast_launch(int64_t n, const void* x, void* y) {
  launch("cast_cuda", cast_kernel<From, To>, grid_for(n), 256, n, static_cast<const From*>(x), static_cast<To*>(y));
}

template <class From>
void cast_from(DType to, int64_t n, const void* x, void* y) {
  switch (to) {
    case DType::Float32: cast_launch<From, float>(n, x, y); break;
    case DType::Int64: cast_launch<From, int64_t>(n, x, y); break;
    case DType::Bool: cast_launch<From, uint8_t>(n, x, y); break;
  }
}

}  // namespace

void cast_cuda(DType from, DType to, int64_t n, const void* x, void* y) {
  if (n == 0) return;
  switch (from) {
    case DType::Float32: cast_from<float>(to, n, x, y); break;
    case DType::Int64: cast_from<int64_t>(to, n, x, y); break;
    case DType::Bool: cast_from<uint8_t>(to, n, x, y); break;
  }
}

}  // namespace dlcraft
