// Small kernels with deliberate bugs, for the emulator's checks (tests/test_emu.cpp and
// test_emu_asan.cpp): a missing barrier, a divergent barrier, a shuffle with an inactive
// lane, an off-by-one tile load. Bug::None is the same kernel done right.
// Each function copies its inputs to the device, runs one kernel and copies the result back.
#pragma once
#include <vector>

namespace dlcraft {
namespace emu_test {

enum class Bug { None, MissingBarrier, DivergentBarrier, InactiveLane, OffByOne };

// The sum of each run of 256 elements of x (one block each; x.size() a multiple of 256).
std::vector<float> block_sums(const std::vector<float>& x, Bug bug);
// y[i] = x[i - 1], y[0] = 0, through shared memory (x has 256 elements).
std::vector<float> shift_right(const std::vector<float>& x, Bug bug);
// C = A * B, all n x n row-major, n a multiple of 16.
std::vector<float> matmul(int n, const std::vector<float>& a, const std::vector<float>& b, Bug bug);
// The sum of each run of 32 elements (one warp each), in blocks of `block_threads` threads.
std::vector<float> warp_sums(const std::vector<float>& x, int block_threads, Bug bug);
// Launches an empty kernel with this configuration.
void launch_empty(unsigned block_threads, unsigned grid_y);

}  // namespace emu_test
}  // namespace dlcraft
