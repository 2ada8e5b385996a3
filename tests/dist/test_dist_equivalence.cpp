// Data parallelism across processes (docs/distributed.md), run by ctest under
//   mpirun -np 2 --oversubscribe test_dist_equivalence
// Every rank runs the same test cases in the same order (the collectives pair up), and every
// rank can compute what the others hold (their data comes from seeds), so each checks the
// results against a reference of its own. The job fails if any rank fails.
// A failed check ends the job at once (AbortOnFailure), so a failure never hangs the others.
// With `--fail-rank R`, rank R throws in the middle of a training loop instead
// (tests/dist/test_failing_rank.sh checks that the job then ends, non-zero, naming the rank).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "datasets/tensor_dataset.hpp"
#include "distributed/data_parallel.hpp"
#include "distributed/process_group.hpp"
#include "lsan_suppressions.hpp"  // Open MPI's own allocations at exit, in the sanitizer build
#include "layers/layers.hpp"
#include "optim/optimizer.hpp"

using namespace dlcraft;
namespace dist = dlcraft::distributed;

namespace {

// Rank r's own numbers: an odd length, so no chunking or vector width hides an element.
Tensor rank_values(int r, int64_t n) {
  Generator gen(1000 + uint64_t(r));
  return Tensor::normal({n}, gen);
}

std::shared_ptr<Sequential> make_mlp(uint64_t seed) {
  manual_seed(seed);
  return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
      std::make_shared<Linear>(7, 16), std::make_shared<ReLU>(), std::make_shared<Linear>(16, 5)});
}

// x (n, 7) normal, y classes in [0, 5) that depend on x (so the model learns something).
TensorDataset make_data(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Tensor x = Tensor::normal({n, 7}, gen);
  const std::vector<float> xv = x.to_vector();
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float s = xv[size_t(i * 7)] + 0.5f * xv[size_t(i * 7 + 3)] - xv[size_t(i * 7 + 6)];
    y[size_t(i)] = std::min<int64_t>(4, std::max<int64_t>(0, int64_t(std::floor(s + 2.5f))));
  }
  return TensorDataset(x, Tensor::from_vector(y, {n}));
}

// k steps of SGD with momentum over `epochs` epochs of the loader; the bucketer, when given,
// averages the gradients over the ranks between backward and step.
void train(Module& model, TensorLoader& loader, int epochs, dist::GradientBucketer* bucketer) {
  SgdOptions o;
  o.lr = 0.1f;
  o.momentum = 0.9f;
  o.weight_decay = 1e-3f;
  SGD opt(model.named_parameters(), o);
  for (int e = 0; e < epochs; ++e) {
    loader.start_epoch(e);
    Tensor x;
    std::vector<int32_t> labels;
    while (loader.next_batch(Device::cpu(), x, labels)) {
      opt.zero_grad();
      cross_entropy(model.forward(x), labels).backward();
      if (bucketer) bucketer->all_reduce_mean();
      opt.step();
    }
  }
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<float> va = a.to_vector(), vb = b.to_vector();
  REQUIRE(va.size() == vb.size());
  float m = 0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::fabs(va[i] - vb[i]));
  return m;
}

}  // namespace

