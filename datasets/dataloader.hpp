// DataLoader: batches of augmented, normalised images, prepared on a background thread so the
// training step never waits for them. Shuffling is seeded per epoch and every image's
// crop/flip comes from (seed, epoch, position), so a run repeats exactly — also when resumed.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/tensor.hpp"
#include "datasets/dataset.hpp"
#include "datasets/transforms.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

// Page-locked host memory when a GPU is present (so the copy to it runs at full speed and
// asynchronously), ordinary memory otherwise.
template <class T>
struct PinnedAllocator {
  using value_type = T;
  PinnedAllocator() = default;
  template <class U>
  PinnedAllocator(const PinnedAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(host_alloc_pinned(n * sizeof(T))); }
  void deallocate(T* p, size_t) { host_free_pinned(p); }
  template <class U>
  bool operator==(const PinnedAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const PinnedAllocator<U>&) const { return false; }
};

struct Batch {
  std::vector<float, PinnedAllocator<float>> images;  // size * 3 * 32 * 32, NCHW
  std::vector<int32_t> labels;  // size
  int64_t size = 0;
};

struct DataLoaderOptions {
  int batch_size = 32;
  bool shuffle = true;
  bool augment = true;  // crop + flip (normalisation always)
  AugmentOptions augment_options;
  Normalization normalization;
  uint64_t seed = 0;
  int prefetch = 3;  // batches prepared ahead
  // Data-parallel training (distributed/): this process reads only shard `shard_rank` of
  // `shard_count` of each epoch's order (shard_indices below). 0 of 1: the whole epoch.
  int shard_rank = 0;
  int shard_count = 1;
  // true: shards padded to equal length (training: every rank steps together); false
  // (evaluation): no image twice, so sums over the ranks count each image once.
  bool shard_pad = true;
};

// What a batch is trained toward: class indices (classification: cross-entropy, accuracy), or
// numbers shaped like the model's output (regression and 0/1 targets: MSE, MAE, BCE).
struct Targets {
  std::vector<int32_t> labels;  // class indices, when the targets are classes
  Tensor values;                // float32 on the batch's device when they are numbers, else undefined
  bool are_classes() const { return !values.defined(); }
  int64_t size() const { return values.defined() ? values.size(0) : int64_t(labels.size()); }
};

// Where the training loop gets its batches: the CPU loader below, GpuDataLoader
// (datasets/gpu_loader.hpp) whose data set lives on the GPU, ImageBatchLoader, or TensorLoader
// (datasets/tensor_dataset.hpp) for tensors and CSV files.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t batches_per_epoch() const = 0;
  virtual void start_epoch(int64_t epoch) = 0;
  // The next batch as an (n,3,H,W) tensor on `device` (32x32 for CIFAR; the crop size for
  // ImageBatchLoader) plus its labels; false at the end.
  virtual bool next_batch(Device device, Tensor& images, std::vector<int32_t>& labels) = 0;
  // The general form fit() reads (train/trainer.hpp): inputs of any shape, and targets that are
  // classes or numbers. The image loaders keep this default, which fills targets.labels.
  virtual bool next_batch_targets(Device device, Tensor& inputs, Targets& targets) {
    targets.values = Tensor();
    return next_batch(device, inputs, targets.labels);
  }
};

// The order of the images in `epoch`: 0..n-1, shuffled by a generator seeded from (seed,
// epoch) when `shuffle`. Both loaders use it, so they visit the images in the same order.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle);
// Rank `rank`'s share of an epoch's `order` among `count` processes, as PyTorch's
// DistributedSampler: the order is padded by repeating its first elements until its length
// divides by `count`, then the rank takes every count-th element from position `rank`. The
// shards are disjoint up to the padding, cover the order, and are all ceil(n / count) long, so
// every rank runs the same number of steps. count == 1 returns `order` unchanged.
// With pad = false (evaluation) nothing is repeated: the shards partition the order exactly and
// their lengths differ by at most one (a rank's may be empty when the order is shorter than
// count). ArgumentError for count < 1, rank outside [0, count) or an empty order.
std::vector<int64_t> shard_indices(const std::vector<int64_t>& order, int rank, int count, bool pad = true);
// The length of shard_indices' result for an order of n elements.
int64_t shard_size(int64_t n, int rank, int count, bool pad = true);
// The random word that decides image `position`'s crop and flip in `epoch`.
uint64_t augment_random(uint64_t seed, int64_t epoch, int64_t position);

class DataLoader : public BatchSource {
 public:
  DataLoader(const ImageDataset& data, DataLoaderOptions options);
  ~DataLoader() override;
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Batches in one epoch (of this process's shard); the last, partial batch is kept.
  int64_t batches_per_epoch() const override;
  // Starts producing the batches of `epoch` (stops a previous epoch still running).
  void start_epoch(int64_t epoch) override;
  // The next batch, or nullptr at the end of the epoch. Valid until the next call.
  const Batch* next();
  // next(), copied into a tensor on `device` (from page-locked memory when that is a GPU).
  bool next_batch(Device device, Tensor& images, std::vector<int32_t>& labels) override;

 private:
  void produce(int64_t epoch);
  void stop();

  const ImageDataset& data_;
  DataLoaderOptions opt_;
  int64_t shard_size_ = 0;  // the images this process reads per epoch (all without sharding)
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Batch> slots_;      // prefetch + 1 buffers, allocated once
  std::deque<int> free_, ready_;  // slot indices
  int in_use_ = -1;               // slot handed to the caller
  int64_t produced_ = 0, consumed_ = 0, total_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

}  // namespace dlcraft
