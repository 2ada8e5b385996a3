// Unary element-wise ops on the CPU (exp, log, sqrt, abs, sigmoid, tanh, leaky_relu, gelu,
// clamp, neg) and their backward dx = dy * f'(x): one flat loop each, the op a template
// parameter so the loop has no per-element switch. Formulas: kernels/elementwise_ops.hpp.
// docs/elementwise.md.
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/elementwise_ops.hpp"

namespace dlcraft {

void unary_cpu(UnaryOp op, int64_t n_in, const float* x_in, float* y_in, float p0_in, float p1_in) {
  with_unary_op(op, [=](auto tag) {
    constexpr UnaryOp OP = decltype(tag)::value;
    // Locals, not captures: a store to y could alias a captured pointer, and the loop would
    // reload it each element instead of vectorising.
    const int64_t n = n_in;
    const float* const x = x_in;
    float* const y = y_in;
    const float p0 = p0_in, p1 = p1_in;
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) y[i] = unary_apply<OP>(x[i], p0, p1);
  });
}

void unary_backward_cpu(UnaryOp op, int64_t n_in, const float* s_in, const float* dy_in, float* dx_in,
                        float p0_in, float p1_in) {
  with_unary_op(op, [=](auto tag) {
    constexpr UnaryOp OP = decltype(tag)::value;
    const int64_t n = n_in;  // locals, as in unary_cpu
    const float* const s = s_in;
    const float* const dy = dy_in;
    float* const dx = dx_in;
    const float p0 = p0_in, p1 = p1_in;
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) dx[i] = unary_backward_apply<OP>(s[i], dy[i], p0, p1);
  });
}

}  // namespace dlcraft