TEST_CASE("all_reduce and broadcast: values over all ranks", "[dist]") {
  const int W = dist::world_size(), R = dist::rank();
  REQUIRE(W >= 2);
  const int64_t n = 1031;
  std::vector<float> expected_sum(n, 0.0f);
  for (int r = 0; r < W; ++r) {
    const std::vector<float> v = rank_values(r, n).to_vector();
    for (int64_t i = 0; i < n; ++i) expected_sum[size_t(i)] += v[size_t(i)];
  }
  Tensor t = rank_values(R, n);
  dist::all_reduce_sum(t);
  // MPI may add in another order than the loop above: float rounding, a few ulps.
  std::vector<float> got = t.to_vector();
  for (int64_t i = 0; i < n; ++i) REQUIRE(got[size_t(i)] == Approx(expected_sum[size_t(i)]).margin(1e-6).epsilon(1e-6));
  Tensor m = rank_values(R, n);
  dist::all_reduce_mean(m);
  got = m.to_vector();
  for (int64_t i = 0; i < n; ++i)
    REQUIRE(got[size_t(i)] == Approx(expected_sum[size_t(i)] / float(W)).margin(1e-6).epsilon(1e-6));

  // Broadcast from the last rank: every rank ends with exactly its numbers (float and int64).
  Tensor b = rank_values(R, n);
  dist::broadcast(b, W - 1);
  REQUIRE(b.to_vector() == rank_values(W - 1, n).to_vector());
  Tensor ints = Tensor::from_vector(std::vector<int64_t>{R * 10 + 1, -R, int64_t(1) << 40}, {3});
  dist::broadcast(ints, 0);
  REQUIRE(ints.values_as<int64_t>() == std::vector<int64_t>{1, 0, int64_t(1) << 40});
  std::string text = R == 1 ? "from rank one, with a\ttab" : "";
  dist::broadcast(text, 1);
  REQUIRE(text == "from rank one, with a\ttab");

  // Evaluation sums: (rank + 1, 0.5) on each rank.
  std::vector<double> sums = {double(R + 1), 0.5};
  dist::all_reduce_sum(sums);
  REQUIRE(sums == std::vector<double>{double(W) * (W + 1) / 2, 0.5 * W});
  REQUIRE(dist::all_reduce_min(100 - R) == 100 - (W - 1));
  dist::barrier();
}

TEST_CASE("broadcast_parameters and broadcast_optimizer_state: every rank gets rank 0's", "[dist]") {
  const int R = dist::rank();
  // Different initial weights on each rank (as without a shared seed).
  auto model = make_mlp(50 + uint64_t(R));
  auto rank0 = make_mlp(50);
  REQUIRE((R == 0 || max_abs_diff(model->parameters()[0], rank0->parameters()[0]) > 0));
  dist::broadcast_parameters(*model);
  const auto mine = model->named_parameters(), ref = rank0->named_parameters();
  REQUIRE(mine.size() == 4);
  for (size_t i = 0; i < mine.size(); ++i) REQUIRE(mine[i].second.to_vector() == ref[i].second.to_vector());

  // Rank 0's optimizer has taken two steps (momentum buffers), the others none.
  auto step_twice = [](Module& m, Optimizer& opt) {
    Generator gen(77);
    for (int s = 0; s < 2; ++s) {
      opt.zero_grad();
      Tensor x = Tensor::normal({6, 7}, gen);
      cross_entropy(m.forward(x), std::vector<int32_t>{0, 1, 2, 3, 4, 0}).backward();
      opt.step();
    }
  };
  SgdOptions o;
  o.momentum = 0.9f;
  SGD opt(model->named_parameters(), o), ref_opt(rank0->named_parameters(), o);
  step_twice(*rank0, ref_opt);
  if (R == 0) step_twice(*model, opt);
  dist::broadcast_optimizer_state(opt);
  const std::map<std::string, Tensor> got = opt.state(), want = ref_opt.state();
  REQUIRE(got.size() == want.size());
  REQUIRE(!want.empty());
  for (const auto& [name, t] : want) {
    CAPTURE(name);
    REQUIRE(got.count(name) == 1);
    REQUIRE(got.at(name).to_vector() == t.to_vector());
  }
}

