#include "core/threads.hpp"

#include <string>

#include "core/error.hpp"
#include "kernels/cpu/parallel.hpp"

namespace dlcraft {

void set_num_threads(int threads) {
  if (threads < 1) throw ArgumentError("thread count must be >= 1, got " + std::to_string(threads));
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
}

int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace dlcraft
