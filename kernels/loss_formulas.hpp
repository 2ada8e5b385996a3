// The point-wise losses (손실 함수) as formulas of one element, shared by the CPU kernels
// (kernels/cpu/losses.cpp) and the CUDA kernels (kernels/cuda/losses.cu), so both compute
// exactly the same thing. x is the input (prediction, probability or logit), t the target;
// grad gives d loss/dx and d loss/dt. docs/losses.md.
#pragma once
#include <cmath>

#include "kernels/shapes.hpp"  // DLCRAFT_HOST_DEVICE

namespace dlcraft {
namespace loss_formula {

// log clamped at -100, as torch's binary_cross_entropy: log(0) = -inf would make the loss
// infinite and its gradient NaN. Written as a comparison so a NaN stays NaN (fmaxf drops it).
DLCRAFT_HOST_DEVICE inline float clamped_log(float v) {
  const float l = logf(v);
  return l < -100.0f ? -100.0f : l;
}
DLCRAFT_HOST_DEVICE inline float clamped_log1m(float v) {  // log(1 - v), clamped
  const float l = log1pf(-v);
  return l < -100.0f ? -100.0f : l;
}

// 1 / (1 + exp(-x)) without overflow: exp of a negative number only.
DLCRAFT_HOST_DEVICE inline float stable_sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

// (x - t)^2
struct Mse {
  DLCRAFT_HOST_DEVICE static float loss(float x, float t) {
    const float d = x - t;
    return d * d;
  }
  DLCRAFT_HOST_DEVICE static void grad(float x, float t, float* gx, float* gt) {
    *gx = 2.0f * (x - t);
    *gt = -*gx;
  }
};

// |x - t|; the gradient is sign(x - t), 0 where x == t (as torch).
struct L1 {
  DLCRAFT_HOST_DEVICE static float loss(float x, float t) { return fabsf(x - t); }
  DLCRAFT_HOST_DEVICE static void grad(float x, float t, float* gx, float* gt) {
    const float d = x - t;
    *gx = d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f);
    *gt = -*gx;
  }
};

// -(t log p + (1 - t) log(1 - p)), logs clamped at -100. d/dp = (p - t) / (p (1 - p)), the
// denominator kept >= 1e-12 as torch does; d/dt = log(1 - p) - log p.
struct Bce {
  DLCRAFT_HOST_DEVICE static float loss(float p, float t) {
    return -(t * clamped_log(p) + (1.0f - t) * clamped_log1m(p));
  }
  DLCRAFT_HOST_DEVICE static void grad(float p, float t, float* gx, float* gt) {
    *gx = (p - t) / fmaxf((1.0f - p) * p, 1e-12f);
    *gt = clamped_log1m(p) - clamped_log(p);
  }
};

// BCE of sigmoid(x), in the stable form max(x, 0) - x t + log(1 + exp(-|x|)): exp never sees
// a positive argument. d/dx = sigmoid(x) - t; d/dt = -x.
struct BceWithLogits {
  DLCRAFT_HOST_DEVICE static float loss(float x, float t) {
    return fmaxf(x, 0.0f) - x * t + log1pf(expf(-fabsf(x)));
  }
  DLCRAFT_HOST_DEVICE static void grad(float x, float t, float* gx, float* gt) {
    *gx = stable_sigmoid(x) - t;
    *gt = -x;
  }
};

}  // namespace loss_formula
}  // namespace dlcraft
