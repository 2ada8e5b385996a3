// The worked examples of the course pages, computed with dlcraft's ops: if a page's numbers
// and the code ever disagree, this fails. Each test names its page.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/error.hpp"
#include "core/creation.hpp"
#include "core/ops.hpp"
#include "datasets/dataloader.hpp"
#include "datasets/dataset.hpp"
#include "datasets/transforms.hpp"
#include "kernels/cuda/gemm_split.hpp"
#include "optim/optimizer.hpp"
#include "test_data.hpp"

using namespace dlcraft;

TEST_CASE("perceptron.md: one step of gradient descent") {
  Tensor x = Tensor::from_vector({1, 0}, {1, 2});
  Tensor t = Tensor::from_vector({1}, {1, 1});
  Tensor w = Tensor::from_vector({0.5f, -0.3f}, {2, 1}).requires_grad_();
  Tensor w0 = Tensor::from_vector({0.1f}, {1}).requires_grad_();
  Tensor z = matmul(x, w) + w0;
  Tensor y = sigmoid(z);
  Tensor loss = mse_loss(y, t);
  CHECK(z.item() == Approx(0.6).epsilon(1e-6));
  CHECK(y.item() == Approx(0.645656).epsilon(1e-5));
  CHECK(loss.item() == Approx(0.125559).epsilon(1e-5));
  loss.backward();
  std::vector<float> g = w.grad().to_vector();
  CHECK(g[0] == Approx(-0.162137).epsilon(1e-5));
  CHECK(g[1] == 0.0f);
  CHECK(w0.grad().item() == Approx(-0.162137).epsilon(1e-5));
  SGD sgd({{"w", w}, {"w0", w0}}, {0.5f});
  sgd.step();
  CHECK(w.to_vector()[0] == Approx(0.581068).epsilon(1e-5));
  CHECK(w.to_vector()[1] == Approx(-0.3).epsilon(1e-6));
  CHECK(w0.item() == Approx(0.181068).epsilon(1e-5));
}

