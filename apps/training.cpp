#include "apps/training.hpp"

#include <chrono>
#include <cmath>

#include "core/autograd.hpp"
#include "core/ops.hpp"

namespace dlcraft {

NonFiniteLossError::NonFiniteLossError(int64_t epoch, int64_t step, float loss)
    : Error("loss is " + std::to_string(loss) + " at epoch " + std::to_string(epoch) + ", step " +
            std::to_string(step) + ": training stopped (try a smaller --lr)"),
      epoch(epoch),
      step(step) {}

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

float train_step(Module& model, Optimizer& optimizer, const Tensor& input,
                 const std::vector<int32_t>& labels, int64_t* correct) {
  optimizer.zero_grad();
  Tensor logits = model(input);
  Tensor loss = cross_entropy(logits, labels);
  loss.backward();
  optimizer.step();
  if (correct) *correct += count_correct(logits, labels);
  return loss.item();
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
    const float loss = train_step(model, optimizer, images, labels, &r.correct);
    if (!std::isfinite(loss)) throw NonFiniteLossError(epoch, step, loss);
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
