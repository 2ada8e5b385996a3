// Thin wrappers over OpenMP so kernels still build (single-threaded) without it.
#pragma once
#ifdef _OPENMP
#include <omp.h>
#endif

namespace dlcraft {

inline int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

}  // namespace dlcraft
