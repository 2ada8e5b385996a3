// fit / evaluate / predict. Each step is guarded_step (train/training.cpp) with the Trainer's
// loss and targets: forward, loss, backward, the divergence guard, optional clipping, the update.
#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <utility>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "distributed/data_parallel.hpp"
#include "distributed/process_group.hpp"
#include "train/callbacks.hpp"
#include "train/training.hpp"

namespace dlcraft {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<Metric> metrics_from_names(const std::vector<std::string>& names) {
  std::vector<Metric> out;
  for (const auto& n : names) out.push_back(Metric::from_name(n));
  return out;
}

// Keras' epoch line: "epoch 3/10 - 0.4s - loss: 0.1234 - accuracy: 0.9500 - val_loss: ...".
class EpochLine : public Callback {
 public:
  EpochLine(int64_t epochs, std::FILE* out, std::string prefix)
      : epochs_(epochs), out_(out), prefix_(std::move(prefix)) {}
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override {
    std::string line = "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs_) + " - " +
                       format_duration(logs.count("seconds") ? logs.at("seconds") : 0.0);
    // The metrics first, the validation ones after, as Keras prints them.
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& [key, value] : logs) {
        if (key == "seconds" || key == "examples_per_second" || key == "lr") continue;
        const bool validation = key.rfind(prefix_, 0) == 0;
        if (validation != (pass == 1)) continue;
        char buf[64];
        std::snprintf(buf, sizeof buf, " - %s: %.4f", key.c_str(), value);
        line += buf;
      }
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }
  bool main_process_only() const override { return true; }

 private:
  int64_t epochs_;
  std::FILE* out_;
  std::string prefix_;
};

// Data parallelism: the loss sum, the example count and each metric's sums added up over the
// processes, in place (every rank then holds the same totals).
void sum_over_ranks(double& loss_sum, int64_t& seen, std::vector<Metric>& metrics) {
  std::vector<double> v{loss_sum, double(seen)};
  for (const auto& m : metrics) {
    v.push_back(m.total());
    v.push_back(double(m.examples()));
  }
  distributed::all_reduce_sum(v);
  loss_sum = v[0];
  seen = int64_t(std::llround(v[1]));
  for (size_t i = 0; i < metrics.size(); ++i)
    metrics[i].set_sums(v[2 + 2 * i], int64_t(std::llround(v[3 + 2 * i])));
}
}  // namespace

struct Trainer::EpochSums {
  double loss_sum = 0;
  int64_t seen = 0;
  double seconds = 0;
};

Trainer::Trainer(Module& model, Optimizer& optimizer, Loss loss, std::vector<Metric> metrics, Device device)
    : model(model), optimizer(optimizer), device(device), loss_(loss), metrics_(std::move(metrics)) {}

Trainer::Trainer(Module& model, Optimizer& optimizer, const std::string& loss,
                 const std::vector<std::string>& metrics, Device device)
    : Trainer(model, optimizer, Loss::from_name(loss), metrics_from_names(metrics), device) {}

Trainer::EpochSums Trainer::run_epoch(BatchSource& train, int64_t epoch, const FitOptions& options,
                                      distributed::GradientBucketer* bucketer) {
  EpochSums r;
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t steps = train.batches_per_epoch();
  const double threshold = loss_.kind() == LossKind::BinaryCrossentropyWithLogits ? 0.0 : 0.5;
  for (auto& m : metrics_) m.reset();
  Tensor inputs;
  Targets targets;
  // Data parallelism: gradients averaged over the ranks before the guard and the update (as
  // DDP does in backward), and the loss too, so that every rank takes the same decision.
  std::function<void(float&)> average;
  const int world = bucketer ? distributed::world_size() : 1;
  if (bucketer)
    average = [bucketer](float& loss) {
      bucketer->all_reduce_mean();
      std::vector<double> v{double(loss)};
      distributed::all_reduce_sum(v);
      loss = float(v[0] / distributed::world_size());
    };
  train.start_epoch(epoch);
  int64_t step = 0;
  while (train.next_batch_targets(device, inputs, targets)) {
    ++step;
    Tensor output;
    const float value = guarded_step(
        model, optimizer,
        [&] {
          output = model(inputs);
          return loss_(output, targets);
        },
        {epoch, step}, options.clip_grad_norm,
        [&] {
          for (auto& m : metrics_) m.update(output, targets, threshold);
        },
        average);
    const int64_t n = targets.size();
    r.loss_sum += double(value) * double(n);
    r.seen += n;
    const double t = seconds_since(t0);
    // Every rank reads batches of the same size (padded shards): world * seen images so far.
    const StepInfo info{step, steps, r.loss_sum / double(r.seen), double(world * r.seen) / std::max(t, 1e-9), t};
    for (auto& cb : options.callbacks) cb->on_batch_end(*this, epoch, info);
  }
  r.seconds = seconds_since(t0);
  return r;
}

