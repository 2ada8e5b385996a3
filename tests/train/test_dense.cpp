// Keras' Dense and Activation layers (layers/dense.hpp) and Sequential's input-size inference
// (Sequential::add, Sequential::build): activations against formulas written out here, Dense
// against linear + activation, Glorot init, gradients against finite differences, and the
// forward and gradients of torch.nn.Linear + activation (tests/golden/dense/dense.safetensors,
// scripts/make_golden_dense.py).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "golden_test_util.hpp"
#include "gradcheck.hpp"
#include "layers/dense.hpp"
#include "layers/layers.hpp"
#include "optim/optimizer.hpp"

using namespace dlcraft;

namespace {

const std::vector<std::string> kNames = {"linear", "relu", "sigmoid", "tanh", "softmax", "gelu", "leaky_relu"};

// The activation of `name` over x (last dimension of size `last`), written out from its formula.
std::vector<float> reference(const std::string& name, const std::vector<float>& x, size_t last) {
  std::vector<float> y(x.size());
  if (name == "softmax") {
    for (size_t r = 0; r < x.size(); r += last) {
      double m = -INFINITY, s = 0;
      for (size_t j = 0; j < last; ++j) m = std::max(m, double(x[r + j]));
      for (size_t j = 0; j < last; ++j) s += std::exp(x[r + j] - m);
      for (size_t j = 0; j < last; ++j) y[r + j] = float(std::exp(x[r + j] - m) / s);
    }
    return y;
  }
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    double out = v;
    if (name == "relu") out = v > 0 ? v : 0;
    if (name == "sigmoid") out = 1 / (1 + std::exp(-v));
    if (name == "tanh") out = std::tanh(v);
    if (name == "gelu") out = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    if (name == "leaky_relu") out = v > 0 ? v : 0.01 * v;
    y[i] = float(out);
  }
  return y;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": " << got[i] << " vs " << want[i]);
    CHECK(std::fabs(got[i] - want[i]) <= tol * std::max(1.0, std::fabs(double(want[i]))));
  }
}

bool same_values(const Tensor& a, const Tensor& b) { return a.shape() == b.shape() && a.to_vector() == b.to_vector(); }

Dense& dense_at(Sequential& s, size_t i) { return dynamic_cast<Dense&>(s[i]); }

}  // namespace

TEST_CASE("activations by name and by enum are their formulas", "[dense]") {
  Generator gen(11);
  const std::vector<Act> acts = {Act::Linear, Act::ReLU, Act::Sigmoid, Act::Tanh, Act::Softmax, Act::GELU, Act::LeakyReLU};
  for (size_t k = 0; k < kNames.size(); ++k) {
    const std::string& name = kNames[k];
    INFO("activation " << name);
    const Shape shape = {int64_t(2 + k % 3), 3, int64_t(5 + k)};  // odd sizes, softmax over the last
    Tensor x = randn(shape, gen) * 3.0f;
    CHECK(activation_from_name(name) == acts[k]);
    CHECK(activation_name(acts[k]) == name);
    const std::vector<float> want = reference(name, x.to_vector(), size_t(shape.back()));
    check_close(apply_activation(x, acts[k]).to_vector(), want, 1e-5);
    check_close(apply_activation(x, activation_from_name(name)).to_vector(), want, 1e-5);
    Activation by_name(name), by_enum(acts[k]);
    CHECK(by_name.act == acts[k]);
    check_close(by_name(x).to_vector(), want, 1e-5);
    check_close(by_enum(x).to_vector(), want, 1e-5);
  }
  CHECK(activation_from_name("") == Act::Linear);  // Keras' activation=None
}

TEST_CASE("an unknown activation name is an ArgumentError that names it and the known ones", "[dense]") {
  CHECK_THROWS_AS(activation_from_name("swish"), ArgumentError);
  CHECK_THROWS_WITH(activation_from_name("swish"), Catch::Contains("'swish'") && Catch::Contains("leaky_relu") &&
                                                      Catch::Contains("sigmoid"));
  CHECK_THROWS_AS(activation_from_name("Sigmoid"), ArgumentError);  // names are Keras' lower case
  CHECK_THROWS_AS(Dense(4, "softplus", 3), ArgumentError);
  CHECK_THROWS_AS(Activation("relu6"), ArgumentError);
}

