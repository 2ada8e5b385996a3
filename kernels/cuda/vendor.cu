// The vendor backend: cuDNN for conv2d, cuBLAS for GEMM and linear. They are references in
// the GPU tests and rivals in bench (--kernels cudnn), never the only path.
// Both run in plain FP32 (no TF32), so they compute what our kernels compute.
#include <cublas_v2.h>
#include <cudnn.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "core/allocator.hpp"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/gemm.cuh"

namespace dlcraft {
namespace {

void cudnn_check(cudnnStatus_t st, const char* op) {
  if (st != CUDNN_STATUS_SUCCESS) throw DeviceError(std::string(op) + ": cuDNN error " + cudnnGetErrorString(st));
}
void cublas_check(cublasStatus_t st, const char* op) {
  if (st != CUBLAS_STATUS_SUCCESS) throw DeviceError(std::string(op) + ": cuBLAS error " + cublasGetStatusString(st));
}

cudnnHandle_t cudnn() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t handle;
    cudnn_check(cudnnCreate(&handle), "cudnnCreate");
    cudnn_check(cudnnSetStream(handle, dlcraft_stream()), "cudnnSetStream");
    return handle;
  }();
  return h;
}

cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t handle;
    cublas_check(cublasCreate(&handle), "cublasCreate");
    cublas_check(cublasSetStream(handle, dlcraft_stream()), "cublasSetStream");
    cublas_check(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");  // FP32, no TF32
    return handle;
  }();
  return h;
}

// Descriptors and the fastest algorithms for one conv shape, found once and kept.
struct ConvPlan {
  cudnnTensorDescriptor_t x, y, bias;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t conv;
  cudnnConvolutionFwdAlgo_t fwd;
  cudnnConvolutionBwdDataAlgo_t bwd_data;
  cudnnConvolutionBwdFilterAlgo_t bwd_filter;
  size_t workspace = 0;
};

const ConvPlan& plan_for(const Conv2dShape& s) {
  static std::map<std::tuple<int, int, int, int, int, int, int, int, int, int, int>, std::unique_ptr<ConvPlan>> plans;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto key = std::make_tuple(s.n, s.c, s.h, s.w, s.k, s.r, s.s, s.stride_h, s.stride_w, s.pad_h, s.pad_w);
  auto& slot = plans[key];
  if (slot) return *slot;
  auto p = std::make_unique<ConvPlan>();
  const char* op = "cuDNN conv2d plan";
  cudnn_check(cudnnCreateTensorDescriptor(&p->x), op);
  cudnn_check(cudnnCreateTensorDescriptor(&p->y), op);
  cudnn_check(cudnnCreateTensorDescriptor(&p->bias), op);
  cudnn_check(cudnnCreateFilterDescriptor(&p->w), op);
  cudnn_check(cudnnCreateConvolutionDescriptor(&p->conv), op);
  cudnn_check(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.n, s.c, s.h, s.w), op);
  cudnn_check(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.n, s.k, s.out_h(), s.out_w()), op);
  cudnn_check(cudnnSetTensor4dDescriptor(p->bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, s.k, 1, 1), op);
  cudnn_check(cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, s.k, s.c, s.r, s.s), op);
  cudnn_check(cudnnSetConvolution2dDescriptor(p->conv, s.pad_h, s.pad_w, s.stride_h, s.stride_w, 1, 1,
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), op);
  cudnn_check(cudnnSetConvolutionMathType(p->conv, CUDNN_FMA_MATH), op);  // FP32, no TF32
  int found = 0;
  cudnnConvolutionFwdAlgoPerf_t fwd{};
  fwd.status = CUDNN_STATUS_NOT_SUPPORTED;
  cudnn_check(cudnnGetConvolutionForwardAlgorithm_v7(cudnn(), p->x, p->w, p->conv, p->y, 1, &found, &fwd), op);
  cudnnConvolutionBwdDataAlgoPerf_t bwd_data{};
  bwd_data.status = CUDNN_STATUS_NOT_SUPPORTED;
  cudnn_check(cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnn(), p->w, p->y, p->conv, p->x, 1, &found, &bwd_data), op);
  cudnnConvolutionBwdFilterAlgoPerf_t bwd_filter{};
  bwd_filter.status = CUDNN_STATUS_NOT_SUPPORTED;
  cudnn_check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnn(), p->x, p->y, p->conv, p->w, 1, &found, &bwd_filter), op);
  // The heuristics' first answer, or a safe default when they return none that works.
  p->fwd = found > 0 && fwd.status == CUDNN_STATUS_SUCCESS ? fwd.algo : CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  p->bwd_data = bwd_data.status == CUDNN_STATUS_SUCCESS ? bwd_data.algo : CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
  p->bwd_filter = bwd_filter.status == CUDNN_STATUS_SUCCESS ? bwd_filter.algo : CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
  size_t a = 0, b = 0, c = 0;
  cudnn_check(cudnnGetConvolutionForwardWorkspaceSize(cudnn(), p->x, p->w, p->conv, p->y, p->fwd, &a), op);
  cudnn_check(cudnnGetConvolutionBackwardDataWorkspaceSize(cudnn(), p->w, p->y, p->conv, p->x, p->bwd_data, &b), op);
  cudnn_check(cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnn(), p->x, p->y, p->conv, p->w, p->bwd_filter, &c), op);
  p->workspace = std::max({a, b, c, size_t(1)});
  slot = std::move(p);
  return *slot;
}

