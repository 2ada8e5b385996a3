// Trainer::fit and evaluate on several processes (train/trainer.hpp, docs/distributed.md), in
// the same job as test_dist_equivalence.cpp (its main runs these cases on every rank). Each
// rank computes the one-process reference itself (the data come from seeds), with a plain
// training loop that does not go through the distributed code.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "datasets/tensor_dataset.hpp"
#include "distributed/process_group.hpp"
#include "layers/layers.hpp"
#include "optim/optimizer.hpp"
#include "train/callbacks.hpp"
#include "train/trainer.hpp"
#include "train/training.hpp"

using namespace dlcraft;
namespace dist = dlcraft::distributed;

namespace {

std::shared_ptr<Sequential> make_net(uint64_t seed) {
  manual_seed(seed);
  return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
      std::make_shared<Linear>(5, 12), std::make_shared<ReLU>(), std::make_shared<Linear>(12, 3)});
}

// n rows of 5 normal features; 3 classes that depend on them.
TensorDataset make_rows(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Tensor x = Tensor::normal({n, 5}, gen);
  const std::vector<float> xv = x.to_vector();
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float s = xv[size_t(i * 5)] - xv[size_t(i * 5 + 2)] + 0.3f * xv[size_t(i * 5 + 4)];
    y[size_t(i)] = s < -0.4f ? 0 : (s < 0.4f ? 1 : 2);
  }
  return TensorDataset(x, Tensor::from_vector(y, {n}));
}

SgdOptions sgd_options() {
  SgdOptions o;
  o.lr = 0.05f;
  o.momentum = 0.9f;
  return o;
}

struct Eval {
  double loss = 0, accuracy = 0;
};
// Loss and accuracy over all rows at once, on this process alone.
Eval evaluate_alone(Module& model, const TensorDataset& data) {
  NoGradGuard no_grad;
  Tensor out = model.forward(data.x);
  const std::vector<int64_t> y = data.y.values_as<int64_t>();
  const std::vector<int32_t> labels(y.begin(), y.end());
  return {double(cross_entropy(out, labels).item()), double(count_correct(out, labels)) / double(labels.size())};
}

float max_abs_difference(const Tensor& a, const Tensor& b) {
  const std::vector<float> va = a.to_vector(), vb = b.to_vector();
  REQUIRE(va.size() == vb.size());
  float m = 0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::fabs(va[i] - vb[i]));
  return m;
}

// A scratch folder all ranks share (they run on one machine here): rank 0 makes it.
std::string shared_scratch_dir() {
  std::string dir;
  if (dist::is_main()) {
    dir = (std::filesystem::temp_directory_path() / ("dlcraft_dist_fit_" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(dir);
  }
  dist::broadcast(dir, 0);
  return dir;
}

}  // namespace

TEST_CASE("fit on W ranks with batch B == one process with batch W*B; validation sums over ranks", "[dist][fit]") {
  const int W = dist::world_size();
  REQUIRE(W >= 2);
  const int64_t B = 8, epochs = 2;
  const int64_t n = W * B * 5;  // whole global batches: the epoch's loss is then the same mean
  const TensorDataset train = make_rows(n, 21), val = make_rows(37, 22);  // 37: shards of 19 and 18

  // The reference: one process, batches of W*B in the same seeded order, SGD with momentum.
  auto ref = make_net(5);
  SGD ref_opt(ref->named_parameters(), sgd_options());
  TensorLoader ref_loader(train, {W * B, true, false, /*seed=*/3});
  std::vector<double> ref_loss, ref_acc, ref_val_loss, ref_val_acc;
  for (int64_t e = 1; e <= epochs; ++e) {
    ref_loader.start_epoch(e);
    Tensor x;
    std::vector<int32_t> labels;
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    while (ref_loader.next_batch(Device::cpu(), x, labels)) {
      ref_opt.zero_grad();
      Tensor out = ref->forward(x);
      Tensor loss = cross_entropy(out, labels);
      loss.backward();
      ref_opt.step();
      loss_sum += double(loss.item()) * double(labels.size());
      correct += count_correct(out, labels);
      seen += int64_t(labels.size());
    }
    ref_loss.push_back(loss_sum / double(seen));
    ref_acc.push_back(double(correct) / double(seen));
    const Eval v = evaluate_alone(*ref, val);
    ref_val_loss.push_back(v.loss);
    ref_val_acc.push_back(v.accuracy);
  }

  // Every rank starts from other weights: fit copies rank 0's (seed 5, as the reference).
  auto net = make_net(dist::rank() == 0 ? 5 : 500 + uint64_t(dist::rank()));
  SGD opt(net->named_parameters(), sgd_options());
  Trainer trainer(*net, opt, "cross_entropy", {"accuracy"});
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = B;
  o.seed = 3;
  o.validation_data = &val;
  o.verbose = 0;
  const History h = trainer.fit(train, o);

  // Tolerance: the ranks' gradients are averaged by MPI, (g0 + g1) / 2, where the reference
  // takes the mean over W*B rows in one reduction: a few float32 ulps per step, grown by
  // momentum over 2 x 5 steps; the weights are O(1), so 1e-5 absolute (measured ~1e-7).
  const auto ref_params = ref->named_parameters(), params = net->named_parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    INFO(params[i].first);
    REQUIRE(max_abs_difference(params[i].second, ref_params[i].second) < 1e-5f);
  }
  REQUIRE(h.size() == epochs);
  for (int64_t e = 0; e < epochs; ++e) {
    REQUIRE(h["loss"][size_t(e)] == Approx(ref_loss[size_t(e)]).epsilon(1e-5));
    REQUIRE(h["accuracy"][size_t(e)] == Approx(ref_acc[size_t(e)]).margin(1e-12));
    REQUIRE(h["val_loss"][size_t(e)] == Approx(ref_val_loss[size_t(e)]).epsilon(1e-5));
    REQUIRE(h["val_accuracy"][size_t(e)] == Approx(ref_val_acc[size_t(e)]).margin(1e-12));
  }
  // evaluate over a TensorDataset: each rank its part (19 or 18 of 37 rows), summed.
  const auto ev = trainer.evaluate(val, 4);
  const Eval alone = evaluate_alone(*net, val);
  REQUIRE(ev.at("loss") == Approx(alone.loss).epsilon(1e-5));
  REQUIRE(ev.at("accuracy") == Approx(alone.accuracy).margin(1e-12));
}

