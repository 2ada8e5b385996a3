// The training loop shared by train_cifar, bench and the tests: one epoch of
// forward -> cross-entropy -> backward -> optimizer step over a DataLoader, and evaluation.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.hpp"
#include "core/tensor.hpp"
#include "datasets/dataloader.hpp"
#include "layers/module.hpp"
#include "optim/optimizer.hpp"

namespace dlcraft {

// A loss that is NaN or infinite: training stops, naming where it happened.
class NonFiniteLossError : public Error {
 public:
  NonFiniteLossError(int64_t epoch, int64_t step, float loss);
  int64_t epoch, step;
};

struct StepInfo {
  int64_t step, steps;        // 1-based step in the epoch, steps per epoch
  double mean_loss;           // over the epoch so far
  double images_per_second;   // over the epoch so far
  double elapsed_seconds;
};

struct EpochResult {
  double loss = 0;       // mean over images
  int64_t correct = 0, seen = 0;
  double seconds = 0;
  double accuracy() const { return seen ? double(correct) / seen : 0.0; }
};

// One training step on a batch already in `input` (N,3,32,32) with `labels`; returns the loss.
float train_step(Module& model, Optimizer& optimizer, const Tensor& input,
                 const std::vector<int32_t>& labels, int64_t* correct = nullptr);

EpochResult train_epoch(Module& model, Optimizer& optimizer, BatchSource& loader, int64_t epoch,
                        Device device, const std::function<void(const StepInfo&)>& on_step = {});

EpochResult evaluate(Module& model, BatchSource& loader, Device device);

}  // namespace dlcraft
