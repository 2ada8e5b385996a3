// Losses and metrics by name, as Keras' compile(loss=..., metrics=[...]) takes them. Each works
// on a batch's model output and its Targets (datasets/dataloader.hpp): class indices or numbers.
// Note: docs/fit.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "datasets/dataloader.hpp"

namespace dlcraft {

enum class LossKind {
  CrossEntropy,                   // logits (N, C) and classes: softmax + NLL in one (torch's)
  SparseCategoricalCrossentropy,  // probabilities (N, C) (a softmax output) and classes (Keras')
  CategoricalCrossentropy,        // probabilities (N, C) and one-hot (N, C) values
  BinaryCrossentropy,             // probabilities in [0, 1] (a sigmoid output) and 0/1 values
  BinaryCrossentropyWithLogits,   // logits and 0/1 values
  MeanSquaredError,               // values shaped like the output
  MeanAbsoluteError,
};

class Loss {
 public:
  Loss(LossKind kind);  // NOLINT: implicit, so a LossKind can be passed where a Loss is wanted
  // Keras' names and torch's: "mse"/"mean_squared_error", "mae"/"mean_absolute_error",
  // "binary_crossentropy", "bce_with_logits", "categorical_crossentropy",
  // "sparse_categorical_crossentropy", "cross_entropy". ArgumentError listing them otherwise.
  static Loss from_name(const std::string& name);
  // The mean loss over the batch (a 0-d tensor in the graph). ArgumentError when the targets are
  // of the wrong kind for this loss (classes given to MSE, say).
  Tensor operator()(const Tensor& output, const Targets& targets) const;
  LossKind kind() const { return kind_; }
  std::string name() const;
  bool takes_classes() const;  // class-index targets (else values)

 private:
  LossKind kind_;
};

enum class MetricKind { Accuracy, MeanSquaredError, MeanAbsoluteError };

// A metric accumulated over the batches of an epoch: sum of per-example values / examples.
class Metric {
 public:
  Metric(MetricKind kind);  // NOLINT: implicit on purpose
  // "accuracy"/"acc", "mse", "mae" (Keras' names). ArgumentError listing them otherwise.
  static Metric from_name(const std::string& name);
  std::string name() const;  // the History key: "accuracy", "mse", "mae"
  // Adds a batch. Accuracy: classes -> the argmax of each row equals the class; values with one
  // column -> (output > threshold) equals (target > 0.5) (Keras' binary accuracy; threshold 0.5
  // for probabilities, 0 when the loss takes logits); values with several columns (one-hot) ->
  // the argmaxes are equal. Runs without gradients.
  void update(const Tensor& output, const Targets& targets, double binary_threshold = 0.5);
  double result() const { return count_ ? sum_ / double(count_) : 0.0; }
  void reset() { sum_ = 0; count_ = 0; }
  // The running sums, so a data-parallel run can add them up over its processes.
  double total() const { return sum_; }
  int64_t examples() const { return count_; }
  void set_sums(double sum, int64_t count) { sum_ = sum; count_ = count; }
  MetricKind kind() const { return kind_; }

 private:
  MetricKind kind_;
  double sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace dlcraft
