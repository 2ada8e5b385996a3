// Optimizer updates on the CPU, element by element. See docs/adam.md.
#include <cmath>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

namespace {
// One loop per weight-decay kind, so that Adam's loop stays exactly what it was (no multiply
// by 1 or add of 0 * p) and both vectorise without a branch inside.
template <bool kDecoupled>
void adam_loop(const AdamStep& h, int64_t n, float* p, const float* g, float* m, float* v, float step_size,
               float inv_sqrt_bc2, float decay) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    float gi;
    if constexpr (kDecoupled) {
      p[i] *= decay;  // AdamW: shrink the weight itself, the gradient stays as it is
      gi = g[i];
    } else {
      gi = g[i] + h.weight_decay * p[i];  // Adam: L2 penalty folded into the gradient
    }
    m[i] = h.beta1 * m[i] + (1.0f - h.beta1) * gi;
    v[i] = h.beta2 * v[i] + (1.0f - h.beta2) * gi * gi;
    float denom = std::sqrt(v[i]) * inv_sqrt_bc2 + h.eps;
    p[i] -= step_size * m[i] / denom;
  }
}
}  // namespace

void adam_step_cpu(const AdamStep& h, int64_t n, float* p, const float* g, float* m, float* v) {
  // PyTorch's Adam: bias-corrected moments, eps added after the square root.
  const double bc1 = 1.0 - std::pow(double(h.beta1), double(h.step));
  const double bc2 = 1.0 - std::pow(double(h.beta2), double(h.step));
  const float step_size = float(h.lr / bc1);
  const float inv_sqrt_bc2 = float(1.0 / std::sqrt(bc2));
  if (h.decoupled_weight_decay)
    adam_loop<true>(h, n, p, g, m, v, step_size, inv_sqrt_bc2, adamw_decay(h));
  else
    adam_loop<false>(h, n, p, g, m, v, step_size, inv_sqrt_bc2, 1.0f);
}

void sgd_step_cpu(const SgdStep& h, int64_t n, float* p, const float* g, float* buf) {
  // PyTorch's SGD: buf = momentum*buf + (1-dampening)*g (buf = g on the first step).
#pragma omp parallel for simd schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] + h.weight_decay * p[i];
    if (h.momentum != 0.0f) {
      buf[i] = h.first_step ? gi : h.momentum * buf[i] + (1.0f - h.dampening) * gi;
      gi = h.nesterov ? gi + h.momentum * buf[i] : buf[i];
    }
    p[i] -= h.lr * gi;
  }
}

}  // namespace dlcraft
