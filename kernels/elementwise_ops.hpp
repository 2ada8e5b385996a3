// The element-wise math shared by the CPU and CUDA kernels (kernels/cpu/binary.cpp, unary.cpp,
// cast.cpp and kernels/cuda/binary.cu, unary.cu, cast.cu): which op, and the formula for one
// element, written once as host+device functions so both devices compute the same thing.
// The kernel headers only name these enums (opaque declarations); this header defines them.
// docs/elementwise.md.
#pragma once
#include <math.h>

#include <cstdint>
#include <type_traits>

#include "kernels/shapes.hpp"

namespace dlcraft {

enum class BinaryOp : int { Add, Sub, Mul, Div, Pow, Maximum, Minimum };
enum class CompareOp : int { Eq, Ne, Lt, Le, Gt, Ge };
// LeakyRelu takes p0 = negative slope; Clamp takes p0 = min, p1 = max.
enum class UnaryOp : int { Neg, Exp, Log, Sqrt, Abs, Sigmoid, Tanh, LeakyRelu, Gelu, GeluTanh, Clamp };

// Calls f(std::integral_constant<Op, op>{}) for the runtime `op`: the kernels are templates on
// the op, so the per-element switch is resolved at compile time (host code only).
template <class F> void with_binary_op(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::Add: f(std::integral_constant<BinaryOp, BinaryOp::Add>{}); break;
    case BinaryOp::Sub: f(std::integral_constant<BinaryOp, BinaryOp::Sub>{}); break;
    case BinaryOp::Mul: f(std::integral_constant<BinaryOp, BinaryOp::Mul>{}); break;
    case BinaryOp::Div: f(std::integral_constant<BinaryOp, BinaryOp::Div>{}); break;
    case BinaryOp::Pow: f(std::integral_constant<BinaryOp, BinaryOp::Pow>{}); break;
    case BinaryOp::Maximum: f(std::integral_constant<BinaryOp, BinaryOp::Maximum>{}); break;
    case BinaryOp::Minimum: f(std::integral_constant<BinaryOp, BinaryOp::Minimum>{}); break;
  }
}
template <class F> void with_compare_op(CompareOp op, F&& f) {
  switch (op) {
    case CompareOp::Eq: f(std::integral_constant<CompareOp, CompareOp::Eq>{}); break;
    case CompareOp::Ne: f(std::integral_constant<CompareOp, CompareOp::Ne>{}); break;
    case CompareOp::Lt: f(std::integral_constant<CompareOp, CompareOp::Lt>{}); break;
    case CompareOp::Le: f(std::integral_constant<CompareOp, CompareOp::Le>{}); break;
    case CompareOp::Gt: f(std::integral_constant<CompareOp, CompareOp::Gt>{}); break;
    case CompareOp::Ge: f(std::integral_constant<CompareOp, CompareOp::Ge>{}); break;
  }
}
template <class F> void with_unary_op(UnaryOp op, F&& f) {
  switch (op) {
    case UnaryOp::Neg: f(std::integral_constant<UnaryOp, UnaryOp::Neg>{}); break;
    case UnaryOp::Exp: f(std::integral_constant<UnaryOp, UnaryOp::Exp>{}); break;
    case UnaryOp::Log: f(std::integral_constant<UnaryOp, UnaryOp::Log>{}); break;
    case UnaryOp::Sqrt: f(std::integral_constant<UnaryOp, UnaryOp::Sqrt>{}); break;
    case UnaryOp::Abs: f(std::integral_constant<UnaryOp, UnaryOp::Abs>{}); break;
    case UnaryOp::Sigmoid: f(std::integral_constant<UnaryOp, UnaryOp::Sigmoid>{}); break;
    case UnaryOp::Tanh: f(std::integral_constant<UnaryOp, UnaryOp::Tanh>{}); break;
    case UnaryOp::LeakyRelu: f(std::integral_constant<UnaryOp, UnaryOp::LeakyRelu>{}); break;
    case UnaryOp::Gelu: f(std::integral_constant<UnaryOp, UnaryOp::Gelu>{}); break;
    case UnaryOp::GeluTanh: f(std::integral_constant<UnaryOp, UnaryOp::GeluTanh>{}); break;
    case UnaryOp::Clamp: f(std::integral_constant<UnaryOp, UnaryOp::Clamp>{}); break;
  }
}

// y = a op b. maximum/minimum return NaN when either side is NaN (torch.maximum), which
// fmaxf/fminf would drop; x != x is the NaN test that works on both devices.
template <BinaryOp OP> DLCRAFT_HOST_DEVICE inline float binary_apply(float a, float b) {
  if constexpr (OP == BinaryOp::Add) return a + b;
  else if constexpr (OP == BinaryOp::Sub) return a - b;
  else if constexpr (OP == BinaryOp::Mul) return a * b;
  else if constexpr (OP == BinaryOp::Div) return a / b;
  else if constexpr (OP == BinaryOp::Pow) return powf(a, b);
  else if constexpr (OP == BinaryOp::Maximum) return (a != a || a > b) ? a : b;
  else return (a != a || a < b) ? a : b;  // Minimum
}

template <CompareOp OP, class T> DLCRAFT_HOST_DEVICE inline uint8_t compare_apply(T a, T b) {
  if constexpr (OP == CompareOp::Eq) return a == b;
  else if constexpr (OP == CompareOp::Ne) return a != b;
  else if constexpr (OP == CompareOp::Lt) return a < b;
  else if constexpr (OP == CompareOp::Le) return a <= b;
  else if constexpr (OP == CompareOp::Gt) return a > b;
  else return a >= b;  // Ge
}