TEST_CASE("broadcast_parameters copies buffers; Adam's state (with its step count) is broadcast too", "[dist]") {
  const int R = dist::rank();
  // BatchNorm's running statistics differ between ranks after a training-mode forward on
  // rank-dependent data; the broadcast gives every rank rank 0's.
  auto make = [](int r) {
    manual_seed(21);
    auto m = std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
        std::make_shared<Linear>(3, 6), std::make_shared<BatchNorm1d>(6)});
    Generator gen(400 + uint64_t(r));
    m->forward(Tensor::normal({9, 3}, gen));
    return m;
  };
  auto model = make(R), rank0 = make(0);
  const auto buffers = model->named_buffers(), ref = rank0->named_buffers();
  REQUIRE(buffers.size() >= 2);  // running_mean, running_var (and the batch counter)
  if (R != 0) REQUIRE(buffers[0].second.to_vector() != ref[0].second.to_vector());
  dist::broadcast_parameters(*model);
  for (size_t i = 0; i < buffers.size(); ++i) {
    CAPTURE(buffers[i].first);
    REQUIRE(buffers[i].second.to_vector() == ref[i].second.to_vector());
  }

  // Adam after 3 steps on rank 0 only: moments and the step count reach every rank.
  Adam opt(model->named_parameters()), ref_opt(rank0->named_parameters());
  auto step = [](Module& m, Optimizer& o, int times) {
    Generator gen(88);
    for (int s = 0; s < times; ++s) {
      o.zero_grad();
      sum(m.forward(Tensor::normal({4, 3}, gen))).backward();
      o.step();
    }
  };
  step(*rank0, ref_opt, 3);
  if (R == 0) step(*model, opt, 3);
  dist::broadcast_optimizer_state(opt);
  const auto got = opt.state(), want = ref_opt.state();
  REQUIRE(got.size() == want.size());
  REQUIRE(want.count("step") == 1);
  for (const auto& [name, t] : want) {
    CAPTURE(name);
    REQUIRE(got.at(name).dtype() == t.dtype());
    REQUIRE(got.at(name).to_vector() == t.to_vector());
  }
}

TEST_CASE("broadcast_parameters: models that differ make every rank throw, none hangs", "[dist]") {
  const int R = dist::rank();
  manual_seed(3);
  Linear layer(5, R == 0 ? 3 : 4);
  REQUIRE_THROWS_AS(dist::broadcast_parameters(layer), dist::DistributedError);
  // The message of a rank whose model differs names the parameter and both shapes.
  manual_seed(3);
  Linear again(5, R == 0 ? 3 : 4);
  try {
    dist::broadcast_parameters(again);
  } catch (const dist::DistributedError& e) {
    const std::string what = e.what();
    CAPTURE(what);
    REQUIRE(what.find("rank " + std::to_string(R) + " of ") == 0);
    if (R != 0) REQUIRE(what.find("here \"weight float32 [4,5]\", on the root \"weight float32 [3,5]\"") != std::string::npos);
  }
}

