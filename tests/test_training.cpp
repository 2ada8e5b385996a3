// End to end through the library: learning, allocation in steady state, checkpoints.
#include <catch2/catch.hpp>

#include "apps/training.hpp"
#include "core/error.hpp"
#include "core/allocator.hpp"
#include "core/autograd.hpp"
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
