// The notes' augmentation, per image: RandomCrop(32, padding 4, zero padding) ->
// RandomHorizontalFlip(0.5) -> ToTensor (0..1) -> Normalize(mean, std) per channel.
// See docs/data_augmentation.md.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "datasets/dataset.hpp"

namespace dlcraft {

struct Normalization {
  std::array<float, 3> mean{0.5f, 0.5f, 0.5f};
  std::array<float, 3> std{0.5f, 0.5f, 0.5f};
  std::string str() const;  // "mean (0.4914, 0.4822, 0.4465) std (0.2470, 0.2435, 0.2616)"
};

// Per-channel mean and standard deviation of the pixels (scaled to 0..1) of a whole data set.
Normalization compute_normalization(const ImageDataset& ds);

struct AugmentOptions {
  bool random_crop = true;
  int padding = 4;
  bool horizontal_flip = true;
};

// One uint8 CHW image -> float CHW, cropped/flipped as decided by `random` (any 64-bit value:
// the caller derives it from seed, epoch and sample so results never depend on threads).
void augment_image(const uint8_t* src, float* dst, const Normalization& norm,
                   const AugmentOptions& opt, uint64_t random);
// ToTensor + Normalize only (evaluation and predict).
void normalize_image(const uint8_t* src, float* dst, const Normalization& norm);

}  // namespace dlcraft
