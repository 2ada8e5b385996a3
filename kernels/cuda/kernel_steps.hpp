// Kernels that build up one idea at a time (docs/kernel_steps.md), each a real kernel, tested
// against a double-precision CPU loop (tests/gpu/gpu_kernel_steps.cpp) and timed side by side
// by `bench --kernel-steps`. The last step of each series is the shipped code, not a copy.
// A build without CUDA links kernels/cuda/stubs_steps.cpp, where these throw DeviceError.
#pragma once
#include <cstdint>

namespace dlcraft {

// ---- GEMM (kernels/cuda/gemm_steps.cu): C = A * B, row-major, A m x k, B k x n, C m x n,
// device pointers, any sizes >= 0 (C is overwritten, never read).
//   0  one thread per output, k loop straight from global memory
//   1  16x16 tiles of A and B staged in shared memory, one output per thread
//   2  32x32 tiles, each thread a 2x2 block of outputs in registers
//   3  the shipped gemm_cuda (kernels/cuda/gemm.cu): 64x64 tiles, 4x4 per thread, any
//      transpose, split-K
constexpr int kGemmSteps = 4;
inline const char* gemm_step_name(int version) {
  static const char* const names[kGemmSteps] = {"v0 naive", "v1 shared tiles", "v2 register tiles",
                                                "v3 shipped gemm_cuda"};
  return version >= 0 && version < kGemmSteps ? names[version] : "?";
}
void gemm_step_cuda(int version, int m, int n, int k, const float* a, const float* b, float* c);

// ---- Sum of a float array (kernels/cuda/reduce_steps.cu): *out = x[0] + ... + x[n-1], out one
// float on the device (0 for n = 0).
//   0  every thread atomicAdd's its grid-stride partial into *out (order varies run to run)
//   1  a tree in shared memory per block (halving strides, __syncthreads), block partials
//      summed by a second launch of the same kernel
//   2  warp shuffles: the shipped block_reduce_sum (kernels/cuda/reduce.cuh), then the same
//      second pass
constexpr int kSumSteps = 3;
// The grid of every version: 256 threads per block, at most 1024 blocks.
constexpr int kSumStepThreads = 256, kSumStepMaxBlocks = 1024;
inline const char* sum_step_name(int version) {
  static const char* const names[kSumSteps] = {"v0 atomics", "v1 shared-memory tree", "v2 warp shuffles"};
  return version >= 0 && version < kSumSteps ? names[version] : "?";
}
void sum_step_cuda(int version, int64_t n, const float* x, float* out);

}  // namespace dlcraft
