// An image classification data set held in memory as uint8, the way it is stored on disk:
// N images of 3 x 32 x 32 (CHW, RGB), one label each. Augmentation and normalisation happen
// later, per batch (datasets/transforms.hpp), so the data set stays 4x smaller than floats.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dlcraft {

struct ImageDataset {
  static constexpr int kChannels = 3, kHeight = 32, kWidth = 32;
  static constexpr int kImageBytes = kChannels * kHeight * kWidth;

  std::vector<uint8_t> images;       // size() * kImageBytes
  std::vector<int32_t> labels;       // size()
  std::vector<std::string> classes;  // label -> name

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  const uint8_t* image(int64_t i) const { return images.data() + i * kImageBytes; }

  // The images at `indices`, in that order.
  ImageDataset subset(const std::vector<int64_t>& indices) const;
  // `count` images picked by a seeded shuffle, kept in their original order (all if count is 0
  // or not smaller than the data set).
  ImageDataset random_subset(int64_t count, uint64_t seed) const;
};

// CIFAR-10's class names in label order.
std::vector<std::string> cifar10_class_names();

}  // namespace dlcraft