History Trainer::fit(BatchSource& train, const FitOptions& options) {
  if (options.epochs < 1 || options.initial_epoch < 0)
    throw ArgumentError("fit: epochs must be >= 1 and initial_epoch >= 0 (got " + std::to_string(options.epochs) +
                        ", " + std::to_string(options.initial_epoch) + ")");
  if (train.batches_per_epoch() == 0) throw ArgumentError("fit: the training data has no batches");
  FitOptions o = options;
  // The progress bar and the epoch line run before the caller's callbacks, so what those print
  // comes after the epoch's line.
  std::vector<std::shared_ptr<Callback>> built_in;
  if (o.verbose == 1) built_in.push_back(std::make_shared<ProgressBar>(o.epochs, o.out));
  if (o.verbose >= 1) built_in.push_back(std::make_shared<EpochLine>(o.epochs, o.out, o.validation_prefix));
  o.callbacks.insert(o.callbacks.begin(), built_in.begin(), built_in.end());

  // Data parallelism: every replica starts from rank 0's weights and optimizer state, and the
  // callbacks that print or write run on rank 0 only.
  std::unique_ptr<distributed::GradientBucketer> bucketer;
  const bool parallel = distributed::world_size() > 1;
  if (parallel) {
    distributed::broadcast_parameters(model);
    distributed::broadcast_optimizer_state(optimizer);
    bucketer = std::make_unique<distributed::GradientBucketer>(model.named_parameters());
    if (!distributed::is_main())
      o.callbacks.erase(std::remove_if(o.callbacks.begin(), o.callbacks.end(),
                                       [](const std::shared_ptr<Callback>& cb) { return cb->main_process_only(); }),
                        o.callbacks.end());
  }

  stop_training = false;
  history_ = History();
  for (auto& cb : o.callbacks) cb->on_train_begin(*this);
  try {
    for (int64_t epoch = o.initial_epoch + 1; epoch <= o.epochs && !stop_training; ++epoch) {
      for (auto& cb : o.callbacks) cb->on_epoch_begin(*this, epoch);
      const double lr = optimizer.lr();  // the lr this epoch starts with
      EpochSums r = run_epoch(train, epoch, o, bucketer.get());
      if (parallel) sum_over_ranks(r.loss_sum, r.seen, metrics_);
      Logs logs{{"loss", r.seen ? r.loss_sum / double(r.seen) : 0.0},
                {"lr", lr},
                {"seconds", r.seconds},
                {"examples_per_second", double(r.seen) / std::max(r.seconds, 1e-9)}};
      for (const auto& m : metrics_) logs[m.name()] = m.result();
      if (o.validation)
        for (const auto& [key, value] : evaluate(*o.validation)) logs[o.validation_prefix + key] = value;
      for (auto& cb : o.callbacks) cb->on_epoch_end(*this, epoch, logs);
      history_.add(epoch, logs);
      // A callback that stopped on one rank stops them all (the logs are the same on every
      // rank, so the built-in ones agree anyway).
      if (parallel) stop_training = distributed::all_reduce_min(stop_training ? 0 : 1) == 0;
    }
  } catch (const DivergenceError& e) {
    bool handled = false;
    for (auto& cb : o.callbacks) handled = cb->on_divergence(*this, e) || handled;
    if (!handled) {
      for (auto& cb : o.callbacks) cb->on_train_abort(*this);
      throw;
    }
    for (auto& cb : o.callbacks) cb->on_train_abort(*this);
  } catch (...) {
    for (auto& cb : o.callbacks) cb->on_train_abort(*this);
    throw;
  }
  for (auto& cb : o.callbacks) cb->on_train_end(*this);
  return history_;
}