TEST_CASE("mlp.md: XOR by hand") {
  Tensor x = Tensor::from_vector({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  Tensor w1 = Tensor::from_vector({20, 20, -20, -20}, {2, 2});  // rows: h1, h2
  Tensor b1 = Tensor::from_vector({-10, 30}, {2});
  Tensor w2 = Tensor::from_vector({20, 20}, {1, 2});
  Tensor b2 = Tensor::from_vector({-30}, {1});
  Tensor h = sigmoid(matmul(x, transpose(w1, 0, 1)) + b1);
  Tensor y = sigmoid(matmul(h, transpose(w2, 0, 1)) + b2);
  const std::vector<float> hv = h.to_vector(), yv = y.to_vector();
  const float h_table[4][2] = {{0, 1}, {1, 1}, {1, 1}, {1, 0}};
  const float y_table[4] = {0, 1, 1, 0};
  for (int r = 0; r < 4; ++r) {
    INFO("row " << r);
    CHECK(std::round(hv[r * 2] * 1e4f) / 1e4f == h_table[r][0]);
    CHECK(std::round(hv[r * 2 + 1] * 1e4f) / 1e4f == h_table[r][1]);
    CHECK(std::round(yv[r] * 1e4f) / 1e4f == y_table[r]);
  }
  CHECK(yv[0] == Approx(0.0000454).epsilon(1e-2));
}

TEST_CASE("batch_epoch.md: iterations per epoch") {
  ImageDataset ds = dlcraft::test::make_pattern_dataset(100, 10, 3);
  DataLoaderOptions opt;
  opt.batch_size = 32;
  opt.seed = 1;
  opt.augment = false;
  opt.normalization = compute_normalization(ds);
  DataLoader loader(ds, opt);
  CHECK(loader.batches_per_epoch() == 4);
  std::vector<std::vector<int64_t>> orders;
  for (int64_t epoch : {1, 2}) {
    loader.start_epoch(epoch);
    Tensor images;
    std::vector<int32_t> labels;
    std::vector<int64_t> sizes;
    while (loader.next_batch(Device::cpu(), images, labels)) sizes.push_back(images.size(0));
    CHECK(sizes == std::vector<int64_t>{32, 32, 32, 4});
    std::vector<int64_t> order = epoch_order(100, opt.seed, epoch, true);
    std::vector<int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < 100; ++i) CHECK(sorted[i] == i);  // every example exactly once
    orders.push_back(order);
  }
  CHECK(orders[0] != orders[1]);  // a new order each epoch
}

TEST_CASE("gradient_descent.md: the learning rate table") {
  const std::vector<std::pair<float, std::vector<float>>> table = {
      {0.1f, {0.6f, 1.08f, 1.464f, 1.7712f, 2.017f}},
      {0.5f, {3, 3, 3, 3, 3}},
      {0.9f, {5.4f, 1.08f, 4.536f, 1.7712f, 3.983f}},
      {1.1f, {6.6f, -1.32f, 8.184f, -3.2208f, 10.465f}}};
  for (const auto& [lr, expected] : table) {
    INFO("learning rate " << lr);
    Tensor w = zeros({1}, TensorOptions().with_requires_grad());
    SGD sgd({{"w", w}}, {lr});
    for (size_t step = 0; step < expected.size(); ++step) {
      sgd.zero_grad();
      Tensor loss = sum(pow(w - 3.0, 2.0));  // L(w) = (w - 3)^2
      loss.backward();
      sgd.step();
      CHECK(w.item() == Approx(expected[step]).margin(1e-3));
    }
  }
}

TEST_CASE("activations.md: the table") {
  const std::vector<float> z = {-2, -0.5f, 0, 1, 3};
  // Columns of the page's table: sigmoid, sigmoid', tanh, tanh', relu, leaky relu, gelu.
  const std::vector<std::vector<double>> table = {
      {0.1192, 0.1050, -0.9640, 0.0707, 0, -0.02, -0.0455},
      {0.3775, 0.2350, -0.4621, 0.7864, 0, -0.005, -0.1543},
      {0.5, 0.25, 0, 1, 0, 0, 0},
      {0.7311, 0.1966, 0.7616, 0.4200, 1, 1, 0.8413},
      {0.9526, 0.0452, 0.9951, 0.0099, 3, 3, 2.9960}};
  auto value_and_slope = [&](const std::function<Tensor(const Tensor&)>& f) {
    Tensor x = Tensor::from_vector(z, {5}).requires_grad_();
    Tensor y = f(x);
    sum(y).backward();
    return std::make_pair(y.to_vector(), x.grad().to_vector());
  };
  auto [s, ds] = value_and_slope([](const Tensor& x) { return sigmoid(x); });
  auto [t, dt] = value_and_slope([](const Tensor& x) { return tanh(x); });
  auto [r, dr] = value_and_slope([](const Tensor& x) { return relu(x); });
  auto [l, dl] = value_and_slope([](const Tensor& x) { return leaky_relu(x, 0.01); });
  auto [g, dg] = value_and_slope([](const Tensor& x) { return gelu(x); });
  for (size_t i = 0; i < z.size(); ++i) {
    INFO("z = " << z[i]);
    const std::vector<double>& row = table[i];
    CHECK(s[i] == Approx(row[0]).margin(5e-5));
    CHECK(ds[i] == Approx(row[1]).margin(5e-5));
    CHECK(t[i] == Approx(row[2]).margin(5e-5));
    CHECK(dt[i] == Approx(row[3]).margin(5e-5));
    CHECK(r[i] == Approx(row[4]));
    CHECK(l[i] == Approx(row[5]));
    CHECK(g[i] == Approx(row[6]).margin(5e-5));
    // The slopes the page states in words: ReLU 1 or 0, leaky ReLU 1 or α, GELU Φ(z) + zφ(z).
    CHECK(dr[i] == (z[i] > 0 ? 1.0f : 0.0f));
    if (z[i] != 0) CHECK(dl[i] == Approx(z[i] > 0 ? 1.0 : 0.01));
    const double phi = std::exp(-0.5 * z[i] * z[i]) / std::sqrt(2 * M_PI);
    CHECK(dg[i] == Approx(0.5 * (1 + std::erf(z[i] / std::sqrt(2.0))) + z[i] * phi).margin(1e-5));
  }
}

// ---- the op pages' worked examples (linear, relu, convolution, softmax cross-entropy, Adam) ----

TEST_CASE("linear.md: the worked example") {
  Tensor x = Tensor::from_vector({1, 2}, {1, 2}).requires_grad_();
  Tensor w = Tensor::from_vector({1, 0, 2, -1, 0, 3}, {3, 2}).requires_grad_();
  Tensor b = Tensor::from_vector({0.5f, 0, -1}, {3}).requires_grad_();
  Tensor y = linear(x, w, b);
  CHECK(y.to_vector() == std::vector<float>{1.5f, 0, 5});
  y.backward(ones({1, 3}));
  CHECK(x.grad().to_vector() == std::vector<float>{3, 2});
  CHECK(w.grad().to_vector() == std::vector<float>{1, 2, 1, 2, 1, 2});
  CHECK(b.grad().to_vector() == std::vector<float>{1, 1, 1});
}

TEST_CASE("relu.md: the worked example") {
  Tensor x = Tensor::from_vector({-2, 0, 3}, {3}).requires_grad_();
  Tensor y = relu(x);
  CHECK(y.to_vector() == std::vector<float>{0, 0, 3});
  y.backward(ones({3}));
  CHECK(x.grad().to_vector() == std::vector<float>{0, 0, 1});
}

TEST_CASE("convolution.md: the worked example") {
  Tensor x = reshape(arange(1, 10), {1, 1, 3, 3}).requires_grad_();
  Tensor w = Tensor::from_vector({1, 2, 3, 4}, {1, 1, 2, 2}).requires_grad_();
  Tensor b = zeros({1}, TensorOptions().with_requires_grad());
  Tensor y = conv2d(x, w, b, 1, 0);
  CHECK(y.to_vector() == std::vector<float>{37, 47, 67, 77});
  y.backward(ones({1, 1, 2, 2}));
  CHECK(w.grad().to_vector() == std::vector<float>{12, 16, 24, 28});
  CHECK(b.grad().to_vector() == std::vector<float>{4});
  CHECK(x.grad().to_vector() == std::vector<float>{1, 3, 2, 4, 10, 6, 3, 7, 4});
}

TEST_CASE("softmax_cross_entropy.md: the worked example") {
  Tensor z = Tensor::from_vector({2, 1, 0}, {1, 3}).requires_grad_();
  Tensor loss = cross_entropy(z, std::vector<int32_t>{0});
  CHECK(loss.item() == Approx(0.4076).margin(5e-5));
  CHECK(softmax(z, 1).to_vector()[0] == Approx(0.6652).margin(5e-5));
  loss.backward();
  std::vector<float> g = z.grad().to_vector();
  CHECK(g[0] == Approx(-0.3348).margin(5e-5));
  CHECK(g[1] == Approx(0.2447).margin(5e-5));
  CHECK(g[2] == Approx(0.0900).margin(5e-5));
}

TEST_CASE("adam.md: the worked example") {
  Tensor theta = Tensor::from_vector({1}, {1}).requires_grad_();
  Adam adam({{"theta", theta}}, {0.1f});
  for (float expected : {0.9f, 0.8f}) {
    theta.set_grad(Tensor::from_vector({0.5f}, {1}));
    adam.step();
    CHECK(theta.item() == Approx(expected).epsilon(1e-5));
  }
}

// ---- the tensor library pages' worked examples ----

namespace {
void check_values(const Tensor& t, const std::vector<float>& expected, double margin = 5e-5) {
  const std::vector<float> v = t.to_vector();
  REQUIRE(v.size() == expected.size());
  for (size_t i = 0; i < v.size(); ++i) CHECK(v[i] == Approx(expected[i]).margin(margin));
}
}  // namespace

TEST_CASE("reductions.md: the worked example") {
  Tensor x = Tensor::from_vector({1, 5, 2, 7, 3, 3}, {2, 3}).requires_grad_();
  check_values(sum(x, 1), {8, 13});
  check_values(mean(x, 0), {4, 4, 2.5f});
  ValuesIndices m = max(x, 1);
  check_values(m.values, {5, 7});
  CHECK(m.indices.values_as<int64_t>() == std::vector<int64_t>{1, 0});
  sum(m.values).backward();
  check_values(x.grad(), {0, 1, 0, 1, 0, 0});
  check_values(var(x, {1}), {4.3333f, 5.3333f});
  check_values(dlcraft::std(x, {1}), {2.0817f, 2.3094f});  // qualified: `std` alone names the namespace
  check_values(narrow(softmax(x, 1), 0, 0, 1), {0.0171f, 0.9362f, 0.0466f});
  check_values(logsumexp(x, 1), {5.0659f, 7.0360f});
  check_values(var(x, {1}, 0), {2.8889f, 3.5556f});  // exercise 1
}

TEST_CASE("losses.md: the worked example") {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3}).requires_grad_();
  Tensor t = Tensor::from_vector({1, 0, 5}, {3});
  Tensor mse = mse_loss(x, t);
  check_values(mse, {2.6667f});
  mse.backward();
  check_values(x.grad(), {0, 1.3333f, -1.3333f});
  x.zero_grad();
  Tensor l1 = l1_loss(x, t);
  check_values(l1, {1.3333f});
  l1.backward();
  check_values(x.grad(), {0, 0.3333f, -0.3333f});
  check_values(mse_loss(x, t, Reduction::Sum), {8});

  Tensor z = Tensor::from_vector({0, 2, -1}, {3}).requires_grad_();
  Tensor bce = binary_cross_entropy_with_logits(z, Tensor::from_vector({1, 0, 1}, {3}));
  check_values(bce, {1.3778f});
  bce.backward();
  check_values(z.grad(), {-0.1667f, 0.2936f, -0.2437f});

  Tensor logits = Tensor::from_vector({2, 1, 0}, {1, 3}).requires_grad_();
  Tensor ce = cross_entropy(logits, Tensor::from_vector(std::vector<int64_t>{0}, {1}), Reduction::Mean, 0.1);
  check_values(ce, {0.5076f});
  ce.backward();
  check_values(logits.grad(), {-0.2681f, 0.2114f, 0.0567f});

  // Exercise 2: the clamped log of binary_cross_entropy against the stable form.
  Tensor big = Tensor::from_vector({200}, {1}), zero = Tensor::from_vector({0}, {1});
  check_values(binary_cross_entropy(sigmoid(big), zero), {100});
  check_values(binary_cross_entropy_with_logits(big, zero), {200});
}

