// Unary element-wise ops on the CPU (exp, log, sqrt, abs, sigmoid, tanh, leaky_relu, gelu,
// clamp, neg) and their backward dx = dy * f'(x): one flat loop each, the op a template
// parameter so the loop has no per-element switch. Formulas: kernels/elementwise_ops.hpp.
// docs/elementwise.md.
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/elementwise_ops.hpp"

namespace dlcraft {

void unary_cpu(UnaryOp op, int64_t n, const float* x, float* y, float p0, float p1) {
  with_unary_op(op, [&](auto tag) {
    constexpr UnaryOp OP = decltype(tag)::value;
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) y[i] = unary_apply<OP>(x[i], p0, p1);
  });
}

void unary_backward_cpu(UnaryOp op, int64_t n, const float* s, const float* dy, float* dx,
                        float p0, float p1) {
  with_unary_op(op, [&](auto tag) {
    constexpr UnaryOp OP = decltype(tag)::value;
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) dx[i] = unary_backward_apply<OP>(s[i], dy[i], p0, p1);
  });
}

}  // namespace dlcraft
