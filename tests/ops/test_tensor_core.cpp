// The tensor core of the general library: dtypes, creation, printing, autograd safety
// (freed graphs, the version counter), broadcasting helpers, expand / sum / sum_to.
#include <catch2/catch.hpp>

#include <functional>
#include <sstream>
#include <utility>

#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "gradcheck.hpp"
#include "optim/optimizer.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

TEST_CASE("int64 and bool tensors hold their values and refuse float-only use", "[dtype]") {
  Tensor labels = Tensor::from_vector(std::vector<int64_t>{3, -1, 9000000000LL}, {3});
  CHECK(labels.dtype() == DType::Int64);
  CHECK(labels.values_as<int64_t>() == std::vector<int64_t>{3, -1, 9000000000LL});
  CHECK(labels.clone().values_as<int64_t>() == labels.values_as<int64_t>());
  CHECK(reshape(labels, {3, 1}).dtype() == DType::Int64);
  CHECK(labels.str() == "Tensor[3] int64 cpu");
  CHECK_THROWS_AS(labels.data(), DTypeError);
  CHECK_THROWS_AS(labels.requires_grad_(true), DTypeError);
  CHECK_THROWS_AS(sum(labels), DTypeError);
  CHECK_THROWS_AS(labels.item(), ShapeError);
  CHECK(reshape(labels, {3}).values_as<float>()[1] == -1.0f);
  Tensor f = zeros({3});
  CHECK_THROWS_AS(f.copy_(labels), DTypeError);
  CHECK(Tensor::from_vector(std::vector<int64_t>{42}, {1}).item<int64_t>() == 42);
  Tensor mask = full({2, 2}, 1, DType::Bool);
  CHECK(mask.dtype() == DType::Bool);
  CHECK(mask.values_as<int64_t>() == std::vector<int64_t>{1, 1, 1, 1});
  CHECK(full({2}, -7, DType::Int64).values_as<int64_t>() == std::vector<int64_t>{-7, -7});
}

TEST_CASE("creation functions match torch's", "[creation]") {
  CHECK(arange(5, DType::Int64).values_as<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(arange(1, 2, 0.25).to_vector() == std::vector<float>{1, 1.25f, 1.5f, 1.75f});
  CHECK(arange(3, 0, -1).to_vector() == std::vector<float>{3, 2, 1});
  CHECK_THROWS_AS(arange(0, 1, 0), ArgumentError);
  CHECK_THROWS_AS(arange(0, 1, -1), ArgumentError);
  // torch.linspace(-1, 1, 5) and (0, 1, 4): both ends exact.
  CHECK(linspace(-1, 1, 5).to_vector() == std::vector<float>{-1, -0.5f, 0, 0.5f, 1});
  std::vector<float> l = linspace(0, 1, 4).to_vector();
  CHECK(l.front() == 0.0f);
  CHECK(l.back() == 1.0f);
  CHECK(l[1] == Approx(1.0 / 3));
  CHECK(ones({2, 3}).to_vector() == std::vector<float>(6, 1.0f));
  CHECK(zeros_like(ones({4})).to_vector() == std::vector<float>(4, 0.0f));
  Tensor w = zeros({2}, TensorOptions().with_requires_grad());
  CHECK(w.requires_grad());

  Generator g1(5), g2(5);
  std::vector<float> a = rand({1000}, g1).to_vector(), b = rand({1000}, g2).to_vector();
  CHECK(a == b);  // same seed, same values
  double mean = 0;
  for (float x : a) {
    CHECK(x >= 0.0f);
    CHECK(x < 1.0f);
    mean += x / 1000;
  }
  CHECK(mean == Approx(0.5).margin(0.05));
  std::vector<float> n = randn({4000}, g1).to_vector();
  double m = 0, v = 0;
  for (float x : n) m += x / 4000;
  for (float x : n) v += (x - m) * (x - m) / 4000;
  CHECK(m == Approx(0).margin(0.06));
  CHECK(v == Approx(1).margin(0.1));
  std::vector<int64_t> r = randint(-3, 4, {500}, g1).values_as<int64_t>();
  CHECK(*std::min_element(r.begin(), r.end()) == -3);
  CHECK(*std::max_element(r.begin(), r.end()) == 3);
}

TEST_CASE("tensors print like PyTorch, with shape, dtype and device", "[print]") {
  auto print = [](const Tensor& t) {
    std::ostringstream s;
    s << t;
    return s.str();
  };
  CHECK(print(Tensor::from_vector({0.1f, -2, 3.5f, 4}, {2, 2})) ==
        "tensor([[ 0.1000, -2.0000],\n"
        "        [ 3.5000,  4.0000]], shape=[2,2], dtype=float32, device=cpu)");
  CHECK(print(Tensor::from_vector({1, 2, 3}, {3})) ==
        "tensor([1., 2., 3.], shape=[3], dtype=float32, device=cpu)");
  CHECK(print(arange(3, DType::Int64)) == "tensor([0, 1, 2], shape=[3], dtype=int64, device=cpu)");
  CHECK(print(Tensor::from_vector(std::vector<int64_t>{9007199254740993LL, -1}, {2})) ==
        "tensor([9007199254740993, " + std::string(14, ' ') + "-1], shape=[2], dtype=int64, device=cpu)");
  CHECK(print(full({2}, 1, DType::Bool)) == "tensor([True, True], shape=[2], dtype=bool, device=cpu)");
  CHECK(print(Tensor::from_vector({1e-5f, 1000}, {2})) ==
        "tensor([1.0000e-05, 1.0000e+03], shape=[2], dtype=float32, device=cpu)");
  CHECK(print(reshape(Tensor::from_vector({2.5f}, {1}), {})) ==
        "tensor(2.5000, shape=[], dtype=float32, device=cpu)");
  // Large tensors are summarised: 3 at each end of each dimension.
  std::string big = print(reshape(arange(2000), {40, 50}));
  CHECK(big.find("[   0.,    1.,    2.,  ...,   47.,   48.,   49.]") != std::string::npos);
  CHECK(big.find("        ...,\n") != std::string::npos);
  CHECK(big.find("1999.]]") != std::string::npos);
  CHECK(big.find("1000.") == std::string::npos);
  Tensor x = ones({2}, TensorOptions().with_requires_grad());
  CHECK(print(x).find("requires_grad=True") != std::string::npos);
  CHECK(print(sum(x)).find("grad_fn=<sum>") != std::string::npos);
}

TEST_CASE("a second backward through a freed graph raises; retain_graph allows it", "[autograd]") {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3}).requires_grad_();
  Tensor y = sum(expand(reshape(x, {1, 3}), {2, 3}));
  y.backward();
  CHECK(x.grad().to_vector() == std::vector<float>{2, 2, 2});
  CHECK_THROWS_AS(y.backward(), AutogradError);
  x.zero_grad();
  Tensor z = sum(expand(reshape(x, {1, 3}), {2, 3}));
  z.backward(ones({}), /*retain_graph=*/true);
  z.backward();
  CHECK(x.grad().to_vector() == std::vector<float>{4, 4, 4});
}

