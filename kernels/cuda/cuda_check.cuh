// Error checking and launch helpers shared by the .cu files (internal, not installed API).
// Every CUDA call is checked; a failure throws DeviceError naming the op and the CUDA error.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace dlcraft {

// dlcraft's stream on the current device: all our kernels and copies are ordered on it.
cudaStream_t dlcraft_stream();

inline void cuda_check(cudaError_t err, const char* op) {
  if (err == cudaSuccess) return;
  // Without a GPU (or its driver) the runtime's words are "insufficient driver": say it plainly.
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver)
    throw DeviceError(std::string(op) + ": no CUDA GPU is visible on this machine (CUDA error " +
                      cudaGetErrorName(err) + ")");
  throw DeviceError(std::string(op) + ": CUDA error " + cudaGetErrorName(err) + " (" +
                    cudaGetErrorString(err) + ")");
}

// After a launch: catches bad launch configurations at once (no synchronisation).
inline void check_launch(const char* op) { cuda_check(cudaGetLastError(), op); }

// Blocks of `threads` to cover n items, capped so a grid-stride loop does the rest.
inline unsigned grid_for(int64_t n, int threads = 256) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  return unsigned(blocks < 1 ? 1 : blocks);
}

}  // namespace dlcraft
