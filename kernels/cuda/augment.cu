// Data augmentation on the GPU, for a training set kept on the GPU as uint8: RandomCrop(32,
// padding) + RandomHorizontalFlip + ToTensor + Normalize with the same random words as
// datasets/transforms.cpp: the same crops and flips as the CPU, pixel values equal up to
// float rounding (the compilers may fuse the multiply-add differently).
// One thread per output element (image, channel, y, x).
#include "core/random.hpp"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

__global__ void augment_kernel(AugmentParams a, const uint8_t* images, const int64_t* indices, int count, float* out) {
  constexpr int H = 32, W = 32, IMG = 3 * H * W;
  const int64_t total = int64_t(count) * IMG;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int b = int(e / IMG), c = int((e / (H * W)) % 3), y = int((e / W) % H), x = int(e % W);
    const uint64_t pos = uint64_t(a.position_offset + (a.first_position + b) * a.position_stride);
    const uint64_t random = mix64(a.seed + mix64(a.epoch * 0x100000000ull + pos));
    const uint64_t r1 = mix64(random), r2 = mix64(r1);
    const int pad = a.padding;
    const int oy = pad ? int(r1 % uint64_t(2 * pad + 1)) - pad : 0;
    const int ox = pad ? int((r1 >> 32) % uint64_t(2 * pad + 1)) - pad : 0;
    const bool flip = a.flip && (r2 & 1);
    const int sy = y + oy, sx = (flip ? W - 1 - x : x) + ox;
    const bool inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
    const float v = inside ? float(images[indices[b] * IMG + (c * H + sy) * W + sx]) : 0.0f;
    const float scale = a.inv_std[c] / 255.0f, shift = -a.mean[c] * a.inv_std[c];
    out[e] = v * scale + shift;
  }
}

}  // namespace

void augment_batch_cuda(const AugmentParams& a, const uint8_t* images, const int64_t* indices, int count, float* out) {
  if (count == 0) return;
  launch("augment_batch_cuda", augment_kernel, grid_for(int64_t(count) * 3072), 256, a, images, indices, count, out);
}

}  // namespace dlcraft
