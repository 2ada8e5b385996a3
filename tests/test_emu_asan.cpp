// Built with AddressSanitizer in the emulated build: runs the tiled matmul whose A tile is read
// one column too far. AddressSanitizer must stop it with a heap-buffer-overflow naming
// matmul_kernel and its line (ctest checks the report; see tests/CMakeLists.txt).
#include <cstdio>
#include <vector>

#include "kernels/cuda/cuda_check.cuh"
#include "tests/emu_broken_kernels.hpp"

namespace dlcraft {
cudaStream_t dlcraft_stream() { return nullptr; }  // this program links the emulator alone
}  // namespace dlcraft

int main() {
  using namespace dlcraft::emu_test;
  const int n = 32;
  const std::vector<float> a(n * n, 1.0f), b(n * n, 1.0f);
  const std::vector<float> good = matmul(n, a, b, Bug::None);
  std::printf("matmul without the bug: c[0] = %g (want %d)\n", good[0], n);
  std::fflush(stdout);
  matmul(n, a, b, Bug::OffByOne);
  std::printf("the off-by-one load went unnoticed\n");
  return 1;
}
