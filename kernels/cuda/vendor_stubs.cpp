// A CUDA build without cuDNN links these: the vendor backend (cuDNN/cuBLAS) throws a clear
// DeviceError; our own kernels still run.
#include <string>

#include "core/error.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {
[[noreturn]] void no_vendor(const char* what) {
  throw DeviceError(std::string(what) + ": dlcraft was built without cuDNN/cuBLAS (the vendor backend); use --kernels ours");
}
}  // namespace

bool cuda_vendor_available() { return false; }
void gemm_cublas(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int) { no_vendor("gemm_cublas"); }
void conv2d_forward_cudnn(const Conv2dShape&, const float*, const float*, const float*, float*) { no_vendor("conv2d_forward_cudnn"); }
void conv2d_backward_input_cudnn(const Conv2dShape&, const float*, const float*, float*) { no_vendor("conv2d_backward_input_cudnn"); }
void conv2d_backward_weight_cudnn(const Conv2dShape&, const float*, const float*, float*, float*) { no_vendor("conv2d_backward_weight_cudnn"); }
void linear_forward_cublas(const LinearShape&, const float*, const float*, const float*, float*) { no_vendor("linear_forward_cublas"); }
void linear_backward_cublas(const LinearShape&, const float*, const float*, const float*, float*, float*, float*) { no_vendor("linear_backward_cublas"); }
void batch_norm_forward_cudnn(const BatchNormShape&, bool, double, double, const float*, const float*, const float*, float*, float*, float*, float*, float*) { no_vendor("batch_norm_forward_cudnn"); }
void batch_norm_backward_cudnn(const BatchNormShape&, double, const float*, const float*, const float*, const float*, const float*, float*, float*, float*) { no_vendor("batch_norm_backward_cudnn"); }

}  // namespace dlcraft
