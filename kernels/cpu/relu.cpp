// ReLU on the CPU. See docs/relu.md. y = max(x, 0); dx = dy where x > 0, else 0.
// NaN stays NaN, as in PyTorch: a NaN that reached an activation must not be turned into a
// harmless-looking 0 (the divergence guard in train/training.cpp relies on seeing it).
#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

void relu_forward_cpu(int64_t n, const float* x, float* y) {
  // x < 0 is false for NaN, so NaN passes through; -0 stays -0 (PyTorch's clamp_min does too).
  // Threads only for large tensors: a small MLP's layer is cheaper than waking them.
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void relu_backward_cpu(int64_t n, const float* x, const float* dy, float* dx) {
  // The slope is 1 where the input was positive; at exactly 0 we take 0, as PyTorch does.
  // PyTorch's mask is "not (y <= 0)" (threshold_backward on the output), which for a NaN input
  // lets dy through; x <= 0 is the same test on the input.
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] <= 0.0f ? 0.0f : dy[i];
}

}  // namespace dlcraft
