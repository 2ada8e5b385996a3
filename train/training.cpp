#include "train/training.hpp"

#include <chrono>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "optim/clip_grad.hpp"

namespace dlcraft {

namespace {
std::string position_text(StepPosition at) {
  if (at.epoch <= 0 && at.step <= 0) return "";
  return " at epoch " + std::to_string(at.epoch) + ", step " + std::to_string(at.step);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

EvalModeGuard::EvalModeGuard(Module& model) {
  for (auto& [name, m] : model.named_modules()) modes_.emplace_back(m, m->is_training());
  model.eval();
}

EvalModeGuard::~EvalModeGuard() {
  // Module by module: a sub-tree the caller had put in eval mode (a frozen backbone) stays so.
  for (auto& [m, training] : modes_) m->set_training_flag(training);
}

DivergenceError::DivergenceError(const std::string& subject, StepPosition at, std::string tensor)
    : Error(subject + position_text(at) + ": training stopped (try a smaller --lr)"),
      epoch(at.epoch),
      step(at.step),
      tensor(std::move(tensor)) {}

NonFiniteLossError::NonFiniteLossError(int64_t epoch, int64_t step, float loss)
    : DivergenceError("loss is " + std::to_string(loss), {epoch, step}) {}

NonfiniteCheck start_parameter_check(const Module& model, bool gradients) {
  std::vector<Tensor> tensors;
  for (const auto& [name, p] : model.named_parameters()) tensors.push_back(gradients ? p.grad() : p);
  return NonfiniteCheck(tensors);
}

void throw_if_nonfinite(NonfiniteCheck& check, const Module& model, bool gradients, StepPosition at) {
  const int64_t bad = check.result();
  if (bad < 0) return;
  const std::string name = model.named_parameters()[size_t(bad)].first;
  if (gradients)
    throw DivergenceError("the gradient of " + name + " has NaN/Inf", at, name);
  throw DivergenceError(name + " has NaN/Inf after the update", at, name);
}

void check_finite_parameters(const Module& model, bool gradients, StepPosition at) {
  NonfiniteCheck check = start_parameter_check(model, gradients);
  throw_if_nonfinite(check, model, gradients, at);
}

float guarded_step(Module& model, Optimizer& optimizer, const std::function<Tensor()>& forward_loss,
                   StepPosition at, double clip_grad_norm, const std::function<void()>& after_update,
                   const std::function<void(float& loss)>& after_backward) {
  optimizer.zero_grad();
  Tensor loss = forward_loss();
  loss.backward();
  float value = 0;
  if (after_backward) {
    value = loss.item();
    after_backward(value);  // the gradients (and the loss) averaged over the processes
  }
  // The guard: nothing non-finite reaches the update, and an update that overflows is caught
  // in the same step, so the weights a caller saves after a step that returned are finite.
  // On a GPU each check is queued before a wait the step makes anyway (reading the loss, then
  // what after_update reads), so the guard adds no wait of its own.
  NonfiniteCheck gradients = start_parameter_check(model, /*gradients=*/true);
  if (!after_backward) value = loss.item();
  if (!std::isfinite(value)) throw NonFiniteLossError(at.epoch, at.step, value);
  throw_if_nonfinite(gradients, model, /*gradients=*/true, at);
  if (clip_grad_norm > 0) clip_grad_norm_(model.parameters(), clip_grad_norm);
  optimizer.step();
  NonfiniteCheck parameters = start_parameter_check(model, /*gradients=*/false);
  if (after_update) after_update();
  throw_if_nonfinite(parameters, model, /*gradients=*/false, at);
  return value;
}

float train_step(Module& model, Optimizer& optimizer, const Tensor& input,
                 const std::vector<int32_t>& labels, int64_t* correct, StepPosition at) {
  Tensor logits;
  int64_t hits = 0;
  const float value = guarded_step(
      model, optimizer,
      [&] {
        logits = model(input);
        return cross_entropy(logits, labels);
      },
      at, 0.0, [&] {
        if (correct) hits = count_correct(logits, labels);
      });
  if (correct) *correct += hits;
  return value;
}

EpochResult train_epoch(Module& model, Optimizer& optimizer, BatchSource& loader, int64_t epoch,
                        Device device, const std::function<void(const StepInfo&)>& on_step) {
  EpochResult r;
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t steps = loader.batches_per_epoch();
  double loss_sum = 0;
  std::vector<int32_t> labels;
  Tensor images;
  loader.start_epoch(epoch);
  int64_t step = 0;
  while (loader.next_batch(device, images, labels)) {
    ++step;
    const float loss = train_step(model, optimizer, images, labels, &r.correct, {epoch, step});
    const int64_t n = int64_t(labels.size());
    loss_sum += double(loss) * n;
    r.seen += n;
    if (on_step) {
      const double t = seconds_since(t0);
      on_step({step, steps, loss_sum / r.seen, r.seen / std::max(t, 1e-9), t});
    }
  }
  r.loss = r.seen ? loss_sum / r.seen : 0.0;
  r.seconds = seconds_since(t0);
  return r;
}

EpochResult evaluate(Module& model, BatchSource& loader, Device device) {
  NoGradGuard no_grad;
  EvalModeGuard eval_mode(model);
  EpochResult r;
  const auto t0 = std::chrono::steady_clock::now();
  double loss_sum = 0;
  std::vector<int32_t> labels;
  Tensor images;
  loader.start_epoch(0);
  while (loader.next_batch(device, images, labels)) {
    Tensor logits = model(images);
    const int64_t n = int64_t(labels.size());
    loss_sum += double(cross_entropy(logits, labels).item()) * n;
    r.correct += count_correct(logits, labels);
    r.seen += n;
  }
  r.loss = r.seen ? loss_sum / r.seen : 0.0;
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace dlcraft
