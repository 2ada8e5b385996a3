// GpuDataLoader: the whole training set on the GPU as uint8 (150 MiB for CIFAR-10's 50,000
// images), each batch cropped, flipped and normalised there by one kernel
// (kernels/cuda/augment.cu), so the GPU never waits for the CPU. Same order and same random
// crops/flips as DataLoader for the same seed and epoch.
#pragma once
#include <memory>

#include "core/allocator.hpp"
#include "datasets/dataloader.hpp"

namespace dlcraft {

class GpuDataLoader : public BatchSource {
 public:
  GpuDataLoader(const ImageDataset& data, DataLoaderOptions options, Device device);
  int64_t batches_per_epoch() const override;
  void start_epoch(int64_t epoch) override;
  bool next_batch(Device device, Tensor& images, std::vector<int32_t>& labels) override;

 private:
  const ImageDataset& data_;
  DataLoaderOptions opt_;
  Device device_;
  std::shared_ptr<Buffer> images_;  // (N,3,32,32) uint8 on the GPU, uploaded once
  std::shared_ptr<Buffer> order_;   // the epoch's order, int64 on the GPU
  std::vector<int64_t> host_order_;
  int64_t shard_size_ = 0;  // the images this process reads per epoch (all without sharding)
  int64_t epoch_ = 0, next_ = 0;
};

}  // namespace dlcraft
