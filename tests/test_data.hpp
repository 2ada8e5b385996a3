// Test data made by the tests themselves (no downloads, no ../shared): a learnable image set
// and writers for the two on-disk layouts the readers accept.
#pragma once
#include <cstdint>
#include <string>

#include <memory>

#include "datasets/dataset.hpp"
#include "layers/layers.hpp"

namespace dlcraft::test {

// n images of `classes` classes. Class c lights up channel c % 3 in horizontal band c / 3
// (8 rows each) over noise, so a small CNN can learn it; crop and flip keep it learnable.
ImageDataset make_pattern_dataset(int n, int classes, uint64_t seed);

// The official binary layout: 3073-byte records (label, R plane, G plane, B plane).
void write_cifar_binary(const std::string& path, const ImageDataset& ds);
// The whole official layout in `dir`: data_batch_1..5.bin (train split into five consecutive
// parts, so at least 5 images) and test_batch.bin.
void write_cifar_binary_set(const std::string& dir, const ImageDataset& train, const ImageDataset& test);
// root/<class>/<index>.png (or .jpg when `jpeg`), one file per image.
void write_image_folder(const std::string& root, const ImageDataset& ds, bool jpeg = false);
// A small CNN for 32x32 images and 10 classes that learns make_pattern_dataset in a few epochs:
// conv3x3(3->8) relu maxpool2, conv3x3 stride 2 (8->16) relu avgpool2, flatten, linear(256->10).
std::shared_ptr<Sequential> small_cnn();
// A fresh empty directory under the current one (tests run in the build tree).
std::string fresh_dir(const std::string& name);

}  // namespace dlcraft::test
