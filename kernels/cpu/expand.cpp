// expand / broadcast_to on the CPU: y[i] = x[ix.offset(i)] * scale, where ix reads x with
// stride 0 along its broadcast dimensions (kernels/shapes.hpp, StridedIndex); scale is 1 but
// for mean's backward (1/count). docs/broadcasting.md.
#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

void expand_cpu(const StridedIndex& ix, const float* x, float* y, float scale) {
  const int64_t n = ix.count();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = x[ix.offset(i)] * scale;
}

}  // namespace dlcraft
