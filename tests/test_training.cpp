// End to end through the library: learning, allocation in steady state, checkpoints.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "train/training.hpp"
#include "core/error.hpp"
#include "core/allocator.hpp"
#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "core/safetensors.hpp"
#include "layers/checkpoint.hpp"
#include "layers/cnn.hpp"
#include "test_data.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

TEST_CASE("a small CNN learns a generated data set") {
  manual_seed(1);
  ImageDataset train = make_pattern_dataset(600, 10, 1), test = make_pattern_dataset(200, 10, 2);
  DataLoaderOptions opt;
  opt.batch_size = 20;
  opt.normalization = compute_normalization(train);
  DataLoader train_loader(train, opt);
  DataLoaderOptions eval_opt = opt;
  eval_opt.shuffle = eval_opt.augment = false;
  DataLoader test_loader(test, eval_opt);
  auto net = small_cnn();
  Adam adam(net->named_parameters(), {3e-3f});
  EpochResult first = train_epoch(*net, adam, train_loader, 1, Device::cpu());
  EpochResult last;
  for (int epoch = 2; epoch <= 6; ++epoch) last = train_epoch(*net, adam, train_loader, epoch, Device::cpu());
  EpochResult eval = evaluate(*net, test_loader, Device::cpu());
  INFO("first epoch loss " << first.loss << ", last " << last.loss << ", test accuracy " << eval.accuracy());
  CHECK(last.loss < first.loss * 0.5);
  CHECK(eval.accuracy() > 0.9);  // chance is 0.1
}

TEST_CASE("training steps stop allocating after the first") {
  manual_seed(2);
  CNN model;
  Adam adam(model.named_parameters(), {1e-4f});
  Generator g(3);
  Tensor x = Tensor::normal({4, 3, 32, 32}, g);
  std::vector<int32_t> labels{1, 2, 3, 4};
  train_step(model, adam, x, labels);
  const size_t after_first = allocator_stats(Device::cpu()).system_allocs;
  for (int i = 0; i < 4; ++i) train_step(model, adam, x, labels);
  CHECK(allocator_stats(Device::cpu()).system_allocs == after_first);
}

TEST_CASE("save then load gives the same predictions") {
  manual_seed(4);
  CNN a;
  Adam adam(a.named_parameters(), {1e-3f});
  Generator g(5);
  Tensor x = Tensor::normal({3, 3, 32, 32}, g);
  train_step(a, adam, x, {0, 1, 2});
  const std::string path = "test_training_checkpoint.safetensors";
  save_checkpoint(path, a, &adam, {{"epoch", "1"}});

  // PyTorch's state_dict names, and nothing else, so load_state_dict(strict=True) accepts it.
  SafeTensors st = load_safetensors(path);
  CHECK(st.tensors.size() == 18);
  CHECK(st.tensors.count("block1.conv1.weight") == 1);
  CHECK(st.tensors.at("block3.conv2.weight").shape() == Shape{256, 128, 3, 3});
  CHECK(st.tensors.at("fc1.weight").shape() == Shape{2048, 4096});
  CHECK(st.tensors.count("fc3.bias") == 1);

  manual_seed(99);
  CNN b;
  Metadata meta = load_weights(path, b);
  CHECK(meta.at("epoch") == "1");
  NoGradGuard no_grad;
  CHECK(a(x).to_vector() == b(x).to_vector());

  Adam adam_b(b.named_parameters(), {1e-3f});
  load_optimizer_state(path, adam_b, "1");
  CHECK(adam_b.steps() == 1);
  CHECK_THROWS_AS(load_optimizer_state(path, adam_b, "2"), IOError);  // mismatched pair
  CNN wrong(7);  // fc3 has 7 outputs: the shapes do not match
  CHECK_THROWS_WITH(load_weights(path, wrong), Catch::Contains("fc3.weight"));
}

TEST_CASE("the CNN names its parameters as PyTorch and reports bad input with its path") {
  manual_seed(0);
  CNN model;
  auto named = model.named_parameters();
  REQUIRE(named.size() == 18);
  CHECK(named[0].first == "block1.conv1.weight");
  CHECK(named[3].first == "block1.conv2.bias");
  CHECK(named[17].first == "fc3.bias");
  CHECK(model.parameter_count() == 9457962);  // as PyTorch counts the same model
  // PyTorch's default init bound: 1/sqrt(fan_in).
  float max_abs = 0;
  for (float v : model.fc1->weight.to_vector()) max_abs = std::max(max_abs, std::fabs(v));
  CHECK(max_abs <= 1.0f / 64.0f);
  CHECK(max_abs > 0.99f / 64.0f);
  // A 28x28 image reaches fc1 with 256*3*3 features instead of 4096.
  CHECK_THROWS_WITH(model(Tensor::zeros({2, 3, 28, 28})), "fc1 (Linear): input [2,2304] vs weight [2048,4096]");
  CHECK_THROWS_WITH(model(Tensor::zeros({2, 1, 32, 32})), Catch::StartsWith("block1.conv1 (Conv2d)"));
}

