// A CPU-only build links these instead of gemm_steps.cu and reduce_steps.cu: each throws a
// clear DeviceError, as kernels/cuda/stubs.cpp does for the library's kernels.
#include <string>

#include "core/error.hpp"
#include "kernels/cuda/kernel_steps.hpp"

namespace dlcraft {
namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw DeviceError(std::string(what) + ": dlcraft was built without CUDA (configure with -DDLCRAFT_CUDA=ON on a machine with the CUDA toolkit, or -DDLCRAFT_CUDA=EMU)");
}
}  // namespace

void gemm_step_cuda(int, int, int, int, const float*, const float*, float*) { no_cuda("gemm_step_cuda"); }
void sum_step_cuda(int, int64_t, const float*, float*) { no_cuda("sum_step_cuda"); }

}  // namespace dlcraft