TEST_CASE("matmul.md: the worked example") {
  Tensor a = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor b = Tensor::from_vector({1, 0, 0, 1, 1, 1}, {3, 2}).requires_grad_();
  Tensor y = matmul(a, b);
  check_values(y, {4, 5, 10, 11});
  y.backward(ones({2, 2}));
  check_values(a.grad(), {1, 1, 2, 1, 1, 2});
  check_values(b.grad(), {5, 5, 7, 7, 9, 9});
  CHECK(matmul(ones({7, 1, 2, 3}), ones({5, 3, 4})).shape() == Shape{7, 5, 2, 4});  // exercise 1
}

TEST_CASE("views_and_indexing.md: repeated indices") {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {3, 2}).requires_grad_();
  Tensor s = index_select(x, 0, Tensor::from_vector(std::vector<int64_t>{0, 2, 0}, {3}));
  check_values(s, {1, 2, 5, 6, 1, 2});
  s.backward(Tensor::from_vector({1, 1, 10, 10, 100, 100}, {3, 2}));
  check_values(x.grad(), {101, 101, 0, 0, 10, 10});
  check_values(slice(arange(10), 0, -3, 100, 2), {7, 9});  // exercise 1
}

TEST_CASE("elementwise.md and broadcasting.md: exercises") {
  auto slope = [](const std::function<Tensor(const Tensor&)>& f) {
    Tensor x = Tensor::from_vector({3}, {1}).requires_grad_();
    f(x).backward(ones({1}));
    return x.grad().item();
  };
  CHECK(slope([](const Tensor& x) { return pow(x, 2.0); }) == Approx(6));
  CHECK(slope([](const Tensor& x) { return exp(x); }) == Approx(20.0855).epsilon(1e-5));
  CHECK(slope([](const Tensor& x) { return sqrt(x); }) == Approx(0.2887).epsilon(1e-4));
  Tensor a = ones({1}, TensorOptions().with_requires_grad()), b = ones({1}, TensorOptions().with_requires_grad());
  maximum(a, b).backward(ones({1}));
  CHECK(a.grad().item() == 0.5f);
  CHECK(b.grad().item() == 0.5f);
  Tensor i = cast(Tensor::from_vector({-2.7f, 2.7f}, {2}), DType::Int64);
  CHECK(i.values_as<int64_t>() == std::vector<int64_t>{-2, 2});
  CHECK(cast(i, DType::Bool).values_as<int64_t>() == std::vector<int64_t>{1, 1});
  CHECK(broadcast_shapes({{5, 1, 4}, {3, 1}}, "t") == Shape{5, 3, 4});
  CHECK_THROWS_AS(broadcast_shapes({{2, 3}, {3, 2}}, "t"), ShapeError);
  CHECK(broadcast_shapes({{}, {4, 1}}, "t") == Shape{4, 1});
  // y = x + b: b's gradient is the batch sum of dL/dy, as linear's db.
  Generator gen(2);
  Tensor x = Tensor::normal({32, 10}, gen), bias = zeros({10}, TensorOptions().with_requires_grad());
  Tensor dy = Tensor::normal({32, 10}, gen);
  (x + bias).backward(dy);
  check_values(bias.grad(), sum(dy, 0).to_vector(), 1e-5);
}

