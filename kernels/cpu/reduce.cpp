// Reductions on the CPU over any set of dimensions (kernels/shapes.hpp, ReduceShape): output
// element o is the sum of x[outer.offset(o) + inner.offset(r)] over r. The sum runs in double,
// so the result is (within double rounding) the float32 rounding of the exact sum (PyTorch's pairwise float sum is
// within a few ulps of it). The mean is the same sum times 1/count; its backward hands every
// input dy/count (expand_cpu with a scale). docs/reductions.md.
#include <cmath>
#include <vector>

#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cpu/reduce_plan.hpp"

namespace dlcraft {
namespace {

void reduce_scaled(const ReduceShape& s, double scale, const float* x, float* y) {
  const int64_t outputs = s.outer.count();
  std::vector<double> acc(static_cast<size_t>(outputs));
  reduce_sums(s, x, acc.data(), [](float v, int64_t) { return double(v); });
  for (int64_t o = 0; o < outputs; ++o) y[o] = static_cast<float>(acc[size_t(o)] * scale);
}

}  // namespace

void reduce_sum_cpu(const ReduceShape& s, const float* x, float* y) { reduce_scaled(s, 1.0, x, y); }

void reduce_mean_cpu(const ReduceShape& s, const float* x, float* y) {
  const int64_t count = s.inner.count();
  reduce_scaled(s, count > 0 ? 1.0 / double(count) : NAN, x, y);  // torch: the mean of nothing is NaN
}

}  // namespace dlcraft
