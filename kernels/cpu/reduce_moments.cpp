// Variance and standard deviation over dimensions on the CPU (torch.var / torch.std).
// Two passes per output in double: the mean, then the sum of squared deviations (more
// accurate than sum(x^2) - n mean^2, which cancels badly when the mean is large).
// var = sum (x - mean)^2 / max(0, count - correction): a divisor of 0 gives inf, or NaN when
// the deviations are all 0 too, as torch. Backward:
//   d var / dx_e = 2 (x_e - mean) / divisor,   d std / dx_e = (x_e - mean) / (divisor std)
// (the mean's own dependence on x_e cancels because the deviations sum to 0). Where std is 0
// torch gives a gradient of 0 instead of 0/0; so do we. docs/reductions.md.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

void reduce_var_cpu(const ReduceShape& s, int64_t correction, bool take_sqrt, const float* x,
                    float* mean, float* out) {
  const int64_t outputs = s.outer.count(), count = s.inner.count();
  const double divisor = std::max<double>(0.0, double(count) - double(correction));
#pragma omp parallel for schedule(static) if (outputs * count > 65536)
  for (int64_t o = 0; o < outputs; ++o) {
    const float* base = x + s.outer.offset(o);
    double sum = 0;
    for (int64_t r = 0; r < count; ++r) sum += base[s.inner.offset(r)];
    const double m = sum / double(count);
    double m2 = 0;
    for (int64_t r = 0; r < count; ++r) {
      const double d = base[s.inner.offset(r)] - m;
      m2 += d * d;
    }
    const double v = m2 / divisor;
    mean[o] = float(m);
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
