// fit / evaluate / predict (train/trainer.hpp) with the model on the GPU: the same seeded run on
// the CPU and on the GPU gives the same History (to float rounding: the GPU's GEMM and
// reductions sum in another order) and the same weights, for a classifier (cross-entropy,
// accuracy, Adam) and a regression (MSE, MAE, SGD, clipping, a scheduler), and predict's
// outputs come back to the host.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/random.hpp"
#include "layers/dense.hpp"
#include "layers/layers.hpp"
#include "optim/lr_scheduler.hpp"
#include "train/callbacks.hpp"
#include "train/trainer.hpp"

using namespace dlcraft;

namespace {

struct Run {
  History history;
  std::vector<float> weights, predictions;
};

Run fit_on(Device device, const TensorDataset& data, bool classes) {
  manual_seed(31);
  Sequential model{std::make_shared<Dense>(12, "tanh", int(data.x.size(1))), std::make_shared<Dense>(7, "relu"),
                   std::make_shared<Dense>(classes ? 3 : 1)};
  model.to(device);
  std::unique_ptr<Optimizer> opt = classes ? make_optimizer("adam", model.named_parameters(), 0.01f)
                                           : make_optimizer("sgd", model.named_parameters(), 0.05f);
  Trainer trainer(model, *opt, classes ? "cross_entropy" : "mse", {classes ? "accuracy" : "mae"}, device);
  FitOptions o;
  o.epochs = 4;
  o.batch_size = 9;  // odd: a partial last batch
  o.validation_split = 0.25;
  o.verbose = 0;
  o.seed = 5;
  if (!classes) {
    o.clip_grad_norm = 0.5;
    o.callbacks = {std::make_shared<LearningRateScheduler>(std::make_shared<StepLR>(*opt, 2, 0.5))};
  }
  Run r;
  r.history = trainer.fit(data, o);
  for (const auto& [name, p] : model.named_parameters()) {
    CHECK(p.device() == device);
    for (float v : p.to_vector()) r.weights.push_back(v);
  }
  Tensor pred = trainer.predict(data.x, 10);
  CHECK(pred.device() == Device::cpu());
  r.predictions = pred.to_vector();
  return r;
}

void check_same(const Run& cpu, const Run& gpu) {
  REQUIRE(cpu.history.keys() == gpu.history.keys());
  for (const auto& key : cpu.history.keys()) {
    if (key == "seconds" || key == "examples_per_second") continue;
    for (size_t i = 0; i < cpu.history[key].size(); ++i) {
      INFO(key << " at epoch " << i + 1);
      CHECK(gpu.history[key][i] == Approx(cpu.history[key][i]).epsilon(1e-4).margin(1e-5));
    }
  }
  REQUIRE(cpu.weights.size() == gpu.weights.size());
  for (size_t i = 0; i < cpu.weights.size(); ++i) CHECK(gpu.weights[i] == Approx(cpu.weights[i]).margin(1e-4));
  for (size_t i = 0; i < cpu.predictions.size(); ++i)
    CHECK(gpu.predictions[i] == Approx(cpu.predictions[i]).margin(1e-4));
}

}  // namespace

TEST_CASE("fit on the GPU equals fit on the CPU", "[fit]") {
  Generator gen(29);
  const int64_t n = 61;
  const Tensor x = Tensor::normal({n, 5}, gen);
  std::vector<int64_t> classes(static_cast<size_t>(n));
  const std::vector<float> xs = x.to_vector();
  for (int64_t i = 0; i < n; ++i) classes[size_t(i)] = xs[size_t(5 * i)] > 0.3f ? 2 : (xs[size_t(5 * i + 1)] > 0 ? 1 : 0);
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[size_t(i)] = 1.5f * xs[size_t(5 * i)] - xs[size_t(5 * i + 3)] + 0.2f;
  SECTION("classes: cross-entropy, accuracy, Adam") {
    const TensorDataset data(x, Tensor::from_vector(classes, {n}));
    check_same(fit_on(Device::cpu(), data, true), fit_on(Device::cuda(), data, true));
  }
  SECTION("values: MSE, MAE, SGD with clipping and StepLR") {
    const TensorDataset data(x, Tensor::from_vector(values, {n, 1}));
    check_same(fit_on(Device::cpu(), data, false), fit_on(Device::cuda(), data, false));
  }
}