TEST_CASE("Dense forward is linear(x, weight, bias) then the activation", "[dense]") {
  manual_seed(3);
  Generator gen(21);
  for (const std::string& name : kNames) {
    INFO("activation " << name);
    Dense d(5, name, 7);
    CHECK(d.built());
    CHECK(d.weight.shape() == Shape{5, 7});
    CHECK(d.bias.shape() == Shape{5});
    d.bias.copy_(randn({5}, gen));  // a bias that is not zero, so it shows in the output
    Tensor x = randn({3, 7}, gen);
    Tensor want = apply_activation(linear(x, d.weight, d.bias), activation_from_name(name));
    CHECK(same_values(d(x), want));
    // (N, T, in): every position through the same weights.
    Tensor x3 = randn({2, 3, 7}, gen);
    Tensor y3 = d(x3);
    REQUIRE(y3.shape() == Shape{2, 3, 5});
    Tensor rows = apply_activation(linear(reshape(x3, {6, 7}), d.weight, d.bias), activation_from_name(name));
    check_close(y3.to_vector(), rows.to_vector(), 1e-6);
  }
}

TEST_CASE("Dense: bad sizes are typed errors naming the layer", "[dense]") {
  CHECK_THROWS_AS(Dense(0), ArgumentError);
  CHECK_THROWS_AS(Dense(3, Act::ReLU, -2), ArgumentError);
  Dense d(4, Act::ReLU, 6);
  CHECK_NOTHROW(d.build(6));  // the same size again: nothing to do
  const Tensor w = d.weight;
  CHECK_THROWS_AS(d.build(5), ArgumentError);
  CHECK(d.weight.shape() == Shape{4, 6});
  CHECK(same_values(d.weight, w));
  CHECK_THROWS_AS(d(randn({2, 5})), ShapeError);
  CHECK_THROWS_WITH(d(randn({2, 5})), Catch::Contains("(Dense)") && Catch::Contains("[2,5]") && Catch::Contains("6"));
  CHECK_THROWS_AS(d(randn({6})), ShapeError);  // no batch dimension
  Dense unbuilt(3);
  CHECK_FALSE(unbuilt.built());
  CHECK(unbuilt.parameters().empty());
  CHECK_THROWS_AS(unbuilt.build(0), ArgumentError);
}

TEST_CASE("Dense is initialised as Keras does: Glorot uniform weight, zero bias", "[dense]") {
  manual_seed(1234);
  const int in = 200, units = 300;
  Dense d(units, Act::Linear, in);
  const double a = std::sqrt(6.0 / (in + units));
  const std::vector<float> w = d.weight.to_vector();
  double sum = 0, sq = 0, largest = 0;
  for (float v : w) {
    sum += v;
    sq += double(v) * v;
    largest = std::max(largest, std::fabs(double(v)));
  }
  const double n = double(w.size()), mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  CHECK(largest <= a);
  CHECK(largest > 0.99 * a);  // the whole interval is used, not a narrower one
  CHECK(std::fabs(mean) < 0.01 * a);
  // U(-a, a) has std a / sqrt(3); with 60,000 draws the estimate is within ~0.3%.
  CHECK(sd == Approx(a / std::sqrt(3.0)).epsilon(0.02));
  for (float v : d.bias.to_vector()) CHECK(v == 0.0f);
  // From the global generator, as every layer's init: the same seed, the same weights.
  manual_seed(1234);
  Dense again(units, Act::Linear, in);
  CHECK(same_values(again.weight, d.weight));
  Dense next(units, Act::Linear, in);
  CHECK_FALSE(same_values(next.weight, d.weight));
  // The bound follows the layer's size: a small layer has a larger one.
  Dense small(3, Act::Linear, 2);
  const double a_small = std::sqrt(6.0 / 5);
  for (float v : small.weight.to_vector()) CHECK(std::fabs(v) <= a_small);
}

