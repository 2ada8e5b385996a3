// The emulator's engine (DLCRAFT_CUDA=EMU): runs a kernel's grid on the CPU, each CUDA thread
// of a block as a fiber, and checks what a GPU would not tell you. See docs/cuda.md
// ("Running the kernels without a GPU"). The kernel-side names (threadIdx, __syncthreads, ...)
// in kernel_language.hpp call into here; the runtime API (runtime_api.cpp) launches through it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace dlcraft {
namespace emu {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// Where in the kernel source a barrier or a shuffle is: for the checks' messages.
struct Site {
  const char* function;
  const char* file;
  int line;
};

// What one CUDA thread sees: its built-in variables. `current` points at the running thread's
// (in gdb: `p dlcraft::emu::current->thread_idx`).
struct ThreadCoords {
  Dim3 thread_idx, block_idx, block_dim, grid_dim;
};
extern thread_local const ThreadCoords* current;

// In which order the threads of a block run between barriers. Forward is what a first read
// of the code expects; reverse and random shake out a missing __syncthreads.
enum class ThreadOrder { Forward, Reverse, Random };

struct Options {
  ThreadOrder order = ThreadOrder::Forward;
  uint64_t seed = 1;    // for Random
  int workers = 0;      // threads running blocks in parallel (read once); 0: one per core
};
// Read from DLCRAFT_EMU_ORDER (forward | reverse | random[:SEED]) and DLCRAFT_EMU_WORKERS at
// start-up; tests change them here.
Options& options();

// Runs `thread_body` once per thread of the grid, as CUDA would, and returns "" or what went
// wrong (a bad launch configuration, a divergent barrier, a shuffle with an inactive lane).
// `invalid_config` is set when the launch itself was refused.
std::string run_grid(Dim3 grid, Dim3 block, const std::function<void()>& thread_body, bool* invalid_config);

// Called by the kernel (through __syncthreads and __shfl_*_sync): switch to the next thread.
void syncthreads(Site where);
uint64_t shuffle(Site where, unsigned mask, uint64_t value, int src_lane);
int lane_id();  // this thread's lane in its warp (0..31)

}  // namespace emu
}  // namespace dlcraft
