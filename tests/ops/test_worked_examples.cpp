// The worked examples of the course pages, computed with dlcraft's ops: if a page's numbers
// and the code ever disagree, this fails. Each test names its page.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/ops.hpp"
#include "datasets/dataloader.hpp"
#include "datasets/dataset.hpp"
#include "datasets/transforms.hpp"
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