TEST_CASE("backprop.md: a residual y = f(x) + x") {
  Tensor x = Tensor::from_vector({2}, {1, 1}).requires_grad_();
  Tensor w = Tensor::from_vector({3}, {1, 1}).requires_grad_();
  Tensor z = linear(x, w, Tensor());
  Tensor h = relu(z);
  Tensor y = add(h, x);
  CHECK(z.item() == 6);
  CHECK(h.item() == 6);
  CHECK(y.item() == 8);
  y.backward();
  CHECK(w.grad().item() == 2);
  CHECK(x.grad().item() == 4);  // the path through f (w = 3) plus the skip path (1)
}

TEST_CASE("nchw_index.md: offsets in a row-major tensor") {
  // (1, 2, 3, 4) of a (2, 3, 4, 5) tensor is the last element, 119.
  Tensor t = reshape(arange(2 * 3 * 4 * 5), {2, 3, 4, 5});
  CHECK(select(select(select(select(t, 0, 1), 0, 2), 0, 3), 0, 4).item() == 119);
  // Exercise 1: (2, 1, 0, 5) of a (4, 3, 32, 32) batch is at 7173.
  Tensor b = reshape(arange(4 * 3 * 32 * 32), {4, 3, 32, 32});
  CHECK(select(select(select(select(b, 0, 2), 0, 1), 0, 0), 0, 5).item() == 7173);
}

