// A CPU-only build links these: every CUDA entry point throws a clear DeviceError.
// (Generated from kernels_cuda.hpp's declarations; keep the two in step.)
#include <cstdlib>
#include <string>

#include "core/allocator.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw DeviceError(std::string(what) + ": dlcraft was built without CUDA (configure with -DDLCRAFT_CUDA=ON on a machine with the CUDA toolkit)");
}
}  // namespace

bool cuda_available() { return false; }
int cuda_device_count() { return 0; }
void* cuda_raw_alloc(size_t) { no_cuda("cuda_raw_alloc"); }
void cuda_raw_free(void*) {}

std::string cuda_build_info() { return "CPU only"; }
bool cuda_vendor_available() { return false; }
void cuda_synchronize() { no_cuda("cuda_synchronize"); }
void cuda_memory_info(size_t*, size_t*) { no_cuda("cuda_memory_info"); }
void* host_alloc_pinned(size_t bytes) { return std::malloc(bytes == 0 ? 1 : bytes); }
void host_free_pinned(void* p) { std::free(p); }
void copy_cuda(void*, bool, const void*, bool, size_t) { no_cuda("copy_cuda"); }
void fill_cuda(int64_t, float, float*) { no_cuda("fill_cuda"); }
void expand_cuda(const StridedIndex&, const float*, float*, float) { no_cuda("expand_cuda"); }
void reduce_sum_cuda(const ReduceShape&, const float*, float*) { no_cuda("reduce_sum_cuda"); }

// ---- element-wise math (the general tensor library) ----
void binary_cuda(BinaryOp, const StridedIndex&, const StridedIndex&, const float*, const float*, float*) { no_cuda("binary_cuda"); }
void binary_scalar_cuda(BinaryOp, bool, int64_t, const float*, float, float*) { no_cuda("binary_scalar_cuda"); }
void compare_cuda(CompareOp, const StridedIndex&, const StridedIndex&, const float*, const float*, uint8_t*) { no_cuda("compare_cuda"); }
void compare_cuda(CompareOp, const StridedIndex&, const StridedIndex&, const int64_t*, const int64_t*, uint8_t*) { no_cuda("compare_cuda"); }
void compare_scalar_cuda(CompareOp, int64_t, const float*, float, uint8_t*) { no_cuda("compare_scalar_cuda"); }
void compare_scalar_cuda(CompareOp, int64_t, const int64_t*, int64_t, uint8_t*) { no_cuda("compare_scalar_cuda"); }
void where_cuda(const StridedIndex&, const StridedIndex&, const StridedIndex&, const uint8_t*, const float*, const float*, float*) { no_cuda("where_cuda"); }
void where_cuda(const StridedIndex&, const StridedIndex&, const StridedIndex&, const uint8_t*, const int64_t*, const int64_t*, int64_t*) { no_cuda("where_cuda"); }
void unary_cuda(UnaryOp, int64_t, const float*, float*, float, float) { no_cuda("unary_cuda"); }
void unary_backward_cuda(UnaryOp, int64_t, const float*, const float*, float*, float, float) { no_cuda("unary_backward_cuda"); }
void cast_cuda(DType, DType, int64_t, const void*, void*) { no_cuda("cast_cuda"); }

