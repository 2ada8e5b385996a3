#include "datasets/gpu_loader.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

GpuDataLoader::GpuDataLoader(const ImageDataset& data, DataLoaderOptions options, Device device)
    : data_(data), opt_(options), device_(device) {
  if (!device.is_cuda()) throw DeviceError("GpuDataLoader needs a CUDA device, got " + device.str());
  if (opt_.batch_size < 1)
    throw ArgumentError("GpuDataLoader: batch size must be >= 1, got " + std::to_string(opt_.batch_size));
  if (data_.size() == 0) throw ArgumentError("GpuDataLoader: the data set is empty");
  if (opt_.shard_count < 1 || opt_.shard_rank < 0 || opt_.shard_rank >= opt_.shard_count)
    throw ArgumentError("GpuDataLoader: shard " + std::to_string(opt_.shard_rank) + " of " +
                        std::to_string(opt_.shard_count) + " does not exist");
  shard_size_ = shard_size(data_.size(), opt_.shard_rank, opt_.shard_count, opt_.shard_pad);
  images_ = std::make_shared<Buffer>(device, data_.images.size());
  copy_bytes(images_->data(), device, data_.images.data(), Device::cpu(), data_.images.size());
  order_ = std::make_shared<Buffer>(device, sizeof(int64_t) * std::max<int64_t>(1, shard_size_));
}

int64_t GpuDataLoader::batches_per_epoch() const {
  return (shard_size_ + opt_.batch_size - 1) / opt_.batch_size;
}

void GpuDataLoader::start_epoch(int64_t epoch) {
  epoch_ = epoch;
  next_ = 0;
  // This process's shard of the epoch (all of it with one process), as DataLoader.
  host_order_ = shard_indices(epoch_order(data_.size(), opt_.seed, epoch, opt_.shuffle), opt_.shard_rank,
                              opt_.shard_count, opt_.shard_pad);
  if (!host_order_.empty())
    copy_bytes(order_->data(), device_, host_order_.data(), Device::cpu(), sizeof(int64_t) * host_order_.size());
}

bool GpuDataLoader::next_batch(Device device, Tensor& images, std::vector<int32_t>& labels) {
  if (device != device_) throw DeviceError("GpuDataLoader holds its data on " + device_.str() + ", not " + device.str());
  if (next_ >= shard_size_) return false;
  const int count = int(std::min<int64_t>(opt_.batch_size, shard_size_ - next_));
  AugmentParams a{};
  for (int c = 0; c < 3; ++c) {
    a.mean[c] = opt_.normalization.mean[c];
    a.inv_std[c] = 1.0f / opt_.normalization.std[c];
  }
  a.padding = opt_.augment && opt_.augment_options.random_crop ? opt_.augment_options.padding : 0;
  a.flip = opt_.augment && opt_.augment_options.horizontal_flip;
  a.seed = opt_.seed;
  a.epoch = uint64_t(epoch_);
  a.first_position = next_;
  a.position_offset = opt_.shard_rank;
  a.position_stride = opt_.shard_count;
  images = Tensor::empty({count, 3, 32, 32}, device);
  augment_batch_cuda(a, static_cast<const uint8_t*>(images_->data()),
                     static_cast<const int64_t*>(order_->data()) + next_, count, images.data());
  labels.resize(count);
  for (int i = 0; i < count; ++i) labels[i] = data_.labels[host_order_[next_ + i]];
  next_ += count;
  return true;
}

}  // namespace dlcraft
