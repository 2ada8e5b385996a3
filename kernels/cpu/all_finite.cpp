// all_finite on the CPU: whether a float array holds no NaN and no ±Inf. See
// docs/all_finite.md for why training checks it; kernels/cuda/all_finite.cu is the GPU half.
#include <cfloat>
#include <cmath>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

bool all_finite_cpu(int64_t n, const float* x) {
  // |x| <= FLT_MAX is false for NaN (every comparison with NaN is) and for ±Inf, and unlike
  // std::isfinite it vectorises to one compare per lane. One read per element, no early exit:
  // the check is memory-bound and a diverged run is the rare case.
  int bad = 0;
#pragma omp parallel for simd schedule(static) reduction(| : bad) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) bad |= !(std::fabs(x[i]) <= FLT_MAX);
  return bad == 0;
}

}  // namespace dlcraft
