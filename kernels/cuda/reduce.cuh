// Block-wide reduction helpers shared by the reduction kernels (internal).
// Step 1: each warp combines its 32 values with shuffles (no shared memory, no barrier);
// step 2: warp leaders write to shared memory and warp 0 combines those. docs/reductions.md.
// The last step (v2) of the sum series in kernels/cuda/reduce_steps.cu (atomics -> a tree in
// shared memory -> this), docs/kernel_steps.md.
#pragma once
#include "kernels/cuda/cuda_check.cuh"

namespace dlcraft {

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

}  // namespace dlcraft