History Trainer::fit(const TensorDataset& data, const FitOptions& options) {
  if (options.validation_split > 0 && options.validation_data)
    throw ArgumentError("fit: give validation_split or validation_data, not both");
  if (options.validation)
    throw ArgumentError("fit over a TensorDataset takes validation_split or validation_data, not a BatchSource");
  TensorDataset train = data, val;
  if (options.validation_split > 0) std::tie(train, val) = train_val_split(data, options.validation_split);
  else if (options.validation_data) val = *options.validation_data;
  // Data parallelism: each rank trains on its shard of every epoch and validates on its part.
  const int rank = distributed::rank(), world = distributed::world_size();
  TensorLoader train_loader(train, {options.batch_size, options.shuffle, false, options.seed, rank, world});
  std::unique_ptr<TensorLoader> val_loader;
  if (val.size() > 0)
    val_loader = std::make_unique<TensorLoader>(
        val, TensorLoaderOptions{options.batch_size, false, false, 0, rank, world, /*shard_pad=*/false});
  FitOptions o = options;
  o.validation = val_loader.get();
  o.validation_data = nullptr;
  o.validation_split = 0;
  return fit(train_loader, o);
}

std::map<std::string, double> Trainer::evaluate(BatchSource& data) {
  NoGradGuard no_grad;
  EvalModeGuard eval_mode(model);
  const double threshold = loss_.kind() == LossKind::BinaryCrossentropyWithLogits ? 0.0 : 0.5;
  std::vector<Metric> metrics = metrics_;
  for (auto& m : metrics) m.reset();
  double loss_sum = 0;
  int64_t seen = 0;
  Tensor inputs;
  Targets targets;
  data.start_epoch(0);
  while (data.next_batch_targets(device, inputs, targets)) {
    Tensor output = model(inputs);
    const int64_t n = targets.size();
    loss_sum += double(loss_(output, targets).item()) * double(n);
    for (auto& m : metrics) m.update(output, targets, threshold);
    seen += n;
  }
  // Data parallelism: each rank evaluated its part; the result is over all of them.
  if (distributed::world_size() > 1) sum_over_ranks(loss_sum, seen, metrics);
  if (seen == 0) throw ArgumentError("evaluate: the data has no examples");
  std::map<std::string, double> out{{"loss", loss_sum / double(seen)}};
  for (const auto& m : metrics) out[m.name()] = m.result();
  return out;
}

std::map<std::string, double> Trainer::evaluate(const TensorDataset& data, int64_t batch_size) {
  TensorLoader loader(data, {batch_size, false, false, 0, distributed::rank(), distributed::world_size(),
                             /*shard_pad=*/false});
  return evaluate(loader);
}

Tensor Trainer::predict(const Tensor& x, int64_t batch_size) {
  if (!x.defined() || x.dim() == 0) throw ShapeError("predict: x needs a rows dimension");
  if (batch_size < 1) throw ArgumentError("predict: batch_size must be >= 1, got " + std::to_string(batch_size));
  NoGradGuard no_grad;
  EvalModeGuard eval_mode(model);
  std::vector<Tensor> outputs;
  for (int64_t start = 0; start < x.size(0); start += batch_size) {
    const int64_t n = std::min(batch_size, x.size(0) - start);
    outputs.push_back(model(narrow(x, 0, start, n).to(device)).to(Device::cpu()));
  }
  if (outputs.empty()) throw ShapeError("predict: x has no rows");
  return outputs.size() == 1 ? outputs[0] : cat(outputs, 0);
}

}  // namespace dlcraft
