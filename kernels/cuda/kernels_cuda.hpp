// The CUDA side of every op, same names as kernels/cpu/kernels_cpu.hpp with _cuda.
// Pointers are device pointers. A build without CUDA links kernels/cuda/stubs.cpp, where each
// of these throws DeviceError("... built without CUDA").
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/shapes.hpp"

namespace dlcraft {

std::string cuda_build_info();  // "CUDA 13.0, cuDNN 9.x, sm_90" or "CPU only"

void copy_cuda(void* dst, bool dst_is_cuda, const void* src, bool src_is_cuda, size_t bytes);
void fill_cuda(int64_t n, float value, float* y);
void add_cuda(int64_t n, const float* a, const float* b, float* y);

void conv2d_forward_cuda(const Conv2dShape& s, const float* x, const float* w, const float* b,
                         float* y);
void conv2d_backward_input_cuda(const Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weight_cuda(const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                 float* db);
void linear_forward_cuda(const LinearShape& s, const float* x, const float* w, const float* b,
                         float* y);
void linear_backward_cuda(const LinearShape& s, const float* x, const float* w, const float* dy,
                          float* dx, float* dw, float* db);
void relu_forward_cuda(int64_t n, const float* x, float* y);
void relu_backward_cuda(int64_t n, const float* x, const float* dy, float* dx);
void max_pool2d_forward_cuda(const Pool2dShape& s, const float* x, float* y, int32_t* argmax);
void max_pool2d_backward_cuda(const Pool2dShape& s, const float* dy, const int32_t* argmax,
                              float* dx);
void avg_pool2d_forward_cuda(const Pool2dShape& s, const float* x, float* y);
void avg_pool2d_backward_cuda(const Pool2dShape& s, const float* dy, float* dx);
void softmax_cross_entropy_forward_cuda(int n, int classes, const float* logits,
                                        const int32_t* labels, float* probs, float* loss);
void softmax_cross_entropy_backward_cuda(int n, int classes, const float* probs,
                                         const int32_t* labels, float dloss, float* dlogits);
void adam_step_cuda(const AdamStep& h, int64_t n, float* p, const float* g, float* m, float* v);
void sgd_step_cuda(const SgdStep& h, int64_t n, float* p, const float* g, float* buf);

}  // namespace dlcraft
