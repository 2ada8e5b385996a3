// The CUDA side of every op, same names as kernels/cpu/kernels_cpu.hpp with _cuda.
// Pointers are device pointers; every launch goes on dlcraft's one stream per device and is
// checked (a failure throws DeviceError naming the op and the CUDA error).
// A build without CUDA links kernels/cuda/stubs.cpp, where each of these throws
// DeviceError("... built without CUDA"). The _cudnn/_cublas variants are the vendor
// backend (references in tests, rivals in benchmarks); without cuDNN they throw likewise.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/shapes.hpp"

namespace dlcraft {

std::string cuda_build_info();  // "CUDA 13.0, cuDNN 9.x, sm_90" or "CPU only"
bool cuda_vendor_available();    // built with cuDNN and cuBLAS
void cuda_synchronize();         // waits for all work on dlcraft's stream
// Free and total bytes on the current GPU (for out-of-memory messages and reports).
void cuda_memory_info(size_t* free_bytes, size_t* total_bytes);
// Page-locked host memory (plain malloc in a CPU-only build), for fast async copies.
void* host_alloc_pinned(size_t bytes);
void host_free_pinned(void* p);

void copy_cuda(void* dst, bool dst_is_cuda, const void* src, bool src_is_cuda, size_t bytes);
void fill_cuda(int64_t n, float value, float* y);
// Sets every byte to 0xFF: float NaN, int32 -1. Used to poison fresh memory in tests.
void poison_cuda(void* p, size_t bytes);
void add_cuda(int64_t n, const float* a, const float* b, float* y);
// ---- all_finite (kernels/cuda/all_finite.cu): *any_nonfinite (one int on the device) is set
// to 0, then to 1 if any of x[0..n) is NaN or ±Inf. No synchronisation: the caller copies the
// flag back (one copy can gather the flags of many tensors).
void all_finite_cuda(int64_t n, const float* x, int32_t* any_nonfinite);

// ---- broadcasting and reductions (kernels/cuda/expand.cu, reduce.cu), as on the CPU ----
void expand_cuda(const StridedIndex& ix, const float* x, float* y, float scale = 1.0f);
void reduce_sum_cuda(const ReduceShape& s, const float* x, float* y);

// ---- element-wise math (the general tensor library) ----
// kernels/cuda/binary.cu, unary.cu, cast.cu: the same as the CPU's (kernels_cpu.hpp), one
// thread per output element, templates on the op (kernels/elementwise_ops.hpp).
enum class BinaryOp : int;
enum class CompareOp : int;
enum class UnaryOp : int;
enum class DType;
void binary_cuda(BinaryOp op, const StridedIndex& ia, const StridedIndex& ib, const float* a,
                 const float* b, float* y);
void binary_scalar_cuda(BinaryOp op, bool scalar_first, int64_t n, const float* a, float b, float* y);
void compare_cuda(CompareOp op, const StridedIndex& ia, const StridedIndex& ib, const float* a,
                  const float* b, uint8_t* y);
void compare_cuda(CompareOp op, const StridedIndex& ia, const StridedIndex& ib, const int64_t* a,
                  const int64_t* b, uint8_t* y);
void compare_scalar_cuda(CompareOp op, int64_t n, const float* a, float b, uint8_t* y);
void compare_scalar_cuda(CompareOp op, int64_t n, const int64_t* a, int64_t b, uint8_t* y);
void where_cuda(const StridedIndex& ic, const StridedIndex& ia, const StridedIndex& ib,
                const uint8_t* cond, const float* a, const float* b, float* y);
void where_cuda(const StridedIndex& ic, const StridedIndex& ia, const StridedIndex& ib,
                const uint8_t* cond, const int64_t* a, const int64_t* b, int64_t* y);
void unary_cuda(UnaryOp op, int64_t n, const float* x, float* y, float p0, float p1);
void unary_backward_cuda(UnaryOp op, int64_t n, const float* s, const float* dy, float* dx,
                         float p0, float p1);
void cast_cuda(DType from, DType to, int64_t n, const void* x, void* y);

// ---- reductions beyond sum, softmax, losses ----
// (kernels/cuda/reduce.cu, reduce_minmax.cu, reduce_moments.cu, softmax.cu, losses.cu), as
// on the CPU (kernels/cpu/kernels_cpu.hpp).
void reduce_mean_cuda(const ReduceShape& s, const float* x, float* y);
void reduce_minmax_cuda(const ReduceShape& s, bool is_max, const float* x, float* values,
                        int64_t* indices);
void reduce_minmax_backward_cuda(const ReduceShape& s, int64_t n, const float* dy,
                                 const int64_t* indices, float* dx);
void reduce_var_cuda(const ReduceShape& s, int64_t correction, bool take_sqrt, const float* x,
                     float* mean, float* out);
void var_backward_cuda(const StridedIndex& ix, float divisor, const float* x, const float* mean,
                       const float* dy, const float* std_or_null, float* dx);
void softmax_forward_cuda(int64_t outer, int64_t dim, int64_t inner, bool log, const float* x,
                          float* y);
void softmax_backward_cuda(int64_t outer, int64_t dim, int64_t inner, bool log, const float* y,
                           const float* dy, float* dx);
void logsumexp_forward_cuda(int64_t outer, int64_t dim, int64_t inner, const float* x, float* y);
void logsumexp_backward_cuda(int64_t outer, int64_t dim, int64_t inner, const float* x,
                             const float* y, const float* dy, float* dx);
void mse_loss_forward_cuda(int64_t n, const float* x, const float* t, float* loss);
void mse_loss_backward_cuda(int64_t n, const float* x, const float* t, const float* dl,
                            int64_t dl_stride, float scale, float* dx, float* dt);
void l1_loss_forward_cuda(int64_t n, const float* x, const float* t, float* loss);
void l1_loss_backward_cuda(int64_t n, const float* x, const float* t, const float* dl,
                           int64_t dl_stride, float scale, float* dx, float* dt);
void bce_loss_forward_cuda(int64_t n, const float* x, const float* t, float* loss);
void bce_loss_backward_cuda(int64_t n, const float* x, const float* t, const float* dl,
                            int64_t dl_stride, float scale, float* dx, float* dt);
void bce_logits_loss_forward_cuda(int64_t n, const float* x, const float* t, float* loss);
void bce_logits_loss_backward_cuda(int64_t n, const float* x, const float* t, const float* dl,
                                   int64_t dl_stride, float scale, float* dx, float* dt);
void nll_loss_forward_cuda(int64_t n, int64_t classes, const float* lp, const int64_t* t,
                           float* loss);
void nll_loss_backward_cuda(int64_t n, int64_t classes, const int64_t* t, const float* dl,
                            int64_t dl_stride, float scale, float* dx);
void cross_entropy_forward_cuda(int64_t n, int64_t classes, float smoothing, const float* z,
                                const int64_t* t, float* loss, float* lse);
void cross_entropy_backward_cuda(int64_t n, int64_t classes, float smoothing, const float* z,
                                 const int64_t* t, const float* lse, const float* dl,
                                 int64_t dl_stride, float scale, float* dz);

// ---- matmul, views and indexing ----
// (kernels/cuda/views.cu, indexing.cu; matmul runs on gemm_cuda), as on the CPU.
void strided_copy_cuda(const StridedIndex& src, const StridedIndex& dst, int elem_size,
                       const void* x, void* y);
void index_gather_cuda(const StridedIndex& xi, const StridedIndex& ii, int64_t dim_stride,
                       int elem_size, const void* x, const int64_t* index, void* y);
// With atomicAdd: threads whose indices repeat add into the same dx element at once.
void index_scatter_add_cuda(const StridedIndex& xi, const StridedIndex& ii, int64_t dim_stride,
                            const float* dy, const int64_t* index, float* dx);

// ---- GEMM (kernels/cuda/gemm.cu): C_b = alpha * op(A_b) * op(B_b) + beta * C_b, row-major,
// for b in [0, batch), with element strides between the batch's matrices. With
// sum_batches, all A_b*B_b are summed into the one C (strideC unused).
struct GemmBatch {
  int batch = 1;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
  bool sum_batches = false;
};
void gemm_cuda(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
               int lda, const float* b, int ldb, float beta, float* c, int ldc,
               const GemmBatch& batch = {});
void gemm_cublas(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                 int lda, const float* b, int ldb, float beta, float* c, int ldc);

// ---- conv2d (kernels/cuda/conv2d.cu; the _cudnn ones in kernels/cuda/vendor.cu) ----
// relu: y = relu(conv + b) in the GEMM's epilogue (docs/fused_epilogues.md).
void conv2d_forward_cuda(const Conv2dShape& s, const float* x, const float* w, const float* b,
                         float* y, bool relu = false);
void conv2d_backward_input_cuda(const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weight_cuda(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                 float* db);
void conv2d_forward_cudnn(const Conv2dShape& s, const float* x, const float* w, const float* b,
                          float* y);
void conv2d_backward_input_cudnn(const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weight_cudnn(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                  float* db);

// ---- linear (kernels/cuda/linear.cu): ours on gemm_cuda, or cuBLAS ----
void linear_forward_cuda(const LinearShape& s, const float* x, const float* w, const float* b,
                         float* y, bool relu = false);
void linear_backward_cuda(const LinearShape& s, const float* x, const float* w, const float* dy,
                          float* dx, float* dw, float* db);
void linear_forward_cublas(const LinearShape& s, const float* x, const float* w, const float* b,
                           float* y);
void linear_backward_cublas(const LinearShape& s, const float* x, const float* w, const float* dy,
                            float* dx, float* dw, float* db);

// ---- element-wise, pooling, loss (kernels/cuda/relu.cu, pooling.cu, softmax_cross_entropy.cu) ----
void relu_forward_cuda(int64_t n, const float* x, float* y);
void relu_backward_cuda(int64_t n, const float* x, const float* dy, float* dx);
void max_pool2d_forward_cuda(const Pool2dShape& s, const float* x, float* y, int32_t* argmax);
void max_pool2d_backward_cuda(const Pool2dShape& s, const float* dy, const int32_t* argmax,
                              float* dx);
void avg_pool2d_forward_cuda(const Pool2dShape& s, const float* x, float* y);
void avg_pool2d_backward_cuda(const Pool2dShape& s, const float* dy, float* dx);
// max_pool2d(relu(x)) in one pass (kernels/cuda/relu_max_pool.cu): as the CPU's.
void relu_max_pool2d_forward_cuda(const Pool2dShape& s, const float* x, float* y, int32_t* argmax);
void relu_max_pool2d_backward_cuda(const Pool2dShape& s, const float* dy, const float* y,
                                   const int32_t* argmax, float* dx);
// Fused: probabilities, the mean loss (into *loss on the device) in one launch.
void softmax_cross_entropy_forward_cuda(int n, int classes, const float* logits,
                                        const int32_t* labels, float* probs, float* loss);
// dloss is read on the device (the loss's gradient tensor), so no host round trip.
void softmax_cross_entropy_backward_cuda(int n, int classes, const float* probs,
                                         const int32_t* labels, const float* dloss, float* dlogits);
// Number of rows whose largest logit is at the label, into *count on the device.
void count_correct_cuda(int n, int classes, const float* logits, const int32_t* labels,
                        int32_t* count);

// ---- optimizers (kernels/cuda/optimizers.cu): one launch updates every parameter ----
struct ParamSlices {
  static constexpr int kMax = 32;  // tensors per launch (more go in further launches)
  int count = 0;
  float* p[kMax];
  const float* g[kMax];
  float* state1[kMax];  // Adam m / SGD momentum buffer
  float* state2[kMax];  // Adam v (unused by SGD)
  int64_t n[kMax];
};
void adam_step_cuda(const AdamStep& h, const ParamSlices& params);
void sgd_step_cuda(const SgdStep& h, const ParamSlices& params);

// ---- data on the GPU (kernels/cuda/augment.cu) ----
// images: the whole set as uint8 (N,3,32,32) on the GPU; indices: `count` rows to take;
// out: (count,3,32,32) float, cropped/flipped with randomness from (seed, epoch, position)
// exactly as datasets/transforms.cpp does on the CPU, then normalised.
struct AugmentParams {
  float mean[3], inv_std[3];
  int padding;  // 0: no crop
  bool flip;
  uint64_t seed, epoch;
  int64_t first_position;  // position of indices[0] in this process's shard of the epoch
  // A shard (data parallelism) holds the epoch's positions offset, offset + stride, ...:
  // image b's crop and flip come from position offset + (first_position + b) * stride, the
  // same as in a one-process run (stride 1, offset 0).
  int64_t position_offset = 0, position_stride = 1;
};
void augment_batch_cuda(const AugmentParams& a, const uint8_t* images, const int64_t* indices,
                        int count, float* out);

// ---- batch_norm (kernels/cuda/batch_norm.cu; the same contract as batch_norm_forward_cpu /
// batch_norm_backward_cpu in kernels/cpu/kernels_cpu.hpp) ----
void batch_norm_forward_cuda(const BatchNormShape& s, bool training, double momentum, double eps,
                             const float* x, const float* weight, const float* bias,
                             float* running_mean, float* running_var, float* y, float* save_mean,
                             float* save_invstd);
void batch_norm_backward_cuda(const BatchNormShape& s, bool training, const float* x,
                              const float* dy, const float* weight, const float* save_mean,
                              const float* save_invstd, float* dx, float* dweight, float* dbias);
// Eval's statistics alone: save_mean = running_mean, save_invstd = 1 / sqrt(running_var + eps)
// (c each); the cuDNN path's eval forward uses it, as cuDNN's inference call returns neither.
void batch_norm_eval_stats_cuda(int64_t c, double eps, const float* running_mean,
                                const float* running_var, float* save_mean, float* save_invstd);
// cuDNN's batch normalisation (kernels/cuda/vendor.cu), the rival: the same contract, except
// that weight and bias must not be null (the op passes ones / zeros for affine=False), and
// backward in training mode only (eval's affine backward is ours).
void batch_norm_forward_cudnn(const BatchNormShape& s, bool training, double momentum, double eps,
                              const float* x, const float* weight, const float* bias,
                              float* running_mean, float* running_var, float* y, float* save_mean,
                              float* save_invstd);
void batch_norm_backward_cudnn(const BatchNormShape& s, double eps, const float* x, const float* dy,
                               const float* weight, const float* save_mean, const float* save_invstd,
                               float* dx, float* dweight, float* dbias);

// ---- adaptive average pooling (kernels/cuda/adaptive_pool.cu) ----
void adaptive_avg_pool2d_forward_cuda(const AdaptivePool2dShape& s, const float* x, float* y);
void adaptive_avg_pool2d_backward_cuda(const AdaptivePool2dShape& s, const float* dy, float* dx);

}  // namespace dlcraft