TEST_CASE("a saved tensor changed in place makes backward raise (version counter)", "[autograd]") {
  Tensor x = Tensor::from_vector({1, 2}, {2}).requires_grad_();
  SavedTensor saved(x);
  CHECK_NOTHROW(saved.get("test"));
  const uint64_t v0 = x.version();
  x.detach().fill_(5);  // a view of the same memory: the same counter
  CHECK(x.version() == v0 + 1);
  CHECK_THROWS_AS(saved.get("test"), AutogradError);
  try {
    saved.get("mul");
  } catch (const AutogradError& e) {
    CHECK(std::string(e.what()).find("mul") != std::string::npos);
    CHECK(std::string(e.what()).find("in-place") != std::string::npos);
  }
}

TEST_CASE("broadcast shapes follow NumPy's rule", "[broadcast]") {
  CHECK(broadcast_shapes({{8, 1, 6}, {7, 1}}, "t") == Shape{8, 7, 6});
  CHECK(broadcast_shapes({{3}, {}}, "t") == Shape{3});
  CHECK(broadcast_shapes({{5, 4}, {1}}, "t") == Shape{5, 4});
  CHECK(broadcast_shapes({{0, 4}, {1, 4}}, "t") == Shape{0, 4});
  try {
    broadcast_shapes({{2, 3}, {4}}, "add");
    FAIL("no error");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()).find("add: shapes [2,3] and [4]") != std::string::npos);
  }
  StridedIndex ix = broadcast_index({3, 1}, {2, 3, 4});
  CHECK(ix.count() == 24);
  CHECK(ix.offset(0) == 0);
  CHECK(ix.offset(5) == 1);   // (0,1,1) -> row 1
  CHECK(ix.offset(13) == 0);  // (1,0,1) -> row 0
}

TEST_CASE("sum over any dims, expand and sum_to: values and gradients", "[reduce]") {
  Generator gen(3);
  Tensor x = uniform_tensor({2, 3, 5}, gen);
  std::vector<float> v = x.to_vector();
  // sum over dim 1 by hand
  Tensor s1 = sum(x, 1);
  REQUIRE(s1.shape() == Shape{2, 5});
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 5; ++k) {
      double ref = 0;
      for (int j = 0; j < 3; ++j) ref += v[i * 15 + j * 5 + k];
      CHECK(s1.to_vector()[i * 5 + k] == Approx(ref).epsilon(1e-6));
    }
  CHECK(sum(x, {0, 2}, true).shape() == Shape{1, 3, 1});
  CHECK(sum(x, {-1}).shape() == Shape{2, 3});
  CHECK(sum(x).shape() == Shape{});
  CHECK_THROWS_AS(sum(x, 3), ShapeError);
  CHECK_THROWS_AS(sum(x, {1, -2}), ShapeError);
  CHECK(sum(zeros({0, 3}), 0).to_vector() == std::vector<float>{0, 0, 0});

  for (std::vector<int64_t> dims : {std::vector<int64_t>{}, {0}, {1}, {2}, {0, 2}, {1, 2}}) {
    for (bool keep : {false, true})
      check_gradients("sum", [&](const std::vector<Tensor>& in) { return sum(in[0], dims, keep); },
                      {uniform_tensor({3, 4, 5}, gen)});
  }
  check_gradients("expand", [](const std::vector<Tensor>& in) { return expand(in[0], {2, 3, 4}); },
                  {uniform_tensor({3, 1}, gen)});
  check_gradients("expand -1", [](const std::vector<Tensor>& in) { return expand(in[0], {5, -1, 3}); },
                  {uniform_tensor({1, 7, 1}, gen)});
  check_gradients("sum_to", [](const std::vector<Tensor>& in) { return sum_to(in[0], {3, 1}); },
                  {uniform_tensor({2, 3, 4}, gen)});
  CHECK_THROWS_AS(expand(x, {2, 4, 5}), ShapeError);
  CHECK_THROWS_AS(sum_to(x, {4, 5}), ShapeError);
}