// ------------------------------------------------------------------ the divergence guard

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Adam, except that after its `at`-th step it writes `value` into one element of `target`:
// an update that overflowed, deterministically.
class PoisoningAdam : public Adam {
 public:
  PoisoningAdam(std::vector<std::pair<std::string, Tensor>> params, Tensor target, int at, float value)
      : Adam(std::move(params), {1e-3f}), target_(std::move(target)), at_(at), value_(value) {}
  void step() override {
    Adam::step();
    if (++steps_ == at_) target_.data()[target_.numel() / 2] = value_;
  }

 private:
  Tensor target_;
  int at_, steps_ = 0;
  float value_;
};

// Identity forward; backward passes the gradient on with one element set to +Inf: a
// gradient that overflowed while the loss stayed finite.
class InfGradient : public Module {
 public:
  Tensor forward(const Tensor& x) override {
    return record(x.clone(), "inf_gradient", {x}, [x](const Tensor& dy) {
      Tensor g = dy.clone();
      g.data()[0] = kInf;
      accumulate_grad(x, g);
    });
  }
  std::string type_name() const override { return "InfGradient"; }
};

struct SmallRun {
  ImageDataset data = make_pattern_dataset(60, 10, 1);  // batch 20: 3 steps per epoch
  DataLoaderOptions opt;
  std::unique_ptr<DataLoader> loader;
  SmallRun() {
    opt.batch_size = 20;
    opt.normalization = compute_normalization(data);
    loader = std::make_unique<DataLoader>(data, opt);
  }
};

std::vector<std::vector<float>> values_of(const Module& m) {
  std::vector<std::vector<float>> out;
  for (const auto& np : m.named_parameters()) out.push_back(np.second.to_vector());
  return out;
}
}  // namespace

TEST_CASE("the divergence guard names a parameter that an update turned NaN or Inf") {
  for (float bad : {kNaN, kInf, -kInf}) {
    INFO("value " << bad);
    manual_seed(6);
    SmallRun run;
    auto net = small_cnn();
    const auto named = net->named_parameters();
    const std::string name = named[2].first;  // the second conv's weight
    PoisoningAdam adam(named, named[2].second, 5, bad);  // 5th update: epoch 2, step 2
    CHECK_NOTHROW(train_epoch(*net, adam, *run.loader, 1, Device::cpu()));  // 3 steps: fine
    try {
      train_epoch(*net, adam, *run.loader, 2, Device::cpu());  // the 2nd update of this epoch
      FAIL("no DivergenceError");
    } catch (const DivergenceError& e) {
      CHECK(e.tensor == name);
      CHECK(e.epoch == 2);
      CHECK(e.step == 2);
      CHECK(std::string(e.what()) == name + " has NaN/Inf after the update at epoch 2, step 2: "
                                            "training stopped (try a smaller --lr)");
    }
  }
}

TEST_CASE("the divergence guard stops a NaN/Inf gradient before the update") {
  manual_seed(7);
  SmallRun run;
  auto net = small_cnn();
  net->add(std::make_shared<InfGradient>());
  Adam adam(net->named_parameters(), {1e-3f});
  const auto before = values_of(*net);
  try {
    train_epoch(*net, adam, *run.loader, 1, Device::cpu());
    FAIL("no DivergenceError");
  } catch (const DivergenceError& e) {
    INFO(e.what());
    CHECK(!e.tensor.empty());
    CHECK(e.step == 1);
    CHECK_THAT(e.what(), Catch::StartsWith("the gradient of " + e.tensor + " has NaN/Inf at epoch 1, step 1"));
  }
  CHECK(values_of(*net) == before);  // the optimizer never ran
  CHECK(adam.steps() == 0);
}

TEST_CASE("a NaN weight gives a NaN loss (ReLU keeps NaN) and train_step says so") {
  manual_seed(8);
  auto net = small_cnn();
  Adam adam(net->named_parameters(), {1e-3f});
  Generator g(9);
  Tensor x = Tensor::normal({4, 3, 32, 32}, g);
  const std::vector<int32_t> labels{1, 2, 3, 4};
  train_step(*net, adam, x, labels);
  // The first conv's bias: NaN reaches every logit only if ReLU and the pools keep it.
  net->named_parameters()[1].second.data()[0] = kNaN;
  CHECK_THROWS_AS(train_step(*net, adam, x, labels), NonFiniteLossError);
  CHECK_THROWS_WITH(train_step(*net, adam, x, labels, nullptr, {3, 17}),
                    "loss is nan at epoch 3, step 17: training stopped (try a smaller --lr)");
  CHECK(adam.steps() == 1);  // neither failed step reached the optimizer
}

TEST_CASE("all_finite and first_nonfinite find NaN and Inf anywhere") {
  for (int64_t n : {int64_t(1), int64_t(7), int64_t(100003)}) {
    INFO("elements " << n);
    Tensor t = Tensor::full({n}, 1.0f);
    t.data()[0] = std::numeric_limits<float>::max();
    t.data()[n - 1] = std::numeric_limits<float>::denorm_min();
    CHECK(all_finite(t));
    for (float bad : {kNaN, kInf, -kInf}) {
      for (int64_t at : {int64_t(0), n / 2, n - 1}) {
        Tensor u = t.clone();
        u.data()[at] = bad;
        CHECK_FALSE(all_finite(u));
        CHECK(first_nonfinite({Tensor(), t, u, u}) == 2);  // undefined tensors are skipped
      }
    }
    CHECK(first_nonfinite({t, Tensor(), t}) == -1);
  }
  CHECK(all_finite(Tensor::empty({0})));
}
