// Sum step v2 (docs/kernel_steps.md; v0 and v1 and the entry point sum_step_cuda are in
// reduce_steps.cu): each block's sum by warp shuffles, through the shipped block_reduce_sum
// (kernels/cuda/reduce.cuh, the one reduce_sum_cuda uses), not a copy of it.
// Why a file of its own: the emulated build (DLCRAFT_CUDA=EMU) puts every __shared__ variable
// in one linker section, and GCC cannot have, in one file, the __shared__ array of an inline
// function (block_reduce_sum's) next to another __shared__ variable (v1's tree): "section type
// conflict", or with two inline functions, a "multiple definition" at link time.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernel_steps.hpp"
#include "kernels/cuda/reduce.cuh"

namespace dlcraft {
namespace {

// Each warp adds its 32 values through registers (5 shuffles, no shared memory, no barrier),
// then warp 0 adds the 8 warp sums. Writes the block's sum to partials[blockIdx.x].
__global__ void sum_v2_shuffles(int64_t n, const float* x, float* partials) {
  float acc = 0.0f;  // this thread's grid-stride share, as in v0 and v1
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    acc += x[i];
  acc = block_reduce_sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

}  // namespace

void sum_v2_block_sums(unsigned blocks, int64_t n, const float* x, float* partials) {
  launch("sum_step_cuda v2", sum_v2_shuffles, blocks, kSumStepThreads, n, x, partials);
}

}  // namespace dlcraft