// ---- reductions beyond sum, softmax, losses ----
void reduce_mean_cuda(const ReduceShape&, const float*, float*) { no_cuda("reduce_mean_cuda"); }
void reduce_minmax_cuda(const ReduceShape&, bool, const float*, float*, int64_t*) { no_cuda("reduce_minmax_cuda"); }
void reduce_minmax_backward_cuda(const ReduceShape&, int64_t, const float*, const int64_t*, float*) { no_cuda("reduce_minmax_backward_cuda"); }
void reduce_var_cuda(const ReduceShape&, int64_t, bool, const float*, float*, float*) { no_cuda("reduce_var_cuda"); }
void var_backward_cuda(const StridedIndex&, float, const float*, const float*, const float*, const float*, float*) { no_cuda("var_backward_cuda"); }
void softmax_forward_cuda(int64_t, int64_t, int64_t, bool, const float*, float*) { no_cuda("softmax_forward_cuda"); }
void softmax_backward_cuda(int64_t, int64_t, int64_t, bool, const float*, const float*, float*) { no_cuda("softmax_backward_cuda"); }
void logsumexp_forward_cuda(int64_t, int64_t, int64_t, const float*, float*) { no_cuda("logsumexp_forward_cuda"); }
void logsumexp_backward_cuda(int64_t, int64_t, int64_t, const float*, const float*, const float*, float*) { no_cuda("logsumexp_backward_cuda"); }
void mse_loss_forward_cuda(int64_t, const float*, const float*, float*) { no_cuda("mse_loss_forward_cuda"); }
void mse_loss_backward_cuda(int64_t, const float*, const float*, const float*, int64_t, float, float*, float*) { no_cuda("mse_loss_backward_cuda"); }
void l1_loss_forward_cuda(int64_t, const float*, const float*, float*) { no_cuda("l1_loss_forward_cuda"); }
void l1_loss_backward_cuda(int64_t, const float*, const float*, const float*, int64_t, float, float*, float*) { no_cuda("l1_loss_backward_cuda"); }
void bce_loss_forward_cuda(int64_t, const float*, const float*, float*) { no_cuda("bce_loss_forward_cuda"); }
void bce_loss_backward_cuda(int64_t, const float*, const float*, const float*, int64_t, float, float*, float*) { no_cuda("bce_loss_backward_cuda"); }
void bce_logits_loss_forward_cuda(int64_t, const float*, const float*, float*) { no_cuda("bce_logits_loss_forward_cuda"); }
void bce_logits_loss_backward_cuda(int64_t, const float*, const float*, const float*, int64_t, float, float*, float*) { no_cuda("bce_logits_loss_backward_cuda"); }
void nll_loss_forward_cuda(int64_t, int64_t, const float*, const int64_t*, float*) { no_cuda("nll_loss_forward_cuda"); }
void nll_loss_backward_cuda(int64_t, int64_t, const int64_t*, const float*, int64_t, float, float*) { no_cuda("nll_loss_backward_cuda"); }
void cross_entropy_forward_cuda(int64_t, int64_t, float, const float*, const int64_t*, float*, float*) { no_cuda("cross_entropy_forward_cuda"); }
void cross_entropy_backward_cuda(int64_t, int64_t, float, const float*, const int64_t*, const float*, const float*, int64_t, float, float*) { no_cuda("cross_entropy_backward_cuda"); }

// ---- matmul, views and indexing ----
void strided_copy_cuda(const StridedIndex&, const StridedIndex&, int, const void*, void*) { no_cuda("strided_copy_cuda"); }
void index_gather_cuda(const StridedIndex&, const StridedIndex&, int64_t, int, const void*, const int64_t*, void*) { no_cuda("index_gather_cuda"); }
void index_scatter_add_cuda(const StridedIndex&, const StridedIndex&, int64_t, const float*, const int64_t*, float*) { no_cuda("index_scatter_add_cuda"); }

