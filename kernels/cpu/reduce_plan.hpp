// How the CPU reductions walk their input (kernels/cpu/reduce.cpp, reduce_moments.cpp,
// reduce_minmax.cpp). reduce_shape() has coalesced the dimensions (kernels/shapes.hpp), so the
// common cases are recognised from the ReduceShape alone:
//   rows     the reduced elements of an output are contiguous (sum(all), sum over the last
//            dimension): a plain loop per output; with few outputs and a long reduction
//            (sum(all)) the reduction is split into fixed chunks of kReduceChunk elements,
//            summed in parallel and then added in order, so the result does not depend on the
//            thread count;
//   columns  the outputs are contiguous (sum over dim 0, over the batch): whole rows are
//            accumulated into a block of outputs, a vectorisable loop over the outputs,
//            blocks in parallel; each output still adds its inputs in order;
//   general  one offset() per element.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/shapes.hpp"

namespace dlcraft {

constexpr int64_t kReduceChunk = 8192;      // elements per chunk of a long reduction
constexpr int64_t kReduceFewOutputs = 16;   // at most this many outputs: split into chunks
constexpr int64_t kReduceColumnBlock = 128;  // outputs per block of the column walk

inline bool reduce_rows_contiguous(const ReduceShape& s) {
  return s.inner.rank == 0 || (s.inner.rank == 1 && s.inner.strides[0] == 1);
}
inline bool reduce_outputs_contiguous(const ReduceShape& s) {
  return s.outer.rank == 1 && s.outer.strides[0] == 1;
}

// out[o] = sum over r of f(x[outer.offset(o) + inner.offset(r)], o), accumulated in double.
template <class F>
void reduce_sums(const ReduceShape& s, const float* x, double* out, F f) {
  const int64_t outputs = s.outer.count(), count = s.inner.count();
  if (outputs == 0) return;
  const bool par = outputs * count > 65536;
  if (reduce_rows_contiguous(s)) {
    if (outputs <= kReduceFewOutputs && count > kReduceChunk) {
      const int64_t chunks = (count + kReduceChunk - 1) / kReduceChunk;
      std::vector<double> part(size_t(outputs * chunks));
#pragma omp parallel for schedule(static) if (par)
      for (int64_t t = 0; t < outputs * chunks; ++t) {
        const int64_t o = t / chunks, c = t % chunks;
        const float* base = x + s.outer.offset(o) + c * kReduceChunk;
        const int64_t len = c + 1 < chunks ? kReduceChunk : count - c * kReduceChunk;
        double acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t r = 0; r < len; ++r) acc += f(base[r], o);
        part[size_t(t)] = acc;
      }
      for (int64_t o = 0; o < outputs; ++o) {
        double acc = 0;
        for (int64_t c = 0; c < chunks; ++c) acc += part[size_t(o * chunks + c)];
        out[o] = acc;
      }
      return;
    }
#pragma omp parallel for schedule(static) if (par)
    for (int64_t o = 0; o < outputs; ++o) {
      const float* base = x + s.outer.offset(o);
      double acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t r = 0; r < count; ++r) acc += f(base[r], o);
      out[o] = acc;
    }
    return;
  }
  if (reduce_outputs_contiguous(s)) {
    const int64_t blocks = (outputs + kReduceColumnBlock - 1) / kReduceColumnBlock;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t bl = 0; bl < blocks; ++bl) {
      const int64_t o0 = bl * kReduceColumnBlock;
      const int64_t len = std::min<int64_t>(kReduceColumnBlock, outputs - o0);
      double acc[kReduceColumnBlock] = {};
      for (int64_t r = 0; r < count; ++r) {
        const float* row = x + s.inner.offset(r) + o0;
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) acc[j] += f(row[j], o0 + j);
      }
      for (int64_t j = 0; j < len; ++j) out[o0 + j] = acc[j];
    }
    return;
  }
#pragma omp parallel for schedule(static) if (par)
  for (int64_t o = 0; o < outputs; ++o) {
    const float* base = x + s.outer.offset(o);
    double acc = 0;
    for (int64_t r = 0; r < count; ++r) acc += f(base[s.inner.offset(r)], o);
    out[o] = acc;
  }
}

}  // namespace dlcraft