TEST_CASE("fit on W ranks: files are written by rank 0 only; a stop on one rank stops all", "[dist][fit]") {
  const int W = dist::world_size(), R = dist::rank();
  const std::string dir = shared_scratch_dir();
  const TensorDataset train = make_rows(W * 4 * 3, 31);
  auto net = make_net(7);
  SGD opt(net->named_parameters(), sgd_options());
  Trainer trainer(*net, opt, "cross_entropy", {"accuracy"});
  FitOptions o;
  o.epochs = 6;
  o.batch_size = 4;
  o.verbose = 0;
  // Each rank names its own files: only rank 0's may appear.
  const std::string mine = dir + "/rank" + std::to_string(R);
  ModelCheckpoint::Options co;
  co.save_best_only = false;
  o.callbacks.push_back(std::make_shared<ModelCheckpoint>(mine + ".safetensors", co));
  o.callbacks.push_back(CSVLogger(mine + ".csv"));
  int printed = 0, everywhere = 0;
  auto printer = std::make_shared<LambdaCallback>();
  printer->main_only = true;
  printer->epoch_end = [&](Trainer&, int64_t, Logs&) { ++printed; };
  o.callbacks.push_back(printer);
  // The last rank alone decides to stop after epoch 2.
  auto stopper = std::make_shared<LambdaCallback>();
  stopper->epoch_end = [&](Trainer& t, int64_t epoch, Logs&) {
    ++everywhere;
    if (R == W - 1 && epoch == 2) t.stop_training = true;
  };
  o.callbacks.push_back(stopper);
  const History h = trainer.fit(train, o);
  REQUIRE(h.size() == 2);
  REQUIRE(everywhere == 2);
  REQUIRE(printed == (R == 0 ? 2 : 0));
  dist::barrier();  // every rank has finished writing (or not)
  for (int r = 0; r < W; ++r) {
    const std::string base = dir + "/rank" + std::to_string(r);
    INFO("rank " << r);
    REQUIRE(std::filesystem::exists(base + ".safetensors") == (r == 0));
    REQUIRE(std::filesystem::exists(base + ".csv") == (r == 0));
  }
  std::ifstream csv(dir + "/rank0.csv");
  std::string line;
  int lines = 0;
  while (std::getline(csv, line)) ++lines;
  REQUIRE(lines == 3);  // the header and epochs 1, 2
  dist::barrier();
  if (dist::is_main()) std::filesystem::remove_all(dir);
}

TEST_CASE("fit on W ranks: a NaN in one rank's rows stops every rank in the same step", "[dist][fit]") {
  const int W = dist::world_size();
  TensorDataset train = make_rows(W * 4 * 3, 41);
  // Row 5 holds NaN: whichever rank reads it, its loss is NaN, and so is the mean over ranks.
  std::vector<float> xv = train.x.to_vector();
  xv[5 * 5 + 1] = std::numeric_limits<float>::quiet_NaN();
  train.x = Tensor::from_vector(xv, {train.size(), 5});
  auto net = make_net(9);
  SGD opt(net->named_parameters(), sgd_options());
  Trainer trainer(*net, opt, "cross_entropy");
  FitOptions o;
  o.epochs = 2;
  o.batch_size = 4;
  o.shuffle = false;
  o.verbose = 0;
  const std::vector<float> before = net->named_parameters()[0].second.to_vector();
  // Without agreement one rank would throw and the others wait for it in the next all-reduce.
  REQUIRE_THROWS_AS(trainer.fit(train, o), DivergenceError);
  // Row 5 is in the first global batch (rows 0 .. 4W-1): no update happened on any rank.
  REQUIRE(net->named_parameters()[0].second.to_vector() == before);
}
