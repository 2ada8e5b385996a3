// ReLU on the CPU. See docs/relu.md. y = max(x, 0); dx = dy where x > 0, else 0.
#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

void relu_forward_cpu(int64_t n, const float* x, float* y) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward_cpu(int64_t n, const float* x, const float* dy, float* dx) {
  // The slope is 1 where the input was positive; at exactly 0 we take 0, as PyTorch does.
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

}  // namespace dlcraft
