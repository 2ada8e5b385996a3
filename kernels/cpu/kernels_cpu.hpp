// The CPU kernels: what a device must implement, in plain C++ on raw pointers.
// "reference" versions are direct loops that follow the formulas in docs/; the others are the
// fast versions used by default. tests/ checks that both agree and match finite differences.
#pragma once
#include <cstdint>

#include "kernels/shapes.hpp"

namespace dlcraft {

// ---- GEMM (kernels/cpu/gemm.cpp): C = alpha * op(A) * op(B) + beta * C, row-major. ----
// op(A) is m x k, op(B) is k x n, C is m x n; lda/ldb/ldc are row strides.
void gemm_cpu(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
              int lda, const float* b, int ldb, float beta, float* c, int ldc);

// ---- conv2d (kernels/cpu/conv2d.cpp) ----
// relu: y = relu(conv + b) in the same output pass (the fused epilogue, docs/fused_epilogues.md).
void conv2d_forward_reference_cpu(const Conv2dShape& s, const float* x, const float* w,
                                  const float* b, float* y, bool relu = false);
void conv2d_backward_input_reference_cpu(const Conv2dShape& s, const float* dy, const float* w,
                                         float* dx);
void conv2d_backward_weight_reference_cpu(const Conv2dShape& s, const float* x, const float* dy,
                                          float* dw, float* db);
void conv2d_forward_cpu(const Conv2dShape& s, const float* x, const float* w, const float* b,
                        float* y, bool relu = false);
void conv2d_backward_input_cpu(const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weight_cpu(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                float* db);

// ---- conv2d by Winograd (kernels/cpu/conv2d_winograd.cpp, docs/winograd.md) ----
// F(tile x tile, 3x3) with tile 2 or 4 (else ArgumentError): 3x3 kernels with stride 1 and any
// padding (conv2d_winograd_eligible; others raise ArgumentError). Same arguments as above.
bool conv2d_winograd_eligible(const Conv2dShape& s);
void conv2d_forward_winograd_cpu(int tile, const Conv2dShape& s, const float* x, const float* w,
                                 const float* b, float* y, bool relu = false);
void conv2d_backward_input_winograd_cpu(int tile, const Conv2dShape& s, const float* dy,
                                        const float* w, float* dx);
void conv2d_backward_weight_winograd_cpu(int tile, const Conv2dShape& s, const float* x,
                                         const float* dy, float* dw, float* db);

// ---- linear (kernels/cpu/linear.cpp); relu: the fused epilogue, as for conv2d ----
void linear_forward_reference_cpu(const LinearShape& s, const float* x, const float* w,
                                  const float* b, float* y, bool relu = false);
void linear_backward_reference_cpu(const LinearShape& s, const float* x, const float* w,
                                   const float* dy, float* dx, float* dw, float* db);
void linear_forward_cpu(const LinearShape& s, const float* x, const float* w, const float* b,
                        float* y, bool relu = false);
void linear_backward_cpu(const LinearShape& s, const float* x, const float* w, const float* dy,
                         float* dx, float* dw, float* db);

// ---- ReLU (kernels/cpu/relu.cpp) ----
void relu_forward_cpu(int64_t n, const float* x, float* y);
void relu_backward_cpu(int64_t n, const float* x, const float* dy, float* dx);

// ---- pooling (kernels/cpu/pooling.cpp) ----
// argmax[i] is the flat index (within its (n, c) plane) of the input that won output i.
void max_pool2d_forward_cpu(const Pool2dShape& s, const float* x, float* y, int32_t* argmax);
void max_pool2d_backward_cpu(const Pool2dShape& s, const float* dy, const int32_t* argmax,
                             float* dx);
void avg_pool2d_forward_cpu(const Pool2dShape& s, const float* x, float* y);
void avg_pool2d_backward_cpu(const Pool2dShape& s, const float* dy, float* dx);
// max_pool2d(relu(x)) in one pass (kernels/cpu/relu_max_pool.cpp, docs/fused_epilogues.md):
// the same y and argmax as max_pool2d_forward_cpu on relu(x); backward sends dy to the argmax
// where y > 0 (y is the saved output: the mask costs no extra memory).
void relu_max_pool2d_forward_cpu(const Pool2dShape& s, const float* x, float* y, int32_t* argmax);
void relu_max_pool2d_backward_cpu(const Pool2dShape& s, const float* dy, const float* y,
                                  const int32_t* argmax, float* dx);

// ---- softmax cross-entropy (kernels/cpu/softmax_cross_entropy.cpp) ----
// logits (n, classes) -> probs (n, classes) and the mean loss over the batch in *loss.
void softmax_cross_entropy_forward_cpu(int n, int classes, const float* logits,
                                       const int32_t* labels, float* probs, float* loss);
// dlogits = dloss * (probs - onehot(labels)) / n
void softmax_cross_entropy_backward_cpu(int n, int classes, const float* probs,
                                        const int32_t* labels, float dloss, float* dlogits);

// ---- element-wise (kernels/cpu/elementwise.cpp) ----
void fill_cpu(int64_t n, float value, float* y);
void add_cpu(int64_t n, const float* a, const float* b, float* y);

// ---- broadcasting and reductions (kernels/cpu/expand.cpp, reduce.cpp; docs/broadcasting.md) ----
// y (ix.count() elements) = x read through ix (stride 0 along broadcast dimensions), times
// scale (mean's backward hands every input dy/count).
void expand_cpu(const StridedIndex& ix, const float* x, float* y, float scale = 1.0f);
// y[o] = sum over r of x[s.outer.offset(o) + s.inner.offset(r)].
void reduce_sum_cpu(const ReduceShape& s, const float* x, float* y);

// ---- element-wise math (the general tensor library) ----
// kernels/cpu/binary.cpp, unary.cpp, cast.cpp; the ops and their per-element formulas are in
// kernels/elementwise_ops.hpp (these are opaque declarations of its enums). ia/ib/ic read each
// operand as the output's shape (broadcast_index: stride 0 along broadcast dimensions); the
// output has ia.count() elements, contiguous.
enum class BinaryOp : int;
enum class CompareOp : int;
enum class UnaryOp : int;
enum class DType;
// y = a op b
void binary_cpu(BinaryOp op, const StridedIndex& ia, const StridedIndex& ib, const float* a,
                const float* b, float* y);
// y = a op b (or b op a when scalar_first: rsub, rdiv); y may be a (in place)
void binary_scalar_cpu(BinaryOp op, bool scalar_first, int64_t n, const float* a, float b, float* y);
// y = a cmp b as 0/1 bytes (bool)
void compare_cpu(CompareOp op, const StridedIndex& ia, const StridedIndex& ib, const float* a,
                 const float* b, uint8_t* y);
void compare_cpu(CompareOp op, const StridedIndex& ia, const StridedIndex& ib, const int64_t* a,
                 const int64_t* b, uint8_t* y);
void compare_scalar_cpu(CompareOp op, int64_t n, const float* a, float b, uint8_t* y);
void compare_scalar_cpu(CompareOp op, int64_t n, const int64_t* a, int64_t b, uint8_t* y);
// y = cond ? a : b
void where_cpu(const StridedIndex& ic, const StridedIndex& ia, const StridedIndex& ib,
               const uint8_t* cond, const float* a, const float* b, float* y);
void where_cpu(const StridedIndex& ic, const StridedIndex& ia, const StridedIndex& ib,
               const uint8_t* cond, const int64_t* a, const int64_t* b, int64_t* y);
// y = f(x); p0, p1 the op's parameters (leaky_relu's slope, clamp's bounds)
void unary_cpu(UnaryOp op, int64_t n, const float* x, float* y, float p0, float p1);
// dx = dy * f'(x) from s = x, or y for exp/sqrt/sigmoid/tanh (unary_backward_reads_output)
void unary_backward_cpu(UnaryOp op, int64_t n, const float* s, const float* dy, float* dx,
                        float p0, float p1);
// y = x converted (float -> int64 truncates toward zero, -> bool is x != 0)
void cast_cpu(DType from, DType to, int64_t n, const void* x, void* y);

// ---- reductions beyond sum, softmax, losses ----
// (kernels/cpu/reduce.cpp, reduce_minmax.cpp, reduce_moments.cpp, softmax.cpp, losses.cpp;
// docs/reductions.md, docs/losses.md). A reduction's output o reads x[outer.offset(o) +
// inner.offset(r)] for r in [0, count) as reduce_sum does; `ix` arguments read a tensor of the
// reduced shape (reduced dimensions kept as 1) as x's shape, as expand does.
// mean: y[o] = sum / count (NaN for count 0); backward: expand_cpu with scale 1/count.
void reduce_mean_cpu(const ReduceShape& s, const float* x, float* y);
// max (is_max) / min: the value and its position r; the first on ties, and a NaN wins (the
// first NaN), as torch. count >= 1. Backward: dx = 0 but dx[at index[o]] = dy[o]; n = x's size.
void reduce_minmax_cpu(const ReduceShape& s, bool is_max, const float* x, float* values,
                       int64_t* indices);
void reduce_minmax_backward_cpu(const ReduceShape& s, int64_t n, const float* dy,
                                const int64_t* indices, float* dx);
// var (or std when take_sqrt): mean[o] and sum (x - mean)^2 / max(0, count - correction).
// Backward: dx[e] = (x[e] - mean[o]) * 2 dy[o] / divisor for var, and
// (x[e] - mean[o]) * dy[o] / (divisor * std[o]) for std (0 where std is 0); o = ix.offset(e).
void reduce_var_cpu(const ReduceShape& s, int64_t correction, bool take_sqrt, const float* x,
                    float* mean, float* out);
void var_backward_cpu(const StridedIndex& ix, float divisor, const float* x, const float* mean,
                      const float* dy, const float* std_or_null, float* dx);
// softmax / log_softmax (log) along the middle axis of x seen as (outer, dim, inner), and
// their backward from the output y: dx = y (dy - sum(dy y)), or dx = dy - exp(y) sum(dy).
void softmax_forward_cpu(int64_t outer, int64_t dim, int64_t inner, bool log, const float* x,
                         float* y);
void softmax_backward_cpu(int64_t outer, int64_t dim, int64_t inner, bool log, const float* y,
                          const float* dy, float* dx);
// logsumexp over that axis: y (outer, inner); backward dx = dy * exp(x - y).
void logsumexp_forward_cpu(int64_t outer, int64_t dim, int64_t inner, const float* x, float* y);
void logsumexp_backward_cpu(int64_t outer, int64_t dim, int64_t inner, const float* x,
                            const float* y, const float* dy, float* dx);
// Point-wise losses of input x and target t (n elements each) into loss[n]. Backward: the
// loss's gradient is dl[e * dl_stride] (stride 0: one value for a mean or sum) times scale;
// dx and/or dt may be null (no gradient wanted).
void mse_loss_forward_cpu(int64_t n, const float* x, const float* t, float* loss);
void mse_loss_backward_cpu(int64_t n, const float* x, const float* t, const float* dl,
                           int64_t dl_stride, float scale, float* dx, float* dt);
void l1_loss_forward_cpu(int64_t n, const float* x, const float* t, float* loss);
void l1_loss_backward_cpu(int64_t n, const float* x, const float* t, const float* dl,
                          int64_t dl_stride, float scale, float* dx, float* dt);
void bce_loss_forward_cpu(int64_t n, const float* x, const float* t, float* loss);
void bce_loss_backward_cpu(int64_t n, const float* x, const float* t, const float* dl,
                           int64_t dl_stride, float scale, float* dx, float* dt);
void bce_logits_loss_forward_cpu(int64_t n, const float* x, const float* t, float* loss);
void bce_logits_loss_backward_cpu(int64_t n, const float* x, const float* t, const float* dl,
                                  int64_t dl_stride, float scale, float* dx, float* dt);
// nll: loss[i] = -lp[i, t[i]]; backward dx[i, j] = -dl[i * dl_stride] * scale where j = t[i].
void nll_loss_forward_cpu(int64_t n, int64_t classes, const float* lp, const int64_t* t,
                          float* loss);
void nll_loss_backward_cpu(int64_t n, int64_t classes, const int64_t* t, const float* dl,
                           int64_t dl_stride, float scale, float* dx);
// cross-entropy with label smoothing e: loss[i] = lse_i - (1-e) z[i,t_i] - e/C sum_j z[i,j]
// (lse_i kept for backward); dz = (softmax - (1-e) onehot - e/C) * dl[i * dl_stride] * scale.
void cross_entropy_forward_cpu(int64_t n, int64_t classes, float smoothing, const float* z,
                               const int64_t* t, float* loss, float* lse);
void cross_entropy_backward_cpu(int64_t n, int64_t classes, float smoothing, const float* z,
                                const int64_t* t, const float* lse, const float* dl,
                                int64_t dl_stride, float scale, float* dz);

// ---- matmul, views and indexing ----
// (kernels/cpu/views.cpp, indexing.cpp; matmul runs on gemm_cpu; docs/views_and_indexing.md)
// y[dst.offset(i)] = x[src.offset(i)] for i in [0, src.count()): elements of elem_size bytes
// (1, 4 or 8: bool, float32, int64) moved as raw bits; src and dst have the same sizes.
void strided_copy_cpu(const StridedIndex& src, const StridedIndex& dst, int elem_size,
                      const void* x, void* y);
// y[i] = x[xi.offset(i) + index[ii.offset(i)] * dim_stride] for i in [0, xi.count()): the
// forward of index_select and gather (indices checked in range by the caller).
void index_gather_cpu(const StridedIndex& xi, const StridedIndex& ii, int64_t dim_stride,
                      int elem_size, const void* x, const int64_t* index, void* y);
// Their backward: dx[xi.offset(i) + index[ii.offset(i)] * dim_stride] += dy[i] (dx zeroed
// by the caller; repeated indices add up).
void index_scatter_add_cpu(const StridedIndex& xi, const StridedIndex& ii, int64_t dim_stride,
                           const float* dy, const int64_t* index, float* dx);

// ---- all_finite (kernels/cpu/all_finite.cpp): no NaN and no ±Inf among x[0..n) ----
bool all_finite_cpu(int64_t n, const float* x);

// ---- optimizers (kernels/cpu/optimizers.cpp): update p in place ----
void adam_step_cpu(const AdamStep& h, int64_t n, float* p, const float* g, float* m, float* v);
void sgd_step_cpu(const SgdStep& h, int64_t n, float* p, const float* g, float* buf);

// ---- batch_norm (kernels/cpu/batch_norm.cpp; docs/batch_norm.md) ----
// Forward, one channel at a time. training: mean and biased var of the channel's n * inner
// values (two passes in double), and where running_mean / running_var are not null,
// running = (1 - momentum) * running + momentum * stat (the var unbiased); eval: mean and var
// are running_mean / running_var. save_mean and save_invstd (c each) get mean and
// 1 / sqrt(var + eps) for backward. y = (x - mean) * invstd * weight + bias, where a null
// weight / bias means 1 / 0 (affine=False).
void batch_norm_forward_cpu(const BatchNormShape& s, bool training, double momentum, double eps,
                            const float* x, const float* weight, const float* bias,
                            float* running_mean, float* running_var, float* y, float* save_mean,
                            float* save_invstd);
// Backward: dbias = sum dy and dweight = sum dy * xhat per channel (c each, always written;
// xhat = (x - mean) * invstd), then dx when not null:
//   training: dx = weight * invstd / M * (M * dy - dbias - xhat * dweight)   (M = n * inner)
//   eval:     dx = weight * invstd * dy                                      (an affine map)
void batch_norm_backward_cpu(const BatchNormShape& s, bool training, const float* x,
                             const float* dy, const float* weight, const float* save_mean,
                             const float* save_invstd, float* dx, float* dweight, float* dbias);

// ---- adaptive average pooling (kernels/cpu/adaptive_pool.cpp): windows as AdaptivePool2dShape ----
void adaptive_avg_pool2d_forward_cpu(const AdaptivePool2dShape& s, const float* x, float* y);
void adaptive_avg_pool2d_backward_cpu(const AdaptivePool2dShape& s, const float* dy, float* dx);

}  // namespace dlcraft
