#include "datasets/dataset.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/error.hpp"
#include "core/random.hpp"

namespace dlcraft {

ImageDataset ImageDataset::subset(const std::vector<int64_t>& indices) const {
  ImageDataset out;
  out.classes = classes;
  out.images.resize(indices.size() * kImageBytes);
  out.labels.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    int64_t j = indices[i];
    if (j < 0 || j >= size())
      throw ArgumentError("subset: index " + std::to_string(j) + " outside a data set of " +
                          std::to_string(size()));
    std::memcpy(out.images.data() + i * kImageBytes, image(j), kImageBytes);
    out.labels[i] = labels[j];
  }
  return out;
}

ImageDataset ImageDataset::random_subset(int64_t count, uint64_t seed) const {
  if (count <= 0 || count >= size()) return *this;
  std::vector<int64_t> order(size());
  std::iota(order.begin(), order.end(), 0);
  Generator gen(seed);
  for (int64_t i = size() - 1; i > 0; --i) std::swap(order[i], order[gen.below(uint64_t(i) + 1)]);
  order.resize(count);
  std::sort(order.begin(), order.end());
  return subset(order);
}

std::vector<std::string> cifar10_class_names() {
  return {"airplane", "automobile", "bird", "cat", "deer",
          "dog",      "frog",       "horse", "ship", "truck"};
}

}  // namespace dlcraft
