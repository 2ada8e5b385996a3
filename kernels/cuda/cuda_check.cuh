// Error checking and launch helpers shared by the .cu files (internal, not installed API).
// Every CUDA call is checked; a failure throws DeviceError naming the op and the CUDA error.
// In the emulated build (DLCRAFT_CUDA=EMU) <cuda_runtime.h> is kernels/cuda/emu/cuda_runtime.h.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>

#include "core/error.hpp"

namespace dlcraft {

// dlcraft's stream on the current device: all our kernels and copies are ordered on it.
cudaStream_t dlcraft_stream();

inline void cuda_check(cudaError_t err, const std::string& op) {
  if (err == cudaSuccess) return;
  // Without a GPU (or its driver) the runtime's words are "insufficient driver": say it plainly.
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver)
    throw DeviceError(op + ": no CUDA GPU is visible on this machine (CUDA error " + cudaGetErrorName(err) + ")");
  throw DeviceError(op + ": CUDA error " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

// Which op launches a kernel, and from which line (filled in where `launch` is called).
struct LaunchSite {
  const char* op;
  const char* file;
  int line;
  LaunchSite(const char* op_, const char* file_ = __builtin_FILE(), int line_ = __builtin_LINE())
      : op(op_), file(file_), line(line_) {}
  std::string str() const {
    std::string path = file;  // from the project's folders on: kernels/cuda/relu.cu
    for (const char* top : {"/kernels/", "/tests/"})
      if (path.rfind(top) != std::string::npos) {
        path = path.substr(path.rfind(top) + 1);
        break;
      }
    return std::string(op) + " (launched at " + path + ":" + std::to_string(line) + ")";
  }
};

// Every kernel starts here, in place of kernel<<<grid, block, 0, dlcraft_stream()>>>(args...):
//   launch("relu_forward_cuda", relu_forward_kernel, grid_for(n), 256, n, x, y);
// The arguments are converted to the kernel's parameter types and launched on dlcraft's
// stream with cudaLaunchKernel; a bad configuration (block > 1024 threads, grid y or z >
// 65535, ...) throws at once, naming the op and the launching line. The emulated build
// implements cudaLaunchKernel on the CPU, so the same source runs there.
template <typename... Params, typename... Args>
void launch(const LaunchSite& site, void (*kernel)(Params...), dim3 grid, dim3 block, const Args&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "launch: wrong number of kernel arguments");
  std::tuple<std::decay_t<Params>...> values(args...);
  const cudaError_t err = std::apply(
      [&](auto&... v) {
        void* pointers[] = {static_cast<void*>(&v)..., nullptr};
        return cudaLaunchKernel(kernel, grid, block, pointers, 0, dlcraft_stream());
      },
      values);
  const cudaError_t last = cudaGetLastError();  // also clears it
  cuda_check(err != cudaSuccess ? err : last, site.str());
}

// Blocks of `threads` to cover n items, capped so a grid-stride loop does the rest.
inline unsigned grid_for(int64_t n, int threads = 256) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  return unsigned(blocks < 1 ? 1 : blocks);
}

}  // namespace dlcraft