TEST_CASE("the CNN's ops refuse a backward after their saved input was changed in place", "[autograd]") {
  Generator gen(8);
  Tensor x = uniform_tensor({2, 3}, gen).requires_grad_();
  Tensor y = relu(x);
  x.detach().fill_(1);
  CHECK_THROWS_AS(sum(y).backward(), AutogradError);

  // An optimizer step between forward and backward changes the weight the backward reads.
  Tensor w = uniform_tensor({4, 3}, gen).requires_grad_();
  Tensor b = uniform_tensor({4}, gen).requires_grad_();
  Tensor out = linear(uniform_tensor({2, 3}, gen), w, b, "fc1 (Linear)");
  w.set_grad(zeros({4, 3}));
  SGD sgd({{"w", w}}, {0.1f});
  sgd.step();
  try {
    sum(out).backward();
    FAIL("no error");
  } catch (const AutogradError& e) {
    CHECK(std::string(e.what()).find("fc1 (Linear)") != std::string::npos);
  }

  Tensor img = uniform_tensor({1, 2, 5, 5}, gen).requires_grad_();
  Tensor k = uniform_tensor({3, 2, 3, 3}, gen).requires_grad_();
  Tensor c = conv2d(img, k, Tensor(), 1, 1);
  img.detach().fill_(0);
  CHECK_THROWS_AS(sum(c).backward(), AutogradError);
}

TEST_CASE("requires_grad and NoGradGuard propagate through every op family", "[autograd]") {
  Generator gen(21);
  Tensor a = uniform_tensor({3, 4}, gen, 0.5f, 2.0f).requires_grad_();
  Tensor b = uniform_tensor({4}, gen, 0.5f, 2.0f);  // a constant
  Tensor idx = Tensor::from_vector(std::vector<int64_t>{2, 0}, {2});
  Tensor labels = Tensor::from_vector(std::vector<int64_t>{1, 3, 0}, {3});
  const std::vector<std::pair<const char*, std::function<Tensor()>>> ops = {
      {"add", [&] { return a + b; }}, {"mul", [&] { return a * b; }}, {"div", [&] { return b / a; }},
      {"pow", [&] { return pow(a, 2.0); }}, {"where", [&] { return where(gt(a, 1.0), a, b); }},
      {"exp", [&] { return exp(a); }}, {"log", [&] { return log(a); }}, {"gelu", [&] { return gelu(a); }},
      {"clamp", [&] { return clamp(a, 0.7, 1.5); }}, {"sum", [&] { return sum(a, 1); }},
      {"mean", [&] { return mean(a); }}, {"max", [&] { return max(a, 0).values; }},
      {"var", [&] { return var(a, {1}); }}, {"softmax", [&] { return softmax(a, 1); }},
      {"log_softmax", [&] { return log_softmax(a, 0); }}, {"mse_loss", [&] { return mse_loss(a, ones({3, 4})); }},
      {"cross_entropy", [&] { return cross_entropy(a, labels); }},
      {"matmul", [&] { return matmul(a, transpose(a, 0, 1)); }}, {"permute", [&] { return permute(a, {1, 0}); }},
      {"cat", [&] { return cat({a, a}, 1); }}, {"stack", [&] { return stack({a, a}); }},
      {"slice", [&] { return slice(a, 1, 1, 4, 2); }}, {"select", [&] { return select(a, 0, 1); }},
      {"index_select", [&] { return index_select(a, 0, idx); }}, {"unsqueeze", [&] { return unsqueeze(a, 0); }},
      {"expand", [&] { return expand(unsqueeze(a, 0), {2, 3, 4}); }},
  };
  for (const auto& [name, op] : ops) {
    INFO(name);
    Tensor y = op();
    CHECK(y.requires_grad());
    CHECK(y.grad_fn());
    {
      NoGradGuard no_grad;
      Tensor z = op();
      CHECK_FALSE(z.requires_grad());
      CHECK_FALSE(z.grad_fn());
    }
    a.zero_grad();
    sum(y).backward();
    CHECK(a.grad().defined());
  }
  // Only constants in: no graph at all.
  CHECK_FALSE((b * b).requires_grad());
  CHECK_FALSE(gt(a, 1.0).requires_grad());  // comparisons are not differentiable
  CHECK_FALSE(argmax(a, 1).requires_grad());
}
