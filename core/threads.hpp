// How many CPU threads the kernels use (OpenMP loops and Eigen's GEMM follow it).
#pragma once

namespace dlcraft {

void set_num_threads(int threads);  // >= 1
int num_threads();

}  // namespace dlcraft
