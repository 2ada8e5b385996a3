// Block-wide reduction helpers shared by the reduction kernels (internal).
// Step 1: each warp combines its 32 values with shuffles (no shared memory, no barrier);
// step 2: warp leaders write to shared memory and warp 0 combines those. docs/reductions.md.
// The last step (v2) of the sum series in kernels/cuda/reduce_steps.cu (atomics -> a tree in
// shared memory -> this), docs/kernel_steps.md.
#pragma once
#include "kernels/cuda/cuda_check.cuh"

namespace dlcraft {
// Internal linkage (an unnamed namespace): every .cu file gets its own copy of these helpers
// and of their __shared__ arrays. Inline functions with external linkage would share one
// copy, which the emulated build cannot link: its __shared__ statics sit in one named
// section, where duplicates are not merged (docs/cuda.md). On the GPU nothing changes.
namespace {

__device__ __forceinline__ float warp_reduce_sum(float v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// The sum of v over the block (blockDim.x a multiple of 32, at most 1024), valid in thread 0.
// Every thread of the block must call it; it ends with a barrier, so it can be called again.
__device__ __forceinline__ float block_reduce_sum(float v) {
  __shared__ float partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_reduce_sum(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < int(blockDim.x / 32) ? partial[lane] : 0.0f;
    v = warp_reduce_sum(v);
  }
  __syncthreads();
  return v;
}

// The largest of v over the warp / the block (as the sums above). fmaxf skips NaN; the
// callers that must propagate NaN (softmax) get it through exp(NaN) in their sums.
__device__ __forceinline__ float warp_reduce_max(float v) {
  for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float block_reduce_max(float v) {
  __shared__ float partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_reduce_max(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < int(blockDim.x / 32) ? partial[lane] : -INFINITY;
    v = warp_reduce_max(v);
  }
  __syncthreads();
  return v;
}

// The same, handed to every thread of the block (softmax needs the row's max and sum in all
// of them). The last barrier keeps a fast thread from overwriting `all` in a next call while
// others still read it.
__device__ __forceinline__ float block_all_sum(float v) {
  __shared__ float all;
  v = block_reduce_sum(v);
  if (threadIdx.x == 0) all = v;
  __syncthreads();
  v = all;
  __syncthreads();
  return v;
}
__device__ __forceinline__ float block_all_max(float v) {
  __shared__ float all;
  v = block_reduce_max(v);
  if (threadIdx.x == 0) all = v;
  __syncthreads();
  v = all;
  __syncthreads();
  return v;
}

// Threads for a block that reduces `count` values: a multiple of 32, at most 256, so a row of
// 10 logits does not leave 7 of 8 warps idle.
inline int reduce_block_threads(int64_t count) {
  int64_t t = (count + 31) / 32 * 32;
  return int(t < 32 ? 32 : (t > 256 ? 256 : t));
}

}  // namespace
}  // namespace dlcraft
