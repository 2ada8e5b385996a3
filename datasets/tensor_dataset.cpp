// TensorDataset, train_val_split and TensorLoader (datasets/tensor_dataset.hpp). Note:
// docs/csv_data.md.
#include "datasets/tensor_dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "core/error.hpp"
#include "core/random.hpp"

namespace dlcraft {

namespace {

// The checks the constructor makes, also run by TensorLoader: a data set whose fields were
// assigned directly never went through the constructor.
void check_tensors(const Tensor& x, const Tensor& y, const std::vector<std::string>& classes,
                   const char* who) {
  const std::string w(who);
  if (!x.defined() || !y.defined()) throw ArgumentError(w + ": x and y must both be defined tensors");
  if (x.dim() < 1) throw ShapeError(w + ": x " + x.str() + " has no rows dimension");
  if (y.dim() < 1) throw ShapeError(w + ": y " + y.str() + " has no rows dimension");
  if (x.dtype() != DType::Float32)
    throw DTypeError(w + ": x is " + to_string(x.dtype()) + "; it must be float32");
  if (y.dtype() != DType::Int64 && y.dtype() != DType::Float32)
    throw DTypeError(w + ": y is " + to_string(y.dtype()) +
                     "; it must be int64 (class indices) or float32 (values)");
  if (x.size(0) != y.size(0))
    throw ShapeError(w + ": x has " + std::to_string(x.size(0)) + " rows but y has " +
                     std::to_string(y.size(0)) + " (x " + x.str() + ", y " + y.str() + ")");
  if (y.dtype() != DType::Int64) return;
  if (y.dim() != 1) throw ShapeError(w + ": class indices y must be one-dimensional, got " + y.str());
  // Batches hand the labels on as int32 (BatchSource), so indices must fit one.
  const int64_t* labels = y.data_ptr<int64_t>();
  const int64_t limit = classes.empty() ? int64_t(std::numeric_limits<int32_t>::max()) : int64_t(classes.size());
  for (int64_t i = 0; i < y.size(0); ++i)
    if (labels[i] < 0 || labels[i] >= limit)
      throw ArgumentError(w + ": class index " + std::to_string(labels[i]) + " of row " +
                          std::to_string(i) + " is out of range [0, " + std::to_string(limit) + ")" +
                          (classes.empty() ? "" : " (the number of named classes)"));
}

// Copies the rows `order[begin, begin + n)` of t (contiguous, on the host) into a new host
// tensor, one memcpy per row.
Tensor gather_rows(const Tensor& t, const std::vector<int64_t>& order, int64_t begin, int64_t n) {
  Shape shape = t.shape();
  shape[0] = n;
  Tensor out = Tensor::empty(shape, t.options().with_device(Device::cpu()));
  if (n == 0) return out;
  const size_t row_bytes = size_t(t.numel() / std::max<int64_t>(t.size(0), 1)) * element_size(t.dtype());
  const char* src = static_cast<const char*>(t.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(dst + size_t(i) * row_bytes, src + size_t(order[begin + i]) * row_bytes, row_bytes);
  return out;
}

}  // namespace

TensorDataset::TensorDataset(Tensor x_in, Tensor y_in) {
  check_tensors(x_in, y_in, {}, "TensorDataset");
  // The rows are gathered with memcpy, so the data must be on the host (a copy only when it is not).
  x = x_in.to(Device::cpu());
  y = y_in.to(Device::cpu());
}

int64_t TensorDataset::size() const { return x.defined() ? x.size(0) : 0; }

bool TensorDataset::has_classes() const { return y.defined() && y.dtype() == DType::Int64; }

int64_t TensorDataset::num_classes() const {
  if (!has_classes()) return 0;
  if (!classes.empty()) return int64_t(classes.size());
  const int64_t* labels = y.data_ptr<int64_t>();
  int64_t top = -1;
  for (int64_t i = 0; i < y.size(0); ++i) top = std::max(top, labels[i]);
  return top + 1;
}

TensorDataset TensorDataset::subset(const std::vector<int64_t>& indices) const {
  const int64_t n = size();
  for (size_t i = 0; i < indices.size(); ++i)
    if (indices[i] < 0 || indices[i] >= n)
      throw ArgumentError("TensorDataset::subset: index " + std::to_string(indices[i]) + " (position " +
                          std::to_string(i) + ") is out of range for " + std::to_string(n) + " rows");
  if (!x.defined() || !y.defined()) throw ArgumentError("TensorDataset::subset: the data set has no tensors");
  TensorDataset out;
  out.x = gather_rows(x, indices, 0, int64_t(indices.size()));
  out.y = gather_rows(y, indices, 0, int64_t(indices.size()));
  out.classes = classes;
  out.feature_names = feature_names;
  return out;
}

std::pair<TensorDataset, TensorDataset> train_val_split(const TensorDataset& data, double fraction,
                                                        bool shuffle, uint64_t seed) {
  if (!(fraction > 0.0 && fraction < 1.0))
    throw ArgumentError("train_val_split: the validation fraction must be in (0, 1), got " +
                        std::to_string(fraction));
  const int64_t n = data.size();
  // Keras: split_at = floor(n * (1 - validation_split)); the validation rows come after it.
  const int64_t n_train = int64_t(std::floor(double(n) * (1.0 - fraction)));
  if (n_train < 1 || n_train >= n)
    throw ArgumentError("train_val_split: a fraction of " + std::to_string(fraction) + " of " +
                        std::to_string(n) + " rows leaves " + std::to_string(n_train) +
                        " for training and " + std::to_string(n - n_train) +
                        " for validation; both must have at least one row");
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {  // Fisher-Yates on a stream of its own (not a loader's epoch order)
    Generator gen(mix64(seed ^ 0x5b117ull));
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[gen.below(uint64_t(i) + 1)]);
    // Each part keeps the rows in file order: easier to read, and a loader shuffles anyway.
    std::sort(order.begin(), order.begin() + n_train);
    std::sort(order.begin() + n_train, order.end());
  }
  return {data.subset(std::vector<int64_t>(order.begin(), order.begin() + n_train)),
          data.subset(std::vector<int64_t>(order.begin() + n_train, order.end()))};
}

TensorLoader::TensorLoader(TensorDataset data, TensorLoaderOptions options)
    : data_(std::move(data)), opt_(options) {
  check_tensors(data_.x, data_.y, data_.classes, "TensorLoader");
  if (!data_.x.device().is_cpu() || !data_.y.device().is_cpu())
    throw DeviceError("TensorLoader: the data set's tensors must be in host memory (x " + data_.x.str() +
                      ", y " + data_.y.str() + ")");
  if (opt_.batch_size < 1)
    throw ArgumentError("TensorLoader: batch size must be >= 1, got " + std::to_string(opt_.batch_size));
  if (data_.size() == 0) throw ArgumentError("TensorLoader: the data set is empty");
  if (opt_.drop_last && data_.size() < opt_.batch_size)
    throw ArgumentError("TensorLoader: drop_last with batch size " + std::to_string(opt_.batch_size) +
                        " and " + std::to_string(data_.size()) + " rows leaves no batch");
  if (opt_.shard_count < 1 || opt_.shard_rank < 0 || opt_.shard_rank >= opt_.shard_count)
    throw ArgumentError("TensorLoader: shard " + std::to_string(opt_.shard_rank) + " of " +
                        std::to_string(opt_.shard_count) + " does not exist");
  if (opt_.drop_last && rows_per_epoch() < opt_.batch_size)
    throw ArgumentError("TensorLoader: drop_last with batch size " + std::to_string(opt_.batch_size) +
                        " and a shard of " + std::to_string(rows_per_epoch()) + " rows leaves no batch");
  start_epoch(0);  // so that a first epoch may be read without start_epoch
}

int64_t TensorLoader::rows_per_epoch() const {
  return shard_size(data_.size(), opt_.shard_rank, opt_.shard_count, opt_.shard_pad);
}

int64_t TensorLoader::batches_per_epoch() const {
  const int64_t n = rows_per_epoch(), b = opt_.batch_size;
  return opt_.drop_last ? n / b : (n + b - 1) / b;
}

void TensorLoader::start_epoch(int64_t epoch) {
  order_ = shard_indices(epoch_order(data_.size(), opt_.seed, epoch, opt_.shuffle), opt_.shard_rank,
                         opt_.shard_count, opt_.shard_pad);
  pos_ = 0;
}

bool TensorLoader::next_batch(Device device, Tensor& inputs, std::vector<int32_t>& labels) {
  if (!data_.has_classes())
    throw DTypeError("TensorLoader::next_batch: the targets are float32 values " + data_.y.str() +
                     ", not classes; read them with next_batch_targets");
  Targets targets;
  if (!next_batch_targets(device, inputs, targets)) return false;
  labels = std::move(targets.labels);
  return true;
}

bool TensorLoader::next_batch_targets(Device device, Tensor& inputs, Targets& targets) {
  const int64_t n = int64_t(order_.size());
  const int64_t count = std::min<int64_t>(opt_.batch_size, n - pos_);
  if (count <= 0 || (opt_.drop_last && count < opt_.batch_size)) return false;
  inputs = gather_rows(data_.x, order_, pos_, count).to(device);
  if (data_.has_classes()) {
    const int64_t* y = data_.y.data_ptr<int64_t>();
    targets.labels.resize(size_t(count));
    for (int64_t i = 0; i < count; ++i) targets.labels[i] = int32_t(y[order_[pos_ + i]]);
    targets.values = Tensor();
  } else {
    targets.labels.clear();
    targets.values = gather_rows(data_.y, order_, pos_, count).to(device);
  }
  pos_ += count;
  return true;
}

}  // namespace dlcraft