TEST_CASE("Dense gradients agree with finite differences", "[dense][gradcheck]") {
  manual_seed(7);
  Generator gen(8);
  for (const std::string& name : kNames) {
    Dense d(3, name, 5);
    d.bias.copy_(randn({3}, gen) * 0.5f);
    // The layer's own weight and bias tensors are the checked inputs: the checker perturbs
    // them in place and reads their gradients.
    dlcraft::test::check_gradients("Dense " + name, [&](const std::vector<Tensor>& in) { return d(in[0]); },
                                   {randn({4, 5}, gen), d.weight, d.bias});
    Dense d3(2, name, 3);
    dlcraft::test::check_gradients("Dense " + name + " on (N, T, in)",
                                   [&](const std::vector<Tensor>& in) { return d3(in[0]); },
                                   {randn({2, 3, 3}, gen), d3.weight, d3.bias});
  }
}

TEST_CASE("Dense agrees with torch.nn.Linear + activation, forward and gradients", "[dense][golden]") {
  using namespace dlcraft::test::golden;
  GoldenFile f;
  REQUIRE_NOTHROW(f = load_golden("dense/dense"));
  INFO(f.path << " (made with torch " << f.torch_version << ")");
  REQUIRE(f.cases.size() >= 10);
  std::vector<std::string> seen_acts;
  for (const GoldenCase& c : f.cases) {
    INFO("case " << c.name);
    REQUIRE(c.op == "dense");
    // The same Sequential as torch's: the first Dense told its input size, the others inferred.
    Sequential model;
    bool first = true;
    for (const json& l : c.params.at("layers")) {
      const std::string act = l.at("activation").get<std::string>();
      seen_acts.push_back(act);
      model.add(std::make_shared<Dense>(l.at("units").get<int>(), act, first ? l.at("input_dim").get<int>() : 0));
      CHECK(dense_at(model, model.size() - 1).weight.size(1) == l.at("input_dim").get<int>());
      first = false;
    }
    const std::vector<std::string> names = c.params.at("state").get<std::vector<std::string>>();
    REQUIRE(c.inputs.size() == names.size() + 1);
    std::map<std::string, Tensor> state;
    for (size_t k = 0; k < names.size(); ++k) state[names[k]] = c.inputs[k + 1];
    REQUIRE_NOTHROW(model.load_state_dict(state));  // strict: torch's names and shapes are ours

    Tensor x = c.inputs[0].clone();
    x.requires_grad_(true);
    Tensor y = model(x);
    // Sums of up to 11 products in another order than torch's: 1e-4 (golden_test_util.hpp).
    const double tol = 1e-4;
    CHECK(compare(y, c.outputs[0], tol) == "");
    y.backward(c.w);
    CHECK(compare(x.grad(), c.grad_refs.at(0), tol) == "");
    auto params = model.named_parameters();
    REQUIRE(params.size() == names.size());
    for (size_t k = 0; k < names.size(); ++k) {
      INFO("gradient of " << names[k]);
      CHECK(params[k].first == names[k]);
      CHECK(compare(params[k].second.grad(), c.grad_refs.at(int(k) + 1), tol) == "");
    }
  }
  for (const std::string& name : kNames) CHECK(std::count(seen_acts.begin(), seen_acts.end(), name) > 0);
}

