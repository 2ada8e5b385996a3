// max / min along dimensions on the CPU, with the position of the winner (torch.max(x, dim)).
// One pass per output over its inputs in order; a later element replaces the best only when it
// is strictly larger (smaller), so the first of equal maxima wins; a NaN beats everything and
// is never replaced, so the first NaN wins and the result is NaN, as torch propagates it.
// The backward is a scatter: the gradient of each output goes to its winner only, the way
// max pooling routes it (docs/pooling.md). docs/reductions.md.
#include <algorithm>
#include <vector>

#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cpu/reduce_plan.hpp"

namespace dlcraft {
namespace {

inline bool beats(float v, float best, bool is_max) {
  if (best != best) return false;  // a NaN already won
  if (v != v) return true;
  return is_max ? v > best : v < best;
}

// The winner of base[r0, r1) by the rule above, in two vectorised passes: the extreme value
// (and whether there is a NaN), then the first element equal to it, which is the element the
// strict one-by-one scan keeps (equal values, -0 and +0 included, never replace it). Returns
// false, leaving the scan to the caller, when the run holds a NaN.
inline bool run_first_extreme(const float* base, int64_t r0, int64_t r1, bool is_max, float& best,
                              int64_t& at) {
  float m = base[r0];
  int nan = 0;
  if (is_max) {
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (int64_t r = r0; r < r1; ++r) {
      m = base[r] > m ? base[r] : m;
      nan |= base[r] != base[r];
    }
  } else {
#pragma omp simd reduction(min : m) reduction(| : nan)
    for (int64_t r = r0; r < r1; ++r) {
      m = base[r] < m ? base[r] : m;
      nan |= base[r] != base[r];
    }
  }
  if (nan) return false;
  for (int64_t r = r0; r < r1; ++r)
    if (base[r] == m) {
      best = base[r];
      at = r;
      return true;
    }
  return false;  // not reached: m is one of the elements
}

}  // namespace

void reduce_minmax_cpu(const ReduceShape& s, bool is_max, const float* x, float* values,
                       int64_t* indices) {
  const int64_t outputs = s.outer.count(), count = s.inner.count();
  if (outputs == 0 || count == 0) return;  // the op raises for count == 0
  const bool par = outputs * count > 65536;
  // The walks of kernels/cpu/reduce_plan.hpp. Every path keeps the rule above: within a run the
  // first winner stays, and runs (chunks) are combined in order with the same strict test.
  if (reduce_rows_contiguous(s)) {
    const int64_t chunk = outputs <= kReduceFewOutputs && count > kReduceChunk ? kReduceChunk : count;
    const int64_t chunks = (count + chunk - 1) / chunk;
    std::vector<float> best(size_t(outputs * chunks));
    std::vector<int64_t> at(size_t(outputs * chunks));
#pragma omp parallel for schedule(static) if (par)
    for (int64_t t = 0; t < outputs * chunks; ++t) {
      const int64_t o = t / chunks, c = t % chunks;
      const int64_t r0 = c * chunk, r1 = std::min(count, r0 + chunk);
      const float* base = x + s.outer.offset(o);
      float b = base[r0];
      int64_t a = r0;
      if (!run_first_extreme(base, r0, r1, is_max, b, a))
        for (int64_t r = r0 + 1; r < r1; ++r)
          if (beats(base[r], b, is_max)) {
            b = base[r];
            a = r;
          }
      best[size_t(t)] = b;
      at[size_t(t)] = a;
    }
    for (int64_t o = 0; o < outputs; ++o) {
      float b = best[size_t(o * chunks)];
      int64_t a = at[size_t(o * chunks)];
      for (int64_t c = 1; c < chunks; ++c)
        if (beats(best[size_t(o * chunks + c)], b, is_max)) {
          b = best[size_t(o * chunks + c)];
          a = at[size_t(o * chunks + c)];
        }
      values[o] = b;
      indices[o] = a;
    }
    return;
  }
  if (reduce_outputs_contiguous(s)) {
    const int64_t blocks = (outputs + kReduceColumnBlock - 1) / kReduceColumnBlock;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t bl = 0; bl < blocks; ++bl) {
      const int64_t o0 = bl * kReduceColumnBlock;
      const int64_t len = std::min<int64_t>(kReduceColumnBlock, outputs - o0);
      float* b = values + o0;
      int64_t* a = indices + o0;
      const float* first = x + s.inner.offset(0) + o0;
      for (int64_t j = 0; j < len; ++j) {
        b[j] = first[j];
        a[j] = 0;
      }
      for (int64_t r = 1; r < count; ++r) {
        const float* row = x + s.inner.offset(r) + o0;
        for (int64_t j = 0; j < len; ++j)
          if (beats(row[j], b[j], is_max)) {
            b[j] = row[j];
            a[j] = r;
          }
      }
    }
    return;
  }
#pragma omp parallel for schedule(static) if (par)
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
