#include "datasets/dataloader.hpp"

#include <numeric>

#include "core/error.hpp"
#include "core/random.hpp"

namespace dlcraft {

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {  // Fisher-Yates
    Generator gen(mix64(seed ^ mix64(uint64_t(epoch) + 0x5eed)));
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[gen.below(uint64_t(i) + 1)]);
  }
  return order;
}

int64_t shard_size(int64_t n, int rank, int count, bool pad) {
  if (count <= 1) return n;
  if (pad) return (n + count - 1) / count;
  return rank < n ? (n - rank + count - 1) / count : 0;  // positions rank, rank + count, ... < n
}

std::vector<int64_t> shard_indices(const std::vector<int64_t>& order, int rank, int count, bool pad) {
  if (count < 1) throw ArgumentError("shard_indices: the shard count must be >= 1, got " + std::to_string(count));
  if (rank < 0 || rank >= count)
    throw ArgumentError("shard_indices: rank " + std::to_string(rank) + " is outside [0, " +
                        std::to_string(count) + ")");
  if (order.empty()) throw ArgumentError("shard_indices: the order is empty");
  if (count == 1) return order;
  // Pad to a multiple of count with the order's first elements (again from the start when the
  // order is shorter than the padding), so every rank gets as many and steps together.
  const int64_t n = int64_t(order.size());
  const int64_t per_rank = shard_size(n, rank, count, pad);
  std::vector<int64_t> shard;
  shard.reserve(size_t(per_rank));
  for (int64_t k = 0; k < per_rank; ++k) shard.push_back(order[size_t((rank + k * count) % n)]);
  return shard;
}

uint64_t augment_random(uint64_t seed, int64_t epoch, int64_t position) {
  return mix64(seed + mix64(uint64_t(epoch) * 0x100000000ull + uint64_t(position)));
}

DataLoader::DataLoader(const ImageDataset& data, DataLoaderOptions options)
    : data_(data), opt_(options) {
  if (opt_.batch_size < 1)
    throw ArgumentError("DataLoader: batch size must be >= 1, got " + std::to_string(opt_.batch_size));
  if (data_.size() == 0) throw ArgumentError("DataLoader: the data set is empty");
  if (opt_.shard_count < 1 || opt_.shard_rank < 0 || opt_.shard_rank >= opt_.shard_count)
    throw ArgumentError("DataLoader: shard " + std::to_string(opt_.shard_rank) + " of " +
                        std::to_string(opt_.shard_count) + " does not exist");
  shard_size_ = shard_size(data_.size(), opt_.shard_rank, opt_.shard_count, opt_.shard_pad);
  slots_.resize(std::max(1, opt_.prefetch) + 1);
  for (Batch& b : slots_) {
    b.images.resize(size_t(opt_.batch_size) * ImageDataset::kImageBytes);
    b.labels.resize(opt_.batch_size);
  }
}

DataLoader::~DataLoader() { stop(); }

int64_t DataLoader::batches_per_epoch() const {
  return (shard_size_ + opt_.batch_size - 1) / opt_.batch_size;
}

void DataLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void DataLoader::start_epoch(int64_t epoch) {
  stop();
  stopping_ = false;
  error_ = nullptr;
  free_.clear();
  ready_.clear();
  for (int i = 0; i < int(slots_.size()); ++i) free_.push_back(i);
  in_use_ = -1;
  produced_ = consumed_ = 0;
  total_ = batches_per_epoch();
  worker_ = std::thread([this, epoch] { produce(epoch); });
}

void DataLoader::produce(int64_t epoch) {
  try {
    // This process's shard of the epoch (all of it with one process).
    const std::vector<int64_t> order = shard_indices(epoch_order(data_.size(), opt_.seed, epoch, opt_.shuffle),
                                                     opt_.shard_rank, opt_.shard_count, opt_.shard_pad);
    for (int64_t b = 0; b < total_; ++b) {
      int slot;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || !free_.empty(); });
        if (stopping_) return;
        slot = free_.front();
        free_.pop_front();
      }
      Batch& batch = slots_[slot];
      const int64_t begin = b * opt_.batch_size;
      batch.size = std::min<int64_t>(opt_.batch_size, shard_size_ - begin);
      for (int64_t i = 0; i < batch.size; ++i) {
        const int64_t pos = begin + i, idx = order[pos];
        // The position in the whole epoch's order (shard_indices): an image gets the same crop
        // and flip in a sharded run as in one process.
        const int64_t global_pos = opt_.shard_rank + pos * opt_.shard_count;
        float* dst = batch.images.data() + i * ImageDataset::kImageBytes;
        if (opt_.augment)
          augment_image(data_.image(idx), dst, opt_.normalization, opt_.augment_options,
                        augment_random(opt_.seed, epoch, global_pos));
        else
          normalize_image(data_.image(idx), dst, opt_.normalization);
        batch.labels[i] = data_.labels[idx];
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.push_back(slot);
        ++produced_;
      }
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    cv_.notify_all();
  }
}

const Batch* DataLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (in_use_ >= 0) {  // the caller is done with the previous batch
    free_.push_back(in_use_);
    in_use_ = -1;
    cv_.notify_all();
  }
  if (consumed_ == total_) return nullptr;
  cv_.wait(lock, [&] { return !ready_.empty() || error_; });
  if (error_) std::rethrow_exception(error_);
  in_use_ = ready_.front();
  ready_.pop_front();
  ++consumed_;
  return &slots_[in_use_];
}

}  // namespace dlcraft

namespace dlcraft {

bool DataLoader::next_batch(Device device, Tensor& images, std::vector<int32_t>& labels) {
  // The previous batch's copy to the GPU may still be in flight from its page-locked slot;
  // next() hands that slot back to the worker, so wait for the copy first.
  if (device.is_cuda()) cuda_synchronize();
  const Batch* b = next();
  if (!b) return false;
  // From the allocator's cache: the same block each step, no new allocation.
  images = Tensor::empty({b->size, 3, 32, 32}, device);
  images.copy_from_host(b->images.data(), b->size * ImageDataset::kImageBytes);
  labels.assign(b->labels.begin(), b->labels.begin() + b->size);
  return true;
}

}  // namespace dlcraft