TEST_CASE("Sequential::add gives a Dense the size of the layers before it", "[dense][sequential]") {
  manual_seed(5);
  SECTION("after a Dense") {
    Sequential s{std::make_shared<Dense>(8, "relu", 5), std::make_shared<Dense>(3)};
    CHECK(dense_at(s, 1).weight.shape() == Shape{3, 8});
    CHECK(s(randn({4, 5})).shape() == Shape{4, 3});
  }
  SECTION("over layers that keep the size: Dropout, Activation, BatchNorm1d, ReLU, Identity") {
    Sequential s{std::make_shared<Dense>(6, Act::Tanh, 4), std::make_shared<Dropout>(0.3),
                 std::make_shared<Activation>("sigmoid"), std::make_shared<BatchNorm1d>(6),
                 std::make_shared<ReLU>(), std::make_shared<Identity>(), std::make_shared<Dense>(2)};
    CHECK(dense_at(s, 6).weight.shape() == Shape{2, 6});
    CHECK(s(randn({5, 4})).shape() == Shape{5, 2});
  }
  SECTION("after a Linear, with add()") {
    Sequential s;
    s.add(std::make_shared<Linear>(5, 9)).add(std::make_shared<ReLU>()).add(std::make_shared<Dense>(2, "softmax"));
    CHECK(s.size() == 3);
    CHECK(dense_at(s, 2).weight.shape() == Shape{2, 9});
    CHECK(s(randn({3, 5})).shape() == Shape{3, 2});
  }
  SECTION("after an unbuilt Dense: its units are known") {
    Sequential s{std::make_shared<Dense>(7), std::make_shared<Dense>(3)};
    CHECK_FALSE(dense_at(s, 0).built());
    CHECK(dense_at(s, 1).weight.shape() == Shape{3, 7});
  }
  SECTION("not after Flatten or at the start: left for build()") {
    Sequential s{std::make_shared<Dense>(4)};
    CHECK_FALSE(dense_at(s, 0).built());
    s.add(std::make_shared<Conv2d>(3, 2, 3)).add(std::make_shared<Flatten>()).add(std::make_shared<Dense>(5));
    CHECK_FALSE(dense_at(s, 3).built());
  }
}

TEST_CASE("an unbuilt Dense fails at forward, telling to give input_dim or call build()", "[dense][sequential]") {
  Sequential s{std::make_shared<Flatten>(), std::make_shared<Dense>(3)};
  CHECK_THROWS_AS(s(randn({2, 4, 5})), ShapeError);
  CHECK_THROWS_WITH(s(randn({2, 4, 5})),
                    Catch::Contains("1 (Dense)") && Catch::Contains("input_dim") && Catch::Contains("build()"));
}

