// The training loop shared by train_cifar, bench and the tests: one epoch of
// forward -> cross-entropy -> backward -> optimizer step over a DataLoader, and evaluation.
// Every step is checked for divergence (NaN/Inf in the loss, gradients or parameters).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/tensor.hpp"
#include "datasets/dataloader.hpp"
#include "layers/module.hpp"
#include "optim/optimizer.hpp"

namespace dlcraft {

// Where a training step is, for the divergence messages (0: not known).
struct StepPosition {
  int64_t epoch = 0, step = 0;  // step: 1-based within the epoch
};

// Training diverged: the loss, a gradient or a parameter holds NaN or ±Inf. Training stops,
// naming what and where ("fc1.weight has NaN/Inf after the update at epoch 2, step 17").
class DivergenceError : public Error {
 public:
  // subject: "loss is nan", "fc1.weight has NaN/Inf after the update", ...
  DivergenceError(const std::string& subject, StepPosition at, std::string tensor = "");
  int64_t epoch, step;
  std::string tensor;  // the parameter ("fc1.weight"); empty for the loss
};

// A loss that is NaN or infinite.
class NonFiniteLossError : public DivergenceError {
 public:
  NonFiniteLossError(int64_t epoch, int64_t step, float loss);
};

// The divergence guard: throws DivergenceError naming the first parameter (of
// model.named_parameters()) that holds a NaN or ±Inf, or whose gradient does (gradients
// = true). One reduction per tensor on its device and one synchronisation in all.
void check_finite_parameters(const Module& model, bool gradients, StepPosition at = {});
// The guard in two halves, so a step can queue the check, do other work, then wait: start the
// check of every parameter (or gradient), then throw DivergenceError naming the first bad one.
NonfiniteCheck start_parameter_check(const Module& model, bool gradients);
void throw_if_nonfinite(NonfiniteCheck& check, const Module& model, bool gradients, StepPosition at);

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

// One guarded training step for any model and loss: zero_grad, `forward_loss()` (the forward
// pass and the loss), backward, the divergence guard (a non-finite loss or gradient throws
// before the update, so the weights stay as they were), gradient clipping when clip_grad_norm
// > 0, the update, then the check of the parameters. `after_update` runs between queuing that
// check and waiting for it (reading metrics there overlaps the waits on a GPU).
// `after_backward` (data parallelism, train/trainer.cpp) runs right after backward with this
// process's loss: it averages the gradients over the processes and replaces the loss by the
// mean over them, so the guard decides the same on every rank. Returns the loss.
float guarded_step(Module& model, Optimizer& optimizer, const std::function<Tensor()>& forward_loss,
                   StepPosition at, double clip_grad_norm = 0.0,
                   const std::function<void()>& after_update = {},
                   const std::function<void(float& loss)>& after_backward = {});

// One training step on a batch already in `input` (N,3,32,32) with `labels`; returns the loss.
// Guarded: a non-finite loss or gradient throws before the optimizer step (the weights stay
// as they were), a non-finite parameter after it; `at` only labels the message.
float train_step(Module& model, Optimizer& optimizer, const Tensor& input,
                 const std::vector<int32_t>& labels, int64_t* correct = nullptr,
                 StepPosition at = {});

EpochResult train_epoch(Module& model, Optimizer& optimizer, BatchSource& loader, int64_t epoch,
                        Device device, const std::function<void(const StepInfo&)>& on_step = {});

// Puts the model in eval mode (BatchNorm on running statistics, no dropout) and the NoGradGuard
// on; the mode of every module is restored afterwards.
EpochResult evaluate(Module& model, BatchSource& loader, Device device);

// model.eval() for a scope; restores each module's own mode at the end.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Module& model);
  ~EvalModeGuard();
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  std::vector<std::pair<Module*, bool>> modes_;
};

}  // namespace dlcraft
