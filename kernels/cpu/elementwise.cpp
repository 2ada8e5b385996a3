// Element-wise kernels on the CPU: fill and add (the residual connection y = f(x) + x).
#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

void fill_cpu(int64_t n, float value, float* y) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = value;
}

void add_cpu(int64_t n, const float* a, const float* b, float* y) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

}  // namespace dlcraft
