// Which kernels the ops run: the one global choice, read by core/ops/conv2d.cpp and linear.cpp
// at forward time (backward uses what its forward used).
#include "core/error.hpp"
#include "core/ops.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {
CpuKernels g_cpu_kernels = CpuKernels::Fast;
CudaKernels g_cuda_kernels = CudaKernels::Ours;
}  // namespace

void set_cpu_kernels(CpuKernels k) { g_cpu_kernels = k; }
CpuKernels cpu_kernels() { return g_cpu_kernels; }

void set_cuda_kernels(CudaKernels k) {
  if (k == CudaKernels::Vendor && !cuda_vendor_available())
    throw DeviceError("the cuDNN/cuBLAS backend was not found when dlcraft was built");
  g_cuda_kernels = k;
}
CudaKernels cuda_kernels() { return g_cuda_kernels; }

}  // namespace dlcraft
