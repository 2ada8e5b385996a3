// Keras-style training for any Module: a Trainer holds the model, optimizer, loss and metrics
// (Keras' compile) and runs fit / evaluate / predict. fit returns a History of per-epoch
// metrics; callbacks (train/callbacks.hpp) watch and steer it. train_cifar runs on it.
//   Trainer trainer(model, optimizer, "mse", {"accuracy"});
//   History h = trainer.fit(data, {.epochs = 100, .batch_size = 4});
// Note: docs/fit.md.
//
// Data parallelism (docs/distributed.md): started by a launcher with several processes
// (`mpirun -np 4 prog`), fit trains one replica per process. It copies rank 0's parameters and
// optimizer state to every rank first, averages the gradients over the ranks after every
// backward (GradientBucketer), sums the epoch's loss and metrics over the ranks, and runs the
// callbacks that print or write files on rank 0 only. Each rank must read its own shard of the
// data: fit over a TensorDataset shards by itself; a BatchSource needs shard_rank/shard_count
// in its options. evaluate sums over the ranks too, so call it on every rank. An error on one
// rank ends the whole job when main is wrapped in distributed::run_guarded.
#pragma once
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/device.hpp"
#include "datasets/dataloader.hpp"
#include "datasets/tensor_dataset.hpp"
#include "layers/module.hpp"
#include "optim/optimizer.hpp"
#include "train/history.hpp"
#include "train/metrics.hpp"

namespace dlcraft {

class Callback;
namespace distributed { class GradientBucketer; }

struct FitOptions {
  int64_t epochs = 1;         // the last epoch to run (Keras' epochs)
  int64_t initial_epoch = 0;  // resuming: the epochs run are initial_epoch + 1 .. epochs
  // For TensorDataset data: batch size, a reshuffle each epoch (seeded), and Keras'
  // validation_split (the last fraction of rows, before any shuffling) or validation_data.
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  double validation_split = 0.0;
  const TensorDataset* validation_data = nullptr;
  // For BatchSource data: the validation batches (evaluated after every epoch).
  BatchSource* validation = nullptr;
  std::string validation_prefix = "val_";  // History keys: "val_loss"; train_cifar uses "test_"
  std::vector<std::shared_ptr<Callback>> callbacks;
  // 0: silent; 1: a progress bar and a line per epoch; 2: the line only (Keras' verbose).
  int verbose = 1;
  std::FILE* out = stdout;
  double clip_grad_norm = 0.0;  // > 0: clip_grad_norm_ on the gradients before every step
};

class Trainer {
 public:
  // Keras' compile: the model (already on `device`), its optimizer, a loss and metrics.
  Trainer(Module& model, Optimizer& optimizer, Loss loss, std::vector<Metric> metrics = {},
          Device device = Device::cpu());
  Trainer(Module& model, Optimizer& optimizer, const std::string& loss,
          const std::vector<std::string>& metrics = {}, Device device = Device::cpu());

  // Trains epochs initial_epoch+1 .. epochs over `train` (its start_epoch gets the 1-based
  // epoch). After each epoch the logs hold "loss", each metric, the validation ones, "lr",
  // "seconds" (training time) and "examples_per_second". Every step is guarded: a NaN/Inf
  // loss, gradient or parameter throws DivergenceError (train/training.hpp) before it reaches
  // the weights, unless a TerminateOnNaN callback turns it into a stop. Callbacks may set
  // stop_training.
  History fit(BatchSource& train, const FitOptions& options);
  // The same over tensors: batches of options.batch_size, validation_split/validation_data.
  History fit(const TensorDataset& data, const FitOptions& options);

  // Loss and metrics over all the batches, in eval mode without gradients ("loss", "accuracy"...).
  std::map<std::string, double> evaluate(BatchSource& data);
  std::map<std::string, double> evaluate(const TensorDataset& data, int64_t batch_size = 32);
  // The model's outputs for the rows of x (any leading row count), in batches, in eval mode
  // without gradients; returned in host memory.
  Tensor predict(const Tensor& x, int64_t batch_size = 32);

  Module& model;
  Optimizer& optimizer;
  Device device;
  bool stop_training = false;  // callbacks set it to end fit after the current epoch
  const History& history() const { return history_; }
  const Loss& loss() const { return loss_; }

 private:
  struct EpochSums;
  EpochSums run_epoch(BatchSource& train, int64_t epoch, const FitOptions& options,
                      distributed::GradientBucketer* bucketer);
  Loss loss_;
  std::vector<Metric> metrics_;
  History history_;
};

}  // namespace dlcraft
