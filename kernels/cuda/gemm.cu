// GEMM on the GPU, ours: C = alpha * op(A) * op(B) + beta * C, row-major. See docs/gemm.md.
// Step 3, the last, of the series in kernels/cuda/gemm_steps.cu (v0 naive -> v1 shared tiles ->
// v2 2x2 register tiles -> this kernel; docs/kernel_steps.md): gemm_step_cuda(3, ...) calls
// gemm_cuda below, so the series ends with the shipped code, not a copy of it.
//   1: tiled, register-blocked — a 64x64 tile of C per block of 256 threads, each thread a
//      4x4 block of C in registers; A and B pass through shared memory 16 columns at a time.
//   Split-K / split-batch: when C has too few tiles to fill the GPU (linear at batch 32, the
//   weight gradient of a conv summed over images), slices of the K (or batch) loop run in
//   parallel into a workspace, and a second kernel adds the slices in a fixed order.
#include <algorithm>
#include <memory>

#include "core/allocator.hpp"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/gemm_split.hpp"

namespace dlcraft {
namespace {

constexpr int BM = 64, BN = 64, BK = 16, THREADS = 256;

struct GemmArgs {
  bool ta, tb;
  int m, n, k;
  float alpha, beta;
  const float* a;
  int lda;
  int64_t sa;
  const float* b;
  int ldb;
  int64_t sb;
  float* c;
  int ldc;
  int64_t sc;
  int batch;
  // Partial mode: blockIdx.z = bz * ksplit + kz sums batches bz, bz+bsplit, ... over the K
  // range [kz*kchunk, (kz+1)*kchunk) into workspace slice z (m x n, row stride n).
  bool partial;
  int bsplit, ksplit, kchunk;
  GemmEpilogue ep;
};

__device__ __forceinline__ float epilogue(const GemmArgs& g, int row, int col, float acc, float old) {
  float v = g.alpha * acc;
  if (g.beta != 0.0f) v += g.beta * old;  // beta == 0: C may hold garbage (even NaN); never read it
  if (g.ep.bias_row) v += g.ep.bias_row[row];
  if (g.ep.bias_col) v += g.ep.bias_col[col];
  if (g.ep.relu) v = v < 0.0f ? 0.0f : v;  // NaN kept, as in relu.cu
  return v;
}

// One block: the 64x64 tile of C at (blockIdx.y, blockIdx.x); thread (ty, tx) of 16x16 owns
// rows ty + 16*i and columns tx + 16*j (i, j < 4), so neighbouring threads store neighbouring
// columns (coalesced).
__global__ void __launch_bounds__(THREADS) gemm_tiled_kernel(GemmArgs g) {
  // op(A) and op(B) tiles, k-major; +4 padding spreads the transposed stores over banks.
  __shared__ float As[BK][BM + 4];
  __shared__ float Bs[BK][BN + 4];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;

  int b_first = blockIdx.z, b_step = g.batch, k_begin = 0, k_end = g.k;
  if (g.partial) {
    const int bz = blockIdx.z / g.ksplit, kz = blockIdx.z % g.ksplit;
    b_first = bz;
    b_step = g.bsplit;
    k_begin = kz * g.kchunk;
    k_end = min(g.k, k_begin + g.kchunk);
  }

  float acc[4][4] = {};
  for (int bi = b_first; bi < g.batch; bi += b_step) {
    const float* A = g.a + bi * g.sa;
    const float* B = g.b + bi * g.sb;
    for (int k0 = k_begin; k0 < k_end; k0 += BK) {
      // Load 64x16 of op(A) and 16x64 of op(B): 4 elements per thread each, indices chosen so
      // consecutive threads read consecutive addresses in whichever layout A/B are stored.
#pragma unroll
      for (int l = 0; l < 4; ++l) {
        const int e = tid + l * THREADS;
        int r, kk;
        if (!g.ta) { r = e / BK; kk = e % BK; } else { kk = e / BM; r = e % BM; }
        const int gr = row0 + r, gk = k0 + kk;
        float v = 0.0f;
        if (gr < g.m && gk < k_end) v = g.ta ? A[int64_t(gk) * g.lda + gr] : A[int64_t(gr) * g.lda + gk];
        As[kk][r] = v;
        int c, kb;
        if (!g.tb) { kb = e / BN; c = e % BN; } else { c = e / BK; kb = e % BK; }
        const int gc = col0 + c, gkb = k0 + kb;
        float w = 0.0f;
        if (gc < g.n && gkb < k_end) w = g.tb ? B[int64_t(gc) * g.ldb + gkb] : B[int64_t(gkb) * g.ldb + gc];
        Bs[kb][c] = w;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < BK; ++kk) {
        float af[4], bf[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) af[i] = As[kk][ty + 16 * i];
#pragma unroll
        for (int j = 0; j < 4; ++j) bf[j] = Bs[kk][tx + 16 * j];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(af[i], bf[j], acc[i][j]);
      }
      __syncthreads();
    }
  }

#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int row = row0 + ty + 16 * i;
    if (row >= g.m) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int col = col0 + tx + 16 * j;
      if (col >= g.n) continue;
      if (g.partial) {
        g.c[int64_t(blockIdx.z) * g.m * g.n + int64_t(row) * g.n + col] = acc[i][j];
      } else {
        float* out = g.c + blockIdx.z * g.sc + int64_t(row) * g.ldc + col;
        *out = epilogue(g, row, col, acc[i][j], g.beta != 0.0f ? *out : 0.0f);
      }
    }
  }
}