TEST_CASE("gemm.md: how products are split on a 132-SM GPU at batch 32") {
  struct Row {
    const char* what;
    int m, n, k, batch;
    bool sum_batches;
    int bsplit, ksplit, kchunk, blocks;
  };
  const Row table[] = {
      {"fc1 forward", 32, 2048, 4096, 1, false, 1, 9, 464, 288},
      {"fc2 forward", 32, 256, 2048, 1, false, 1, 32, 64, 128},
      {"fc1 dx", 32, 4096, 2048, 1, false, 1, 5, 416, 320},
      {"block3.conv2 grad weight", 256, 1152, 64, 32, true, 4, 1, 64, 288},
      {"block1.conv1 grad weight", 16, 27, 1024, 32, true, 32, 8, 128, 256},
  };
  for (const Row& r : table) {
    INFO(r.what);
    const GemmSplit s = gemm_split_plan(r.m, r.n, r.k, r.batch, r.sum_batches, 132);
    CHECK(s.split);
    CHECK(s.bsplit == r.bsplit);
    CHECK(s.ksplit == r.ksplit);
    CHECK(s.kchunk == r.kchunk);
    const int tiles = ((r.n + 63) / 64) * ((r.m + 63) / 64);
    CHECK(tiles * s.slices() == r.blocks);
  }
  // Exercise 1: fc2's input gradient (32 x 2048 x 256): k < 512, no split.
  CHECK_FALSE(gemm_split_plan(32, 2048, 256, 1, false, 132).split);
}
