// dtype conversion on the CPU: float32 <-> int64 <-> bool, one flat loop per pair.
// float -> int64 truncates toward zero (saturating, NaN -> 0: float_to_int64), anything ->
// bool is x != 0 (NaN -> true, as torch). docs/elementwise.md.
#include "core/dtype.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/elementwise_ops.hpp"

namespace dlcraft {
namespace {

template <class From, class To> To convert(From v) {
  if constexpr (std::is_same<To, uint8_t>::value) return v != From(0);
  else if constexpr (std::is_same<From, float>::value && std::is_same<To, int64_t>::value) return float_to_int64(v);
  else return static_cast<To>(v);
}

template <class From, class To> void cast_loop(int64_t n, const void* xv, void* yv) {
  const From* x = static_cast<const From*>(xv);
  To* y = static_cast<To*>(yv);
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = convert<From, To>(x[i]);
}

template <class From> void cast_from(DType to, int64_t n, const void* x, void* y) {
  switch (to) {
    case DType::Float32: cast_loop<From, float>(n, x, y); break;
    case DType::Int64: cast_loop<From, int64_t>(n, x, y); break;
    case DType::Bool: cast_loop<From, uint8_t>(n, x, y); break;
  }
}

}  // namespace

void cast_cpu(DType from, DType to, int64_t n, const void* x, void* y) {
  switch (from) {
    case DType::Float32: cast_from<float>(to, n, x, y); break;
    case DType::Int64: cast_from<int64_t>(to, n, x, y); break;
    case DType::Bool: cast_from<uint8_t>(to, n, x, y); break;
  }
}

}  // namespace dlcraft