const float kOne = 1.0f, kZero = 0.0f;

}  // namespace

bool cuda_vendor_available() { return true; }

void gemm_cublas(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc) {
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
  cublas_check(cublasSgemm(cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                           n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc),
               "cublasSgemm");
}

void linear_forward_cublas(const LinearShape& s, const float* x, const float* w, const float* b, float* y) {
  gemm_cublas(false, true, s.n, s.out, s.in, 1.0f, x, s.in, w, s.in, 0.0f, y, s.out);
  if (b) add_bias_cols_cuda(s.n, s.out, b, y);
}

void linear_backward_cublas(const LinearShape& s, const float* x, const float* w, const float* dy, float* dx,
                            float* dw, float* db) {
  if (dx) gemm_cublas(false, false, s.n, s.in, s.out, 1.0f, dy, s.out, w, s.in, 0.0f, dx, s.in);
  if (dw) gemm_cublas(true, false, s.out, s.in, s.n, 1.0f, dy, s.out, x, s.in, 0.0f, dw, s.in);
  if (db) column_sum_cuda(s.n, s.out, dy, db);
}

void conv2d_forward_cudnn(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y) {
  const ConvPlan& p = plan_for(s);
  Buffer ws(Device::cuda(), p.workspace);
  cudnn_check(cudnnConvolutionForward(cudnn(), &kOne, p.x, x, p.w, w, p.conv, p.fwd, ws.data(), p.workspace,
                                      &kZero, p.y, y),
              "cudnnConvolutionForward");
  if (b) cudnn_check(cudnnAddTensor(cudnn(), &kOne, p.bias, b, &kOne, p.y, y), "cudnnAddTensor");
}

void conv2d_backward_input_cudnn(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  const ConvPlan& p = plan_for(s);
  Buffer ws(Device::cuda(), p.workspace);
  cudnn_check(cudnnConvolutionBackwardData(cudnn(), &kOne, p.w, w, p.y, dy, p.conv, p.bwd_data, ws.data(),
                                           p.workspace, &kZero, p.x, dx),
              "cudnnConvolutionBackwardData");
}

void conv2d_backward_weight_cudnn(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db) {
  const ConvPlan& p = plan_for(s);
  Buffer ws(Device::cuda(), p.workspace);
  cudnn_check(cudnnConvolutionBackwardFilter(cudnn(), &kOne, p.x, x, p.y, dy, p.conv, p.bwd_filter, ws.data(),
                                             p.workspace, &kZero, p.w, dw),
              "cudnnConvolutionBackwardFilter");
  if (db) cudnn_check(cudnnConvolutionBackwardBias(cudnn(), &kOne, p.y, dy, &kZero, p.bias, db),
                      "cudnnConvolutionBackwardBias");
}

}  // namespace dlcraft
