#include "datasets/transforms.hpp"

#include <cmath>
#include <cstdio>

#include "core/random.hpp"

namespace dlcraft {

std::string Normalization::str() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "mean (%.4f, %.4f, %.4f) std (%.4f, %.4f, %.4f)", mean[0],
                mean[1], mean[2], std[0], std[1], std[2]);
  return buf;
}

Normalization compute_normalization(const ImageDataset& ds) {
  constexpr int plane = ImageDataset::kHeight * ImageDataset::kWidth;
  Normalization n;
  for (int c = 0; c < 3; ++c) {
    // Integer sums are exact; the pixel values are 0..255.
    uint64_t sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < ds.size(); ++i) {
      const uint8_t* p = ds.image(i) + c * plane;
      for (int k = 0; k < plane; ++k) {
        sum += p[k];
        sum_sq += uint64_t(p[k]) * p[k];
      }
    }
    const double count = double(ds.size()) * plane;
    const double mean = sum / count / 255.0;
    const double var = sum_sq / count / (255.0 * 255.0) - mean * mean;
    n.mean[c] = float(mean);
    n.std[c] = float(std::sqrt(std::max(var, 1e-12)));
  }
  return n;
}

void augment_image(const uint8_t* src, float* dst, const Normalization& norm,
                   const AugmentOptions& opt, uint64_t random) {
  constexpr int H = ImageDataset::kHeight, W = ImageDataset::kWidth;
  const int pad = opt.random_crop ? opt.padding : 0;
  // Crop offsets in the padded (H+2p) x (W+2p) image, and the flip, from one random word.
  const uint64_t r1 = mix64(random), r2 = mix64(r1);
  const int oy = pad ? int(r1 % uint64_t(2 * pad + 1)) - pad : 0;
  const int ox = pad ? int((r1 >> 32) % uint64_t(2 * pad + 1)) - pad : 0;
  const bool flip = opt.horizontal_flip && (r2 & 1);
  for (int c = 0; c < 3; ++c) {
    const float scale = 1.0f / (255.0f * norm.std[c]), shift = -norm.mean[c] / norm.std[c];
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        // Output (y, x) comes from source (y + oy, x' + ox), x' mirrored when flipped.
        const int sy = y + oy, sx = (flip ? W - 1 - x : x) + ox;
        const bool inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
        const float v = inside ? src[(c * H + sy) * W + sx] : 0.0f;  // zero (black) padding
        dst[(c * H + y) * W + x] = v * scale + shift;
      }
  }
}

void normalize_image(const uint8_t* src, float* dst, const Normalization& norm) {
  augment_image(src, dst, norm, AugmentOptions{false, 0, false}, 0);
}

}  // namespace dlcraft