// GELU constants: 1/sqrt(2), 1/sqrt(2*pi), sqrt(2/pi) and the tanh form's 0.044715 (torch's).
constexpr float kGeluInvSqrt2 = 0.70710678118654752f;
constexpr float kGeluInvSqrt2Pi = 0.39894228040143268f;
constexpr float kGeluSqrt2OverPi = 0.79788456080286536f;
constexpr float kGeluKappa = 0.044715f;

// y = f(x). p0, p1: the op's parameters (see UnaryOp).
template <UnaryOp OP> DLCRAFT_HOST_DEVICE inline float unary_apply(float x, float p0, float p1) {
  if constexpr (OP == UnaryOp::Neg) return -x;
  else if constexpr (OP == UnaryOp::Exp) return expf(x);
  else if constexpr (OP == UnaryOp::Log) return logf(x);
  else if constexpr (OP == UnaryOp::Sqrt) return sqrtf(x);
  else if constexpr (OP == UnaryOp::Abs) return fabsf(x);
  else if constexpr (OP == UnaryOp::Sigmoid) return 1.0f / (1.0f + expf(-x));
  else if constexpr (OP == UnaryOp::Tanh) return tanhf(x);
  else if constexpr (OP == UnaryOp::LeakyRelu) return x > 0.0f ? x : x * p0;
  else if constexpr (OP == UnaryOp::Gelu) return 0.5f * x * (1.0f + erff(x * kGeluInvSqrt2));
  else if constexpr (OP == UnaryOp::GeluTanh)
    return 0.5f * x * (1.0f + tanhf(kGeluSqrt2OverPi * (x + kGeluKappa * x * x * x)));
  // Clamp: min(max(x, lo), hi) as torch.clamp (hi wins when lo > hi); NaN stays NaN.
  else return x != x ? x : fminf(fmaxf(x, p0), p1);
}

// Which value the backward reads: the input x, or the output y where dy/dx is simpler in y
// (exp: y, sqrt: 1/(2y), sigmoid: y(1-y), tanh: 1-y^2).
DLCRAFT_HOST_DEVICE inline bool unary_backward_reads_output(UnaryOp op) {
  return op == UnaryOp::Exp || op == UnaryOp::Sqrt || op == UnaryOp::Sigmoid || op == UnaryOp::Tanh;
}

// dx = dy * f'(x), given s = x or y as unary_backward_reads_output says.
template <UnaryOp OP> DLCRAFT_HOST_DEVICE inline float unary_backward_apply(float s, float dy, float p0, float p1) {
  if constexpr (OP == UnaryOp::Neg) return -dy;
  else if constexpr (OP == UnaryOp::Exp) return dy * s;
  else if constexpr (OP == UnaryOp::Log) return dy / s;
  else if constexpr (OP == UnaryOp::Sqrt) return dy / (2.0f * s);
  // torch: dy * sgn(x), sgn(0) = 0
  else if constexpr (OP == UnaryOp::Abs) return s > 0.0f ? dy : (s < 0.0f ? -dy : 0.0f * dy);
  else if constexpr (OP == UnaryOp::Sigmoid) return dy * s * (1.0f - s);
  else if constexpr (OP == UnaryOp::Tanh) return dy * (1.0f - s * s);
  else if constexpr (OP == UnaryOp::LeakyRelu) return s > 0.0f ? dy : dy * p0;
  // d/dx x*Phi(x) = Phi(x) + x*phi(x)
  else if constexpr (OP == UnaryOp::Gelu) {
    const float cdf = 0.5f * (1.0f + erff(s * kGeluInvSqrt2));
    const float pdf = kGeluInvSqrt2Pi * expf(-0.5f * s * s);
    return dy * (cdf + s * pdf);
  }
  // torch's GeluBackward for approximate='tanh', term by term.
  else if constexpr (OP == UnaryOp::GeluTanh) {
    const float inner = kGeluSqrt2OverPi * (s + kGeluKappa * s * s * s);
    const float t = tanhf(inner);
    const float left_derivative = 0.5f * (1.0f + t);
    const float right_derivative = (1.0f - t * t) * kGeluSqrt2OverPi * (1.0f + 3.0f * kGeluKappa * s * s);
    return dy * (left_derivative + 0.5f * s * right_derivative);
  }
  // Clamp, as torch: gradient 1 where min <= x <= max (both ends included), else 0 (NaN: 0).
  else return (s >= p0 && s <= p1) ? dy : 0.0f;
}

// float -> int64 truncates toward zero (as torch); values beyond the int64 range saturate and
// NaN gives 0, as the GPU's conversion instruction does, so both devices agree (a plain
// static_cast is undefined behaviour there).
DLCRAFT_HOST_DEVICE inline int64_t float_to_int64(float x) {
  if (x != x) return 0;
  if (x >= 9.2233720368547758e18f) return INT64_MAX;
  if (x <= -9.2233720368547758e18f) return INT64_MIN;
  return static_cast<int64_t>(x);
}

// Whether `ix` reads its tensor in plain row-major order (no broadcast dimension): then
// element i is at offset i and a kernel can skip the index arithmetic.
DLCRAFT_HOST_DEVICE inline bool is_identity(const StridedIndex& ix) {
  int64_t expected = 1;
  for (int d = ix.rank - 1; d >= 0; --d) {
    if (ix.sizes[d] != 1 && ix.strides[d] != expected) return false;
    expected *= ix.sizes[d];
  }
  return true;
}

}  // namespace dlcraft