TEST_CASE("equivalence: W ranks x batch B == 1 process x batch W*B, after k SGD steps", "[dist]") {
  const int W = dist::world_size(), R = dist::rank();
  const int64_t B = 5, steps_per_epoch = 3, epochs = 2;  // k = 6 steps with momentum
  const TensorDataset data = make_data(W * B * steps_per_epoch, 11);

  // The reference, on every rank: one process, batch W*B, the whole epoch.
  auto single = make_mlp(7);
  TensorLoaderOptions one;
  one.batch_size = W * B;
  one.seed = 5;
  TensorLoader single_loader(data, one);
  train(*single, single_loader, int(epochs), nullptr);

  // Data-parallel: different initial weights on each rank until rank 0's are broadcast; each
  // rank reads its shard of every epoch in batches of B; small buckets, so several all-reduces.
  auto replica = make_mlp(R == 0 ? 7 : 900 + uint64_t(R));
  dist::broadcast_parameters(*replica);
  TensorLoaderOptions shard = one;
  shard.batch_size = B;
  shard.shard_rank = R;
  shard.shard_count = W;
  TensorLoader shard_loader(data, shard);
  REQUIRE(shard_loader.batches_per_epoch() == steps_per_epoch);
  dist::GradientBucketer bucketer(replica->named_parameters(), 256);
  REQUIRE(bucketer.num_buckets() == 4);  // 5*4 B, 16*5*4 B, 16*4 B, 7*16*4 B: none fits with another
  train(*replica, shard_loader, int(epochs), &bucketer);

  // Float tolerance: the batch's gradient is summed in another order (per rank, then over the
  // ranks), which changes the last bits; six steps carry that along. Measured: 3e-8 (2 ranks); allowed: 1e-6.
  const auto a = replica->named_parameters(), b = single->named_parameters();
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(a[i].first);
    const float d = max_abs_diff(a[i].second, b[i].second);
    worst = std::max(worst, d);
    REQUIRE(d <= 1e-6f);
  }
  std::printf("rank %d: largest difference to the single process after %d steps: %.3g\n", R,
              int(steps_per_epoch * epochs), double(worst));
  // The training moved the weights (far more than the tolerance): the check can fail.
  REQUIRE(max_abs_diff(replica->parameters()[0], make_mlp(7)->parameters()[0]) > 1e-2f);

  // Evaluation over the shards: correct answers and loss summed over ranks == one process.
  NoGradGuard no_grad;
  TensorLoaderOptions eval = shard;
  eval.shuffle = false;
  TensorLoader eval_loader(data, eval);
  std::vector<double> sums = {0, 0};  // correct, loss * rows
  Tensor x;
  std::vector<int32_t> labels;
  while (eval_loader.next_batch(Device::cpu(), x, labels)) {
    const Tensor logits = replica->forward(x);
    const std::vector<int32_t> pred = argmax_rows(logits);
    for (size_t i = 0; i < labels.size(); ++i) sums[0] += pred[i] == labels[i];
    sums[1] += double(cross_entropy(logits, labels).item()) * double(labels.size());
  }
  dist::all_reduce_sum(sums);
  const Tensor all_logits = single->forward(data.x);
  const std::vector<int32_t> all_pred = argmax_rows(all_logits);
  const std::vector<int64_t> y = data.y.values_as<int64_t>();
  std::vector<int32_t> all_labels(y.begin(), y.end());
  double correct = 0;
  for (size_t i = 0; i < y.size(); ++i) correct += all_pred[i] == all_labels[i];
  REQUIRE(sums[0] == correct);
  REQUIRE(sums[1] / double(data.size()) == Approx(cross_entropy(all_logits, all_labels).item()).epsilon(1e-5));
}

namespace {

// A training loop in which rank `bad` meets bad data at step 3, while the others wait for it
// in the gradients' all-reduce.
int failing_rank_job(int bad) {
  return dist::run_guarded([&] {
    Tensor grads = Tensor::zeros({64});
    for (int step = 0; step < 100; ++step) {
      if (dist::rank() == bad && step == 3)
        throw ArgumentError("row 17 of batch 3: label 12 is out of range [0, 10) (the bad data this test plants)");
      dist::all_reduce_mean(grads);
    }
    std::printf("rank %d: finished all steps (the failing rank did not stop the job)\n", dist::rank());
    return 0;
  });
}

}  // namespace

// A failed check on one rank would leave the others waiting in the next collective (the failing
// rank skips the rest of its test case): end the whole job at once, naming the rank and check.
struct AbortOnFailure : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    const Catch::AssertionResult& r = stats.assertionResult;
    if (r.isOk()) return true;
    std::string what = r.getSourceInfo().file + std::string(":") + std::to_string(r.getSourceInfo().line) +
                       ": " + r.getExpressionInMacro();
    if (r.hasExpandedExpression()) what += " with expansion " + r.getExpandedExpression();
    if (r.hasMessage()) what += ": " + r.getMessage();
    for (const Catch::MessageInfo& m : stats.infoMessages) what += " [" + m.message + "]";
    dist::abort_job("test failed: " + what);
  }
};
CATCH_REGISTER_LISTENER(AbortOnFailure)

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--fail-rank") return failing_rank_job(std::stoi(argv[2]));
  return dist::run_guarded([&] {
    dist::init();
    const int failed = Catch::Session().run(argc, argv) != 0;
    // The job fails when one rank does (each reports its own).
    return dist::all_reduce_min(failed ? 0 : 1) == 1 ? 0 : 1;
  });
}
