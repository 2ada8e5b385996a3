// GEMM, one idea at a time: C = A * B, row-major, A m x k, B k x n (docs/kernel_steps.md).
// Each version adds one idea to the one before; all are checked against a double-precision
// loop (tests/gpu/gpu_kernel_steps.cpp) and timed side by side by `bench --kernel-steps`.
//   v0  one thread per output of C, its k loop reading A and B from global memory
//   v1  16x16 tiles of A and B staged in shared memory: each value loaded once per block
//   v2  32x32 tiles, each thread a 2x2 block of C in registers: fewer shared loads per FMA
//   v3  the shipped kernel, gemm_tiled_kernel in kernels/cuda/gemm.cu, called as it is
// Sizes need not be multiples of the tiles: loads outside A or B give 0, outputs outside C
// are not stored. CPU reference: gemm_cpu (kernels/cpu/gemm.cpp); the test compares with
// the plain triple loop in double, which is what every version computes up to rounding.
#include <string>

#include "core/error.hpp"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernel_steps.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

// ---- v0: the first kernel everyone writes. Thread (row, col) computes C[row][col] alone.
// Every FMA needs two global loads: 0.25 FLOP per byte, so it waits on memory.
__global__ void gemm_v0_naive(int m, int n, int k, const float* A, const float* B, float* C) {
  const int row = blockIdx.y * blockDim.y + threadIdx.y, col = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= m || col >= n) return;
  float acc = 0.0f;
  for (int kk = 0; kk < k; ++kk) acc = fmaf(A[int64_t(row) * k + kk], B[int64_t(kk) * n + col], acc);
  C[int64_t(row) * n + col] = acc;
}

// ---- v1: a block of 16x16 threads computes a 16x16 tile of C. It walks along k in slices
// of 16: all threads copy one 16x16 piece of A and of B to shared memory, wait, then each
// does its 16 FMAs from there. Each global value now serves 16 threads, not 1.
constexpr int T1 = 16;

__global__ void gemm_v1_shared_tiles(int m, int n, int k, const float* A, const float* B, float* C) {
  __shared__ float As[T1][T1];  // As[r][kk] = A[row0 + r][k0 + kk]
  __shared__ float Bs[T1][T1];  // Bs[kk][c] = B[k0 + kk][col0 + c]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * T1 + ty, col = blockIdx.x * T1 + tx;
  float acc = 0.0f;
  // No early return: every thread must reach the barriers, even one outside C.
  for (int k0 = 0; k0 < k; k0 += T1) {
    // One element of each tile per thread; neighbouring tx read neighbouring addresses.
    As[ty][tx] = row < m && k0 + tx < k ? A[int64_t(row) * k + k0 + tx] : 0.0f;
    Bs[ty][tx] = k0 + ty < k && col < n ? B[int64_t(k0 + ty) * n + col] : 0.0f;
    __syncthreads();  // the tiles are complete before anyone reads them
    for (int kk = 0; kk < T1; ++kk) acc = fmaf(As[ty][kk], Bs[kk][tx], acc);
    __syncthreads();  // everyone has read them before the next slice overwrites them
  }
  if (row < m && col < n) C[int64_t(row) * n + col] = acc;
}

// ---- v2: the same 16x16 threads now cover a 32x32 tile of C; thread (ty, tx) owns rows
// ty + 16i and columns tx + 16j (i, j < R = 2), a 2x2 block spread 16 apart (as v3 spreads
// its 4x4; neighbouring threads still store neighbouring columns). Per kk it loads R values
// of A and R of B into registers and does R*R FMAs: 1 shared load per FMA instead of v1's 2.
constexpr int R = 2, BM2 = 16 * R, BN2 = 16 * R, BK2 = 16, THREADS2 = 256;

__global__ void gemm_v2_register_tiles(int m, int n, int k, const float* A, const float* B, float* C) {
  __shared__ float As[BM2][BK2];  // 32 rows of A, 16 along k
  __shared__ float Bs[BK2][BN2];  // 16 along k, 32 columns of B
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * 16 + tx;
  const int row0 = blockIdx.y * BM2, col0 = blockIdx.x * BN2;
  float acc[R][R] = {};
  for (int k0 = 0; k0 < k; k0 += BK2) {
    // Each tile has 512 elements: R per thread. Element e of A's tile is (e / 16, e % 16) and
    // of B's (e / 32, e % 32): consecutive threads read consecutive addresses of a row.
#pragma unroll
    for (int l = 0; l < R; ++l) {
      const int e = tid + l * THREADS2;
      const int ar = e / BK2, ak = e % BK2, bk = e / BN2, bc = e % BN2;
      As[ar][ak] = row0 + ar < m && k0 + ak < k ? A[int64_t(row0 + ar) * k + k0 + ak] : 0.0f;
      Bs[bk][bc] = k0 + bk < k && col0 + bc < n ? B[int64_t(k0 + bk) * n + col0 + bc] : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK2; ++kk) {
      float af[R], bf[R];  // registers: each value loaded from shared memory once, used R times
#pragma unroll
      for (int i = 0; i < R; ++i) af[i] = As[ty + 16 * i][kk];
#pragma unroll
      for (int j = 0; j < R; ++j) bf[j] = Bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < R; ++i)
#pragma unroll
        for (int j = 0; j < R; ++j) acc[i][j] = fmaf(af[i], bf[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < R; ++i)
#pragma unroll
    for (int j = 0; j < R; ++j) {
      const int row = row0 + ty + 16 * i, col = col0 + tx + 16 * j;
      if (row < m && col < n) C[int64_t(row) * n + col] = acc[i][j];
    }
}

unsigned ceil_div(int a, int b) { return unsigned((a + b - 1) / b); }

}  // namespace

void gemm_step_cuda(int version, int m, int n, int k, const float* a, const float* b, float* c) {
  if (version < 0 || version >= kGemmSteps)
    throw ArgumentError("gemm_step_cuda: version " + std::to_string(version) + " (there are 0 to " +
                        std::to_string(kGemmSteps - 1) + ")");
  if (m < 0 || n < 0 || k < 0) throw ArgumentError("gemm_step_cuda: negative size");
  if (m == 0 || n == 0) return;
  const dim3 threads(16, 16);
  switch (version) {
    case 0:
      launch("gemm_step_cuda v0", gemm_v0_naive, dim3(ceil_div(n, 16), ceil_div(m, 16)), threads, m, n, k, a, b, c);
      break;
    case 1:
      launch("gemm_step_cuda v1", gemm_v1_shared_tiles, dim3(ceil_div(n, T1), ceil_div(m, T1)), threads, m, n, k,
             a, b, c);
      break;
    case 2:
      launch("gemm_step_cuda v2", gemm_v2_register_tiles, dim3(ceil_div(n, BN2), ceil_div(m, BM2)), threads, m, n,
             k, a, b, c);
      break;
    default:  // v3: the shipped kernel itself, C = 1 * A * B + 0 * C
      gemm_cuda(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
  }
}

}  // namespace dlcraft
