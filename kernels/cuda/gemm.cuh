// Internal GEMM entry with an epilogue, used by conv2d.cu and linear.cu.
#pragma once
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

// Applied to each output element after alpha * sum (+ beta * C):
// + bias_row[row] (conv: one bias per output channel), + bias_col[col] (linear), then ReLU.
struct GemmEpilogue {
  const float* bias_row = nullptr;
  const float* bias_col = nullptr;
  bool relu = false;
};

void gemm_cuda_ex(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                  int lda, const float* b, int ldb, float beta, float* c, int ldc,
                  const GemmBatch& batch, const GemmEpilogue& epilogue);

// Linear's bias helpers (kernels/cuda/linear.cu), shared with the cuBLAS variant.
void column_sum_cuda(int n, int out, const float* dy, float* db);     // db = sum over rows of dy
void add_bias_cols_cuda(int n, int out, const float* b, float* y);   // y[i, o] += b[o]

}  // namespace dlcraft
