// Data held as tensors, as torch.utils.data.TensorDataset and Keras' fit(x, y): row i of x is
// an example, row i of y its target. TensorLoader batches it for fit() (train/trainer.hpp)
// through the same BatchSource interface as the image loaders.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"
#include "datasets/dataloader.hpp"

namespace dlcraft {

struct TensorDataset {
  Tensor x;  // (N, ...) float32, host memory
  Tensor y;  // (N) int64 class indices in [0, classes), or (N, ...) float32 values
  std::vector<std::string> classes;        // names of the classes when y holds classes (may be empty)
  std::vector<std::string> feature_names;  // the columns of x when read from a CSV (may be empty)

  TensorDataset() = default;
  // ShapeError when the row counts differ, x or y has no rows dimension, or int64 y is not
  // (N); DTypeError when x is not float32 or y neither int64 nor float32; ArgumentError for an
  // undefined tensor or a class index that is negative or beyond int32. Tensors on a GPU are
  // copied to the host.
  TensorDataset(Tensor x, Tensor y);
  int64_t size() const;
  bool has_classes() const;  // y is int64
  // The number of classes: classes.size() if named, else max(y) + 1; 0 for float targets.
  int64_t num_classes() const;
  // The rows at `indices`, in that order (ArgumentError naming an index out of range).
  TensorDataset subset(const std::vector<int64_t>& indices) const;
};

// Splits off `fraction` of the rows (0 < fraction < 1) for validation. shuffle = false: the last
// rows, in order (Keras' validation_split); true: a seeded random choice (torch's random_split).
// ArgumentError when either part would be empty.
std::pair<TensorDataset, TensorDataset> train_val_split(const TensorDataset& data, double fraction,
                                                        bool shuffle = false, uint64_t seed = 0);

struct TensorLoaderOptions {
  int64_t batch_size = 32;
  bool shuffle = true;     // a new seeded order each epoch (epoch_order in dataloader.hpp)
  bool drop_last = false;  // drop a last, partial batch
  uint64_t seed = 0;
  // Data-parallel training: read only shard `shard_rank` of `shard_count` of each epoch's order
  // (shard_indices in dataloader.hpp, as DistributedSampler). 0 of 1: every row.
  int shard_rank = 0;
  int shard_count = 1;
  bool shard_pad = true;  // false for evaluation: no row twice (DataLoaderOptions::shard_pad)
};

// Batches of a TensorDataset on any device. Holds the dataset's tensors (shared handles, not
// copies). Batches are gathered on the host and copied to the device. The constructor checks
// the data set again (its fields may have been set directly; class indices must be below
// classes.size() when classes are named) and throws ArgumentError for an empty data set,
// batch_size < 1, or drop_last with fewer rows than a batch. Epoch 0 is ready without
// start_epoch.
class TensorLoader : public BatchSource {
 public:
  explicit TensorLoader(TensorDataset data, TensorLoaderOptions options = {});
  int64_t batches_per_epoch() const override;
  void start_epoch(int64_t epoch) override;
  // The class form; DTypeError when the targets are float values.
  bool next_batch(Device device, Tensor& inputs, std::vector<int32_t>& labels) override;
  bool next_batch_targets(Device device, Tensor& inputs, Targets& targets) override;
  const TensorDataset& dataset() const { return data_; }
  // Rows read per epoch: the data set's size, or its shard's when sharded.
  int64_t rows_per_epoch() const;

 private:
  TensorDataset data_;
  TensorLoaderOptions opt_;
  std::vector<int64_t> order_;  // this epoch's rows (this process's shard of them)
  int64_t pos_ = 0;
};

}  // namespace dlcraft