// Adds the `slices` partial results in slice order (deterministic) and applies the epilogue.
__global__ void gemm_reduce_kernel(GemmArgs g, const float* ws, int slices, float* c) {
  const int64_t mn = int64_t(g.m) * g.n;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < mn; i += int64_t(gridDim.x) * blockDim.x) {
    float acc = 0.0f;
    for (int s = 0; s < slices; ++s) acc += ws[s * mn + i];
    const int row = int(i / g.n), col = int(i % g.n);
    float* out = c + int64_t(row) * g.ldc + col;
    *out = epilogue(g, row, col, acc, g.beta != 0.0f ? *out : 0.0f);
  }
}

int sm_count() {
  static int count = [] {
    int dev = 0, n = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev);
    return n > 0 ? n : 1;
  }();
  return count;
}

}  // namespace

void gemm_cuda_ex(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                  int lda, const float* b, int ldb, float beta, float* c, int ldc,
                  const GemmBatch& batch, const GemmEpilogue& ep) {
  if (m <= 0 || n <= 0 || batch.batch <= 0) return;
  if ((m + BM - 1) / BM > 65535 || (!batch.sum_batches && batch.batch > 65535))
    throw DeviceError("gemm_cuda: " + std::to_string(m) + " rows or a batch of " + std::to_string(batch.batch) +
                      " is beyond the grid limits (65535 tiles of 64 rows / 65535 batches)");
  GemmArgs g{trans_a, trans_b, m, n, k, alpha, beta, a, lda, batch.stride_a, b, ldb, batch.stride_b,
             c, ldc, batch.stride_c, batch.batch, false, 1, 1, k, ep};
  const dim3 tiles((n + BN - 1) / BN, (m + BM - 1) / BM, 1);
  static_assert(BM == 64 && BN == 64 && BK == 16, "gemm_split_plan assumes 64x64 tiles, k steps of 16");
  const GemmSplit plan = gemm_split_plan(m, n, k, batch.batch, batch.sum_batches, sm_count());
  if (!plan.split) {
    dim3 grid(tiles.x, tiles.y, batch.batch);
    launch("gemm_cuda", gemm_tiled_kernel, grid, THREADS, g);
    return;
  }
  g.partial = true;
  g.bsplit = plan.bsplit;
  g.ksplit = plan.ksplit;
  g.kchunk = plan.kchunk;
  const int slices = plan.slices();
  Buffer ws(Device::cuda(), sizeof(float) * size_t(slices) * m * n);  // cached after first use
  GemmArgs gp = g;
  gp.c = static_cast<float*>(ws.data());
  dim3 grid(tiles.x, tiles.y, slices);
  launch("gemm_cuda (split)", gemm_tiled_kernel, grid, THREADS, gp);
  launch("gemm_cuda (split reduce)", gemm_reduce_kernel, grid_for(int64_t(m) * n), 256, g, gp.c, slices, c);
}

void gemm_cuda(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
               int lda, const float* b, int ldb, float beta, float* c, int ldc,
               const GemmBatch& batch) {
  gemm_cuda_ex(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, batch, {});
}

}  // namespace dlcraft
