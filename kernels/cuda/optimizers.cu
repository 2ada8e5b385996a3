// Adam, AdamW and SGD on the GPU: one launch updates every parameter (of a parameter group). See docs/adam.md.
// The launch gets a table of up to 32 tensors (pointers and sizes, passed by value);
// blockIdx.y picks the tensor, and the x blocks stride over its elements.
#include <cmath>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

// kDecoupled: AdamW (p *= decay first, the gradient untouched); else Adam's L2 in the gradient.
// A template, so that Adam's kernel is exactly what it was before AdamW existed.
template <bool kDecoupled>
__global__ void adam_kernel(AdamStep h, float step_size, float inv_sqrt_bc2, float decay, ParamSlices t) {
  const int which = blockIdx.y;
  float* p = t.p[which];
  const float* g = t.g[which];
  float* m = t.state1[which];
  float* v = t.state2[which];
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < t.n[which]; i += int64_t(gridDim.x) * blockDim.x) {
    float pi = p[i], gi;
    if constexpr (kDecoupled) {
      pi *= decay;
      gi = g[i];
    } else {
      gi = g[i] + h.weight_decay * pi;
    }
    const float mi = h.beta1 * m[i] + (1.0f - h.beta1) * gi;
    const float vi = h.beta2 * v[i] + (1.0f - h.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - step_size * mi / (sqrtf(vi) * inv_sqrt_bc2 + h.eps);
  }
}

__global__ void sgd_kernel(SgdStep h, ParamSlices t) {
  const int which = blockIdx.y;
  float* p = t.p[which];
  const float* g = t.g[which];
  float* buf = t.state1[which];
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < t.n[which]; i += int64_t(gridDim.x) * blockDim.x) {
    float gi = g[i] + h.weight_decay * p[i];
    if (h.momentum != 0.0f) {
      buf[i] = h.first_step ? gi : h.momentum * buf[i] + (1.0f - h.dampening) * gi;
      gi = h.nesterov ? gi + h.momentum * buf[i] : buf[i];
    }
    p[i] -= h.lr * gi;
  }
}

dim3 grid_for_table(const ParamSlices& t) {
  int64_t largest = 1;
  for (int i = 0; i < t.count; ++i) largest = t.n[i] > largest ? t.n[i] : largest;
  return dim3(grid_for(largest) > 1024 ? 1024 : grid_for(largest), t.count);
}

}  // namespace

void adam_step_cuda(const AdamStep& h, const ParamSlices& t) {
  if (t.count == 0) return;
  // The same scalar arithmetic as kernels/cpu/optimizers.cpp, done once on the host.
  const double bc1 = 1.0 - std::pow(double(h.beta1), double(h.step));
  const double bc2 = 1.0 - std::pow(double(h.beta2), double(h.step));
  const float step_size = float(h.lr / bc1), inv_sqrt_bc2 = float(1.0 / std::sqrt(bc2));
  if (h.decoupled_weight_decay)
    launch("adamw_step_cuda", adam_kernel<true>, grid_for_table(t), 256, h, step_size, inv_sqrt_bc2,
           adamw_decay(h), t);
  else
    launch("adam_step_cuda", adam_kernel<false>, grid_for_table(t), 256, h, step_size, inv_sqrt_bc2, 1.0f, t);
}

void sgd_step_cuda(const SgdStep& h, const ParamSlices& t) {
  if (t.count == 0) return;
  launch("sgd_step_cuda", sgd_kernel, grid_for_table(t), 256, h, t);
}

}  // namespace dlcraft
