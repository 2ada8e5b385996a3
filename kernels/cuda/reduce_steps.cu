// The sum of a float array, one idea at a time: *out = x[0] + ... + x[n-1] (docs/kernel_steps.md).
// All three use the same grid: 256 threads per block, at most 1024 blocks, each thread first
// adding its grid-stride share of x on its own. They differ in how the 262,144 (at most)
// per-thread partials are combined:
//   v0  atomicAdd of every partial into *out: simplest, but all threads queue on one address,
//       and the order of the additions (so the last bits) changes from run to run
//   v1  per block, a tree in shared memory (halving strides, __syncthreads between levels);
//       the block partials go to a workspace and a second launch of the same kernel, with
//       one block, sums them: no atomics, the same bits every run
//   v2  per block, warp shuffles: the shipped block_reduce_sum (kernels/cuda/reduce.cuh, used
//       by reduce_sum_cuda), then the same second pass. Its kernel is in reduce_steps_v2.cu
//       (why: see there).
// CPU reference: reduce_sum_cpu (kernels/cpu/reduce.cpp), a double loop; so is the test's.
#include <algorithm>
#include <string>

#include "core/allocator.hpp"
#include "core/error.hpp"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernel_steps.hpp"

namespace dlcraft {

// Launches v2's kernel: `blocks` blocks, each writing its sum to partials[block] (reduce_steps_v2.cu).
void sum_v2_block_sums(unsigned blocks, int64_t n, const float* x, float* partials);

namespace {

constexpr int kThreads = kSumStepThreads;       // 256, a power of two for v1's halving tree
constexpr int kMaxBlocks = kSumStepMaxBlocks;  // 1024: one block of the second pass sums them

// This thread's share: x[i] for i = its global index, then every (threads in the grid) after.
__device__ __forceinline__ float grid_stride_sum(int64_t n, const float* x) {
  float acc = 0.0f;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    acc += x[i];
  return acc;
}

// ---- v0: one atomicAdd per thread. *out must be 0 first.
__global__ void sum_v0_atomics(int64_t n, const float* x, float* out) { atomicAdd(out, grid_stride_sum(n, x)); }

// ---- v1: the block's sum by a tree in shared memory. Level by level, thread t < stride adds
// part[t + stride] into part[t]; the barrier after each level makes its sums visible to the
// next. 256 values take 8 levels. Writes the block's sum to partials[blockIdx.x].
__global__ void sum_v1_tree(int64_t n, const float* x, float* partials) {
  __shared__ float part[kThreads];
  const int t = threadIdx.x;
  part[t] = grid_stride_sum(n, x);
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (t < stride) part[t] += part[t + stride];
    __syncthreads();  // outside the if: every thread must reach it
  }
  if (t == 0) partials[blockIdx.x] = part[0];
}

void sum_v1_block_sums(unsigned blocks, int64_t n, const float* x, float* partials) {
  launch("sum_step_cuda v1", sum_v1_tree, blocks, kThreads, n, x, partials);
}

}  // namespace

void sum_step_cuda(int version, int64_t n, const float* x, float* out) {
  if (version < 0 || version >= kSumSteps)
    throw ArgumentError("sum_step_cuda: version " + std::to_string(version) + " (there are 0 to " +
                        std::to_string(kSumSteps - 1) + ")");
  if (n < 0) throw ArgumentError("sum_step_cuda: negative size");
  const unsigned blocks = unsigned(std::min<int64_t>(grid_for(n, kThreads), kMaxBlocks));
  if (version == 0 || n == 0) {
    cuda_check(cudaMemsetAsync(out, 0, sizeof(float), dlcraft_stream()), "sum_step_cuda");
    if (n > 0) launch("sum_step_cuda v0", sum_v0_atomics, blocks, kThreads, n, x, out);
    return;
  }
  auto* block_sums = version == 1 ? sum_v1_block_sums : sum_v2_block_sums;
  if (blocks == 1) {  // one block: its sum is the answer
    block_sums(1, n, x, out);
    return;
  }
  // Pass 1: one partial per block into a workspace (from the caching allocator; handing it
  // back before the kernels ran is safe, as all work is on one stream: docs/gemm.md).
  // Pass 2: the same kernel, one block, over the partials.
  Buffer ws(Device::cuda(), sizeof(float) * blocks);
  float* partials = static_cast<float*>(ws.data());
  block_sums(blocks, n, x, partials);
  block_sums(1, int64_t(blocks), partials, out);
}

}  // namespace dlcraft
