// max / min along dimensions on the CPU, with the position of the winner (torch.max(x, dim)).
// One pass per output over its inputs in order; a later element replaces the best only when it
// is strictly larger (smaller), so the first of equal maxima wins; a NaN beats everything and
// is never replaced, so the first NaN wins and the result is NaN, as torch propagates it.
// The backward is a scatter: the gradient of each output goes to its winner only, the way
// max pooling routes it (docs/pooling.md). docs/reductions.md.
#include <algorithm>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {
namespace {

inline bool beats(float v, float best, bool is_max) {
  if (best != best) return false;  // a NaN already won
  if (v != v) return true;
  return is_max ? v > best : v < best;
}

}  // namespace

void reduce_minmax_cpu(const ReduceShape& s, bool is_max, const float* x, float* values,
                       int64_t* indices) {
  const int64_t outputs = s.outer.count(), count = s.inner.count();
#pragma omp parallel for schedule(static) if (outputs * count > 65536)
  for (int64_t o = 0; o < outputs; ++o) {
    const float* base = x + s.outer.offset(o);
    float best = base[s.inner.offset(0)];
    int64_t at = 0;
    for (int64_t r = 1; r < count; ++r) {
      const float v = base[s.inner.offset(r)];
      if (beats(v, best, is_max)) {
        best = v;
        at = r;
      }
    }
    values[o] = best;
    indices[o] = at;
  }
}

void reduce_minmax_backward_cpu(const ReduceShape& s, int64_t n, const float* dy,
                                const int64_t* indices, float* dx) {
  std::fill(dx, dx + n, 0.0f);
  const int64_t outputs = s.outer.count();
  // Each output has its own winner, so no two outputs write the same element.
  for (int64_t o = 0; o < outputs; ++o) dx[s.outer.offset(o) + s.inner.offset(indices[o])] = dy[o];
}

}  // namespace dlcraft