void poison_cuda(void*, size_t) { no_cuda("poison_cuda"); }
void add_cuda(int64_t, const float*, const float*, float*) { no_cuda("add_cuda"); }
void all_finite_cuda(int64_t, const float*, int32_t*) { no_cuda("all_finite_cuda"); }
void gemm_cuda(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int, const GemmBatch&) { no_cuda("gemm_cuda"); }
void gemm_cublas(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int) { no_cuda("gemm_cublas"); }
void conv2d_forward_cuda(const Conv2dShape&, const float*, const float*, const float*, float*, bool) { no_cuda("conv2d_forward_cuda"); }
void conv2d_backward_input_cuda(const Conv2dShape&, const float*, const float*, float*) { no_cuda("conv2d_backward_input_cuda"); }
void conv2d_backward_weight_cuda(const Conv2dShape&, const float*, const float*, float*, float*) { no_cuda("conv2d_backward_weight_cuda"); }
void conv2d_forward_cudnn(const Conv2dShape&, const float*, const float*, const float*, float*) { no_cuda("conv2d_forward_cudnn"); }
void conv2d_backward_input_cudnn(const Conv2dShape&, const float*, const float*, float*) { no_cuda("conv2d_backward_input_cudnn"); }
void conv2d_backward_weight_cudnn(const Conv2dShape&, const float*, const float*, float*, float*) { no_cuda("conv2d_backward_weight_cudnn"); }
void linear_forward_cuda(const LinearShape&, const float*, const float*, const float*, float*, bool) { no_cuda("linear_forward_cuda"); }
void linear_backward_cuda(const LinearShape&, const float*, const float*, const float*, float*, float*, float*) { no_cuda("linear_backward_cuda"); }
void linear_forward_cublas(const LinearShape&, const float*, const float*, const float*, float*) { no_cuda("linear_forward_cublas"); }
void linear_backward_cublas(const LinearShape&, const float*, const float*, const float*, float*, float*, float*) { no_cuda("linear_backward_cublas"); }
void relu_forward_cuda(int64_t, const float*, float*) { no_cuda("relu_forward_cuda"); }
void relu_backward_cuda(int64_t, const float*, const float*, float*) { no_cuda("relu_backward_cuda"); }
void max_pool2d_forward_cuda(const Pool2dShape&, const float*, float*, int32_t*) { no_cuda("max_pool2d_forward_cuda"); }
void max_pool2d_backward_cuda(const Pool2dShape&, const float*, const int32_t*, float*) { no_cuda("max_pool2d_backward_cuda"); }
void avg_pool2d_forward_cuda(const Pool2dShape&, const float*, float*) { no_cuda("avg_pool2d_forward_cuda"); }
void avg_pool2d_backward_cuda(const Pool2dShape&, const float*, float*) { no_cuda("avg_pool2d_backward_cuda"); }
void relu_max_pool2d_forward_cuda(const Pool2dShape&, const float*, float*, int32_t*) { no_cuda("relu_max_pool2d_forward_cuda"); }
void relu_max_pool2d_backward_cuda(const Pool2dShape&, const float*, const float*, const int32_t*, float*) { no_cuda("relu_max_pool2d_backward_cuda"); }
void softmax_cross_entropy_forward_cuda(int, int, const float*, const int32_t*, float*, float*) { no_cuda("softmax_cross_entropy_forward_cuda"); }
void softmax_cross_entropy_backward_cuda(int, int, const float*, const int32_t*, const float*, float*) { no_cuda("softmax_cross_entropy_backward_cuda"); }
void count_correct_cuda(int, int, const float*, const int32_t*, int32_t*) { no_cuda("count_correct_cuda"); }
void adam_step_cuda(const AdamStep&, const ParamSlices&) { no_cuda("adam_step_cuda"); }
void sgd_step_cuda(const SgdStep&, const ParamSlices&) { no_cuda("sgd_step_cuda"); }
void augment_batch_cuda(const AugmentParams&, const uint8_t*, const int64_t*, int, float*) { no_cuda("augment_batch_cuda"); }

// ---- batch_norm ----
void batch_norm_forward_cuda(const BatchNormShape&, bool, double, double, const float*, const float*, const float*, float*, float*, float*, float*, float*) { no_cuda("batch_norm_forward_cuda"); }
void batch_norm_backward_cuda(const BatchNormShape&, bool, const float*, const float*, const float*, const float*, const float*, float*, float*, float*) { no_cuda("batch_norm_backward_cuda"); }
void batch_norm_eval_stats_cuda(int64_t, double, const float*, const float*, float*, float*) { no_cuda("batch_norm_eval_stats_cuda"); }
void batch_norm_forward_cudnn(const BatchNormShape&, bool, double, double, const float*, const float*, const float*, float*, float*, float*, float*, float*) { no_cuda("batch_norm_forward_cudnn"); }
void batch_norm_backward_cudnn(const BatchNormShape&, double, const float*, const float*, const float*, const float*, const float*, float*, float*, float*) { no_cuda("batch_norm_backward_cudnn"); }

// ---- adaptive average pooling
void adaptive_avg_pool2d_forward_cuda(const AdaptivePool2dShape&, const float*, float*) { no_cuda("adaptive_avg_pool2d_forward_cuda"); }
void adaptive_avg_pool2d_backward_cuda(const AdaptivePool2dShape&, const float*, float*) { no_cuda("adaptive_avg_pool2d_backward_cuda"); }

}  // namespace dlcraft