TEST_CASE("Sequential::build runs one example through and builds each Dense from what reaches it",
          "[dense][sequential]") {
  manual_seed(9);
  Generator gen(10);
  SECTION("Conv2d -> BatchNorm2d -> ReLU -> Flatten -> Dense") {
    Sequential s{std::make_shared<Conv2d>(3, 4, 3), std::make_shared<BatchNorm2d>(4), std::make_shared<ReLU>(),
                 std::make_shared<Flatten>(), std::make_shared<Dense>(5, "relu"), std::make_shared<Dense>(2)};
    CHECK(dense_at(s, 5).weight.shape() == Shape{2, 5});  // inferred by add already
    s[2].eval();  // a mix of modes, kept by build()
    const Tensor conv_w = dynamic_cast<Conv2d&>(s[0]).weight.clone();
    bool recorded = true;  // whether the pass built a graph (it should not)
    s[0].set_forward_hook([&](Module&, const Tensor& y) { recorded = y.requires_grad(); });
    s.build({3, 8, 9});
    s[0].set_forward_hook(nullptr);
    CHECK_FALSE(recorded);
    CHECK(dense_at(s, 4).weight.shape() == Shape{5, 4 * 6 * 7});
    CHECK(dense_at(s, 4).weight.requires_grad());  // trainable, though built without gradients
    CHECK(s.is_training());
    CHECK(s[1].is_training());
    CHECK_FALSE(s[2].is_training());
    CHECK(s[4].is_training());
    // An inference pass: no graph, no running-statistics update (BatchNorm2d was in training
    // mode), the other weights unchanged.
    CHECK_FALSE(dynamic_cast<Conv2d&>(s[0]).weight.grad().defined());
    CHECK(dynamic_cast<BatchNorm2d&>(s[1]).num_batches_tracked.item<int64_t>() == 0);
    CHECK(same_values(dynamic_cast<Conv2d&>(s[0]).weight, conv_w));
    CHECK(s.named_parameters().back().first == "5.bias");
    CHECK(s(randn({2, 3, 8, 9}, gen)).shape() == Shape{2, 2});
    // Built: a second build() of the same shape changes nothing; another shape no longer fits.
    const Tensor w = dense_at(s, 4).weight.clone();
    s.build({3, 8, 9});
    CHECK(same_values(dense_at(s, 4).weight, w));
    CHECK_THROWS_AS(s.build({3, 10, 9}), ShapeError);
  }
  SECTION("the first layer, and inside a nested Sequential") {
    auto inner = std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
        std::make_shared<Dense>(6, "tanh"), std::make_shared<Dense>(4)});
    Sequential s{std::make_shared<Dense>(5), inner, std::make_shared<Flatten>(), std::make_shared<Dense>(3)};
    s.build({7});
    CHECK(dense_at(s, 0).weight.shape() == Shape{5, 7});
    CHECK(dense_at(*inner, 0).weight.shape() == Shape{6, 5});
    CHECK(dense_at(s, 3).weight.shape() == Shape{3, 4});
    CHECK(s(randn({2, 7}, gen)).shape() == Shape{2, 3});
  }
  SECTION("bad input shapes") {
    Sequential s{std::make_shared<Dense>(2)};
    CHECK_THROWS_AS(s.build({0}), ArgumentError);
    CHECK_THROWS_WITH(s.build({4, -1}), Catch::Contains("[4,-1]"));
    CHECK_FALSE(dense_at(s, 0).built());
    Sequential fixed{std::make_shared<Dense>(2, "relu", 3)};
    CHECK_THROWS_AS(fixed.build({4}), ShapeError);
    CHECK(fixed.is_training());  // restored after the error too
  }
}

TEST_CASE("a Dense given a wrong input_dim after a Dense fails at forward with a ShapeError", "[dense][sequential]") {
  Sequential s;
  s.add(std::make_shared<Dense>(4, "relu", 3)).add(std::make_shared<Dense>(2, "linear", 5));  // 5: the user's
  CHECK(dense_at(s, 1).weight.shape() == Shape{2, 5});
  CHECK_THROWS_AS(s(randn({2, 3})), ShapeError);
  CHECK_THROWS_WITH(s(randn({2, 3})), Catch::Contains("1 (Dense)") && Catch::Contains("[2,4]"));
}

TEST_CASE("the notes' XOR model: names, counts, and it learns XOR", "[dense][sequential]") {
  manual_seed(42);
  Sequential model{std::make_shared<Dense>(10, "sigmoid", 2), std::make_shared<Dense>(1, "sigmoid")};
  std::vector<std::string> names;
  std::vector<Shape> shapes;
  for (auto& [name, t] : model.named_parameters()) {
    names.push_back(name);
    shapes.push_back(t.shape());
  }
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"});
  CHECK(shapes == std::vector<Shape>{{10, 2}, {10}, {1, 10}, {1}});
  // Keras' summary of this model: 30 and 11, total 41 (torch's nn.Linear(2, 10), nn.Linear(10, 1) too).
  CHECK(model[0].parameter_count() == 30);
  CHECK(model[1].parameter_count() == 11);
  CHECK(model.parameter_count() == 41);

  Tensor x = Tensor::from_vector({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  Tensor t = Tensor::from_vector({0, 1, 1, 0}, {4, 1});
  Adam opt(model.trainable_parameters(), AdamOptions{0.05f});
  float first = 0, last = 0;
  for (int step = 0; step < 400; ++step) {
    opt.zero_grad();
    Tensor loss = binary_cross_entropy(model(x), t);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item();
  }
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.1f * first);
  const std::vector<float> p = model(x).to_vector();
  CHECK(p[0] < 0.5f);
  CHECK(p[1] > 0.5f);
  CHECK(p[2] > 0.5f);
  CHECK(p[3] < 0.5f);
}
