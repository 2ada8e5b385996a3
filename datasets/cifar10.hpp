// Finds and loads CIFAR-10 in either layout under a directory:
//   binary:       DIR or DIR/cifar-10-batches-bin   (data_batch_1..5.bin, test_batch.bin)
//   image folder: DIR or DIR/cifar10-jpeg           (train/<class>/*.jpg, test/<class>/*.jpg)
#pragma once
#include <string>
#include <vector>

#include "datasets/dataset.hpp"

namespace dlcraft {

struct Cifar10 {
  ImageDataset train, test;
  std::string root;         // the directory the data came from
  std::string layout;       // "binary" or "image-folder"
  int64_t resized = 0;      // image-folder images that were not 32x32 (resized)
};

// The directories load_cifar10(dir) tries, in order.
std::vector<std::string> cifar10_candidate_dirs(const std::string& dir);
// IOError listing every place it looked and the command that downloads the data set.
Cifar10 load_cifar10(const std::string& dir);

}  // namespace dlcraft
