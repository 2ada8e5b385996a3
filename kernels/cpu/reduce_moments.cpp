// Variance and standard deviation over dimensions on the CPU (torch.var / torch.std).
// Two passes per output in double (kernels/cpu/reduce_plan.hpp walks the input): the mean, then the sum of squared deviations (more
// accurate than sum(x^2) - n mean^2, which cancels badly when the mean is large).
// var = sum (x - mean)^2 / max(0, count - correction): a divisor of 0 gives inf, or NaN when
// the deviations are all 0 too, as torch. Backward:
//   d var / dx_e = 2 (x_e - mean) / divisor,   d std / dx_e = (x_e - mean) / (divisor std)
// (the mean's own dependence on x_e cancels because the deviations sum to 0). Where std is 0
// torch gives a gradient of 0 instead of 0/0; so do we. docs/reductions.md.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cpu/reduce_plan.hpp"

namespace dlcraft {

void reduce_var_cpu(const ReduceShape& s, int64_t correction, bool take_sqrt, const float* x,
                    float* mean, float* out) {
  const int64_t outputs = s.outer.count(), count = s.inner.count();
  const double divisor = std::max<double>(0.0, double(count) - double(correction));
  std::vector<double> m(static_cast<size_t>(outputs)), m2(static_cast<size_t>(outputs));
  reduce_sums(s, x, m.data(), [](float v, int64_t) { return double(v); });
  for (int64_t o = 0; o < outputs; ++o) m[size_t(o)] /= double(count);
  const double* mp = m.data();
  reduce_sums(s, x, m2.data(), [mp](float v, int64_t o) {
    const double d = v - mp[o];
    return d * d;
  });
  for (int64_t o = 0; o < outputs; ++o) {
    const double v = m2[size_t(o)] / divisor;
    mean[o] = float(m[size_t(o)]);
    out[o] = float(take_sqrt ? std::sqrt(v) : v);
  }
}

void var_backward_cpu(const StridedIndex& ix, float divisor, const float* x, const float* mean,
                      const float* dy, const float* std_or_null, float* dx) {
  const int64_t n = ix.count();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t e = 0; e < n; ++e) {
    const int64_t o = ix.offset(e);
    float coef;
    if (std_or_null)
      coef = std_or_null[o] == 0.0f ? 0.0f : dy[o] / (divisor * std_or_null[o]);
    else
      coef = 2.0f * dy[o] / divisor;
    dx[e] = (x[e] - mean[o]) * coef;
  }
}

}  // namespace dlcraft
