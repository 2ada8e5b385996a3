// The fused epilogues (docs/fused_epilogues.md): relu_max_pool2d, conv2d_relu and linear_relu
// against the unfused compositions max_pool2d(relu(x)), relu(conv2d(...)), relu(linear(...)).
// All three compute the same float operations in the same order as the compositions, so the
// values AND the gradients must be bitwise equal (compared as bits: -0 is not +0 here), on
// random shapes with odd sizes, negative and positive values, pooling ties (values drawn from
// a few levels, zeros of both signs included), with each CPU conv algorithm and the
// reference loops. Then finite differences (tests/gradcheck.hpp), the saved output's in-place
// check, no graph under NoGradGuard, the errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "layers/cnn.hpp"
#include "gradcheck.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

std::vector<uint32_t> bits(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  std::vector<uint32_t> b(v.size());
  if (!v.empty()) std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
  return b;
}

// Values from a few levels (ties in every other window), zeros of both signs, negatives.
Tensor tie_tensor(const Shape& shape, Generator& gen) {
  static const float levels[] = {-1.5f, -0.5f, -0.0f, 0.0f, 0.25f, 0.25f, 1.0f, 2.0f};
  std::vector<float> v(size_t(numel(shape)));
  for (float& x : v) x = levels[gen.below(8)];
  return Tensor::from_vector(v, shape);
}

// y and the gradients of f's inputs after backward(dy), as bits.
std::vector<std::vector<uint32_t>> run(const OpFn& f, const std::vector<Tensor>& inputs, Tensor* dy,
                                       Generator& gen) {
  std::vector<Tensor> in;
  for (const Tensor& t : inputs) in.push_back(t.defined() ? t.clone().requires_grad_(true) : Tensor());
  Tensor y = f(in);
  if (!dy->defined()) *dy = uniform_tensor(y.shape(), gen);
  y.backward(*dy);
  std::vector<std::vector<uint32_t>> out{bits(y)};
  for (const Tensor& t : in)
    if (t.defined()) out.push_back(bits(t.grad()));
  return out;
}

void check_same_bits(const std::string& what, const OpFn& fused, const OpFn& unfused,
                     const std::vector<Tensor>& inputs, Generator& gen) {
  INFO(what);
  Tensor dy;
  const auto want = run(unfused, inputs, &dy, gen);
  const auto got = run(fused, inputs, &dy, gen);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO((i == 0 ? std::string("y") : "gradient of input " + std::to_string(i - 1)));
    CHECK(got[i] == want[i]);
  }
}

std::string size2_str(Size2 v) { return "(" + std::to_string(v.h) + ", " + std::to_string(v.w) + ")"; }

const char* algorithm_name(ConvAlgorithm a) {
  return a == ConvAlgorithm::Im2col ? "im2col" : a == ConvAlgorithm::Winograd2 ? "winograd2" : "winograd4";
}

}  // namespace

TEST_CASE("relu_max_pool2d equals max_pool2d(relu(x)) bitwise, ties and zeros included", "[fused]") {
  Generator gen(1401);
  for (int trial = 0; trial < 40; ++trial) {
    const int kh = 1 + int(gen.below(3)), kw = 1 + int(gen.below(3));
    const Size2 kernel{kh, kw};
    const Size2 stride{int(gen.below(3)), int(gen.below(3))};  // 0: stride = kernel
    const Size2 padding{int(gen.below(kh / 2 + 1)), int(gen.below(kw / 2 + 1))};
    const Shape xs{1 + int64_t(gen.below(3)), 1 + int64_t(gen.below(4)), kh + int64_t(gen.below(8)),
                   kw + int64_t(gen.below(8))};
    // Every other trial: continuous values (one winner per window), else a few levels (ties).
    const Tensor x = trial % 2 ? uniform_tensor(xs, gen) : tie_tensor(xs, gen);
    check_same_bits("x " + to_string(xs) + " kernel " + size2_str(kernel) + " stride " + size2_str(stride) +
                        " padding " + size2_str(padding) + (trial % 2 ? "" : " (ties)"),
                    [&](const std::vector<Tensor>& in) { return relu_max_pool2d(in[0], kernel, stride, padding); },
                    [&](const std::vector<Tensor>& in) { return max_pool2d(relu(in[0]), kernel, stride, padding); },
                    {x}, gen);
  }
}

TEST_CASE("relu_max_pool2d: windows of negatives and -0 give max_pool2d(relu(x))'s zero", "[fused]") {
  // Window 1: -1 then -0: relu makes (+0, -0), the first of equal values wins: +0 (pooling
  // first would give relu(-0) = -0). Window 2: -0 first: -0. Window 3: a NaN wins and is kept.
  // Window 4: a positive maximum after a tie: the first 3 wins, its gradient goes there.
  const Tensor x = Tensor::from_vector({-1.0f, -0.0f, -0.0f, -2.0f, -3.0f, NAN, 3.0f, 3.0f}, {1, 1, 1, 8});
  Generator gen(1402);
  const std::vector<uint32_t> y = bits(relu_max_pool2d(x, {1, 2}));
  CHECK(y == bits(max_pool2d(relu(x), {1, 2})));
  CHECK(y[0] == 0x00000000u);
  CHECK(y[1] == 0x80000000u);
  CHECK(std::isnan(relu_max_pool2d(x, {1, 2}).to_vector()[2]));
  check_same_bits("negatives, -0, NaN", [](const std::vector<Tensor>& in) { return relu_max_pool2d(in[0], {1, 2}); },
                  [](const std::vector<Tensor>& in) { return max_pool2d(relu(in[0]), {1, 2}); }, {x}, gen);
  Tensor xg = x.clone().requires_grad_(true);
  relu_max_pool2d(xg, {1, 2}).backward(Tensor::from_vector({1.0f, 2.0f, 3.0f, 4.0f}, {1, 1, 1, 4}));
  CHECK(xg.grad().to_vector()[6] == 4.0f);
  CHECK(xg.grad().to_vector()[7] == 0.0f);
  CHECK(xg.grad().to_vector()[5] == 3.0f);  // the NaN lets dy through, as relu does
}

TEST_CASE("relu_max_pool2d gradients match finite differences", "[fused]") {
  // Distinct values 0.05 apart, none within 0.025 of 0: a step of eps = 0.01 changes no
  // window's winner and no ReLU's side (those are kinks, where differences mean nothing).
  auto spaced = [](const Shape& shape, Generator& gen) {
    std::vector<float> v(size_t(numel(shape)));
    for (size_t i = 0; i < v.size(); ++i) v[i] = (float(i) - float(v.size()) / 2 + 0.5f) * 0.05f;
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen.below(i)]);  // shuffled
    return Tensor::from_vector(v, shape);
  };
  Generator gen(1403);
  check_gradients("relu_max_pool2d 2x2 on 2x3x5x7",
                  [](const std::vector<Tensor>& in) { return relu_max_pool2d(in[0], 2, 2); },
                  {spaced({2, 3, 5, 7}, gen)});
  check_gradients("relu_max_pool2d 3x3 stride 2 padding 1 (overlapping windows)",
                  [](const std::vector<Tensor>& in) { return relu_max_pool2d(in[0], 3, 2, 1); },
                  {spaced({1, 2, 7, 6}, gen)});
}

TEST_CASE("conv2d_relu equals relu(conv2d) bitwise with every CPU conv algorithm", "[fused]") {
  Generator gen(1404);
  for (CpuKernels kernels : {CpuKernels::Fast, CpuKernels::Reference})
    for (ConvAlgorithm a : {ConvAlgorithm::Im2col, ConvAlgorithm::Winograd2, ConvAlgorithm::Winograd4})
      for (int trial = 0; trial < 6; ++trial) {
        set_cpu_kernels(kernels);
        set_conv_algorithm(a);
        // 3x3 stride 1 runs Winograd; every third trial another kernel or stride (im2col).
        const bool three = trial % 3 != 2;
        const int r = three ? 3 : 1 + int(gen.below(4)), sk = three ? 3 : 1 + int(gen.below(4));
        const Size2 stride = three ? Size2(1) : Size2{1 + int(gen.below(2)), 1 + int(gen.below(2))};
        const Size2 padding{int(gen.below(3)), int(gen.below(3))};
        // batch 1 and batch > threads: both of im2col's loops.
        const Shape xs{trial == 0 ? 1 : 1 + int64_t(gen.below(5)), 1 + int64_t(gen.below(5)),
                       r + int64_t(gen.below(9)), sk + int64_t(gen.below(9))};
        const Shape ws{1 + int64_t(gen.below(6)), xs[1], r, sk};
        const bool with_bias = trial % 2 == 0;
        const Tensor x = uniform_tensor(xs, gen), w = uniform_tensor(ws, gen);
        const Tensor b = with_bias ? uniform_tensor({ws[0]}, gen) : Tensor();
        check_same_bits(std::string(kernels == CpuKernels::Fast ? algorithm_name(a) : "reference loops") + " x " +
                            to_string(xs) + " w " + to_string(ws) + " stride " + size2_str(stride) + " padding " +
                            size2_str(padding) + (with_bias ? " bias" : ""),
                        [&](const std::vector<Tensor>& in) { return conv2d_relu(in[0], in[1], in[2], stride, padding); },
                        [&](const std::vector<Tensor>& in) { return relu(conv2d(in[0], in[1], in[2], stride, padding)); },
                        {x, w, b}, gen);
      }
  set_cpu_kernels(CpuKernels::Fast);
  set_conv_algorithm(ConvAlgorithm::Auto);
}

TEST_CASE("conv2d_relu gradients match finite differences with every CPU conv algorithm", "[fused]") {
  // Finite differences are meaningless where a step of eps moves an output across 0 (ReLU's
  // kink), and one weight touches every output of its channel. So the sums stay small (x, w
  // in [-0.5, 0.5): outputs within about +-0.35 of the bias) and the biases are +-1.5: the
  // channels with b > 0 pass dy, those with b < 0 block it, and no output sits near 0. The
  // bitwise tests above cover masks that vary within a channel.
  Generator gen(1405);
  const Tensor b = Tensor::from_vector({1.5f, -1.5f, 1.5f}, {3});
  for (ConvAlgorithm a : {ConvAlgorithm::Im2col, ConvAlgorithm::Winograd2, ConvAlgorithm::Winograd4}) {
    set_conv_algorithm(a);
    check_gradients(std::string(algorithm_name(a)) + " conv2d_relu 3x3 padding 1, bias",
                    [](const std::vector<Tensor>& in) { return conv2d_relu(in[0], in[1], in[2], 1, 1); },
                    {uniform_tensor({2, 2, 5, 7}, gen, -0.5f, 0.5f), uniform_tensor({3, 2, 3, 3}, gen, -0.5f, 0.5f),
                     b.clone()});
  }
  set_conv_algorithm(ConvAlgorithm::Auto);
  // No bias: the signs come from the data; 2 outputs per channel position, few near 0.
  check_gradients("conv2d_relu 2x3 stride 2, no bias",
                  [](const std::vector<Tensor>& in) { return conv2d_relu(in[0], in[1], Tensor(), 2, 0); },
                  {uniform_tensor({1, 3, 7, 6}, gen), uniform_tensor({2, 3, 2, 3}, gen)});
}

TEST_CASE("linear_relu equals relu(linear) bitwise and matches finite differences", "[fused]") {
  Generator gen(1406);
  for (CpuKernels kernels : {CpuKernels::Fast, CpuKernels::Reference})
    for (int trial = 0; trial < 6; ++trial) {
      set_cpu_kernels(kernels);
      const int64_t n = 1 + int64_t(gen.below(9)), in = 1 + int64_t(gen.below(40)), out = 1 + int64_t(gen.below(40));
      const bool with_bias = trial % 2 == 0;
      const Tensor x = uniform_tensor({n, in}, gen), w = uniform_tensor({out, in}, gen);
      const Tensor b = with_bias ? uniform_tensor({out}, gen) : Tensor();
      check_same_bits(std::string(kernels == CpuKernels::Fast ? "fast" : "reference") + " x (" + std::to_string(n) +
                          ", " + std::to_string(in) + ") out " + std::to_string(out) + (with_bias ? " bias" : ""),
                      [](const std::vector<Tensor>& t) { return linear_relu(t[0], t[1], t[2]); },
                      [](const std::vector<Tensor>& t) { return relu(linear(t[0], t[1], t[2])); }, {x, w, b}, gen);
    }
  set_cpu_kernels(CpuKernels::Fast);
  check_gradients("linear_relu (3, 5) -> 4",
                  [](const std::vector<Tensor>& t) { return linear_relu(t[0], t[1], t[2]); },
                  {uniform_tensor({3, 5}, gen), uniform_tensor({4, 5}, gen), uniform_tensor({4}, gen)});
}

TEST_CASE("fused ops keep their output for backward: changing it in place raises", "[fused]") {
  Generator gen(1407);
  Tensor x = uniform_tensor({2, 3, 6, 6}, gen).requires_grad_(true);
  Tensor w = uniform_tensor({4, 3, 3, 3}, gen).requires_grad_(true);
  Tensor lw = uniform_tensor({5, 7}, gen).requires_grad_(true);
  Tensor lx = uniform_tensor({2, 7}, gen).requires_grad_(true);
  Tensor y1 = conv2d_relu(x, w, Tensor(), 1, 1);
  Tensor y2 = relu_max_pool2d(x, 2);
  Tensor y3 = linear_relu(lx, lw, Tensor());
  for (Tensor* y : {&y1, &y2, &y3}) {
    {
      NoGradGuard no_grad;  // in-place ops on tensors in the graph are refused in grad mode
      y->mul_(2.0);
    }
    CHECK_THROWS_AS(y->backward(ones(y->shape())), AutogradError);
  }
}

TEST_CASE("fused ops under NoGradGuard: same values, no graph", "[fused]") {
  Generator gen(1408);
  Tensor x = uniform_tensor({2, 3, 6, 5}, gen).requires_grad_(true);
  Tensor w = uniform_tensor({4, 3, 3, 3}, gen).requires_grad_(true);
  const std::vector<uint32_t> want = bits(conv2d_relu(x, w, Tensor(), 1, 1));
  NoGradGuard no_grad;
  Tensor y = conv2d_relu(x, w, Tensor(), 1, 1);
  CHECK(bits(y) == want);
  CHECK_FALSE(y.requires_grad());
  CHECK_FALSE(relu_max_pool2d(x, 2).requires_grad());
}

TEST_CASE("fused ops reject bad input with the composition's errors", "[fused]") {
  Generator gen(1409);
  const Tensor x = uniform_tensor({1, 2, 5, 5}, gen);
  CHECK_THROWS_AS(relu_max_pool2d(uniform_tensor({2, 5, 5}, gen), 2), ShapeError);
  CHECK_THROWS_AS(relu_max_pool2d(x, 0), ArgumentError);
  CHECK_THROWS_AS(relu_max_pool2d(x, 2, 2, 2), ArgumentError);  // padding over half the kernel
  CHECK_THROWS_AS(relu_max_pool2d(x, 7), ShapeError);
  CHECK_THROWS_WITH(conv2d_relu(x, uniform_tensor({3, 4, 3, 3}, gen), Tensor()),
                    Catch::Contains("conv2d_relu") && Catch::Contains("channels"));
  CHECK_THROWS_AS(conv2d_relu(x, uniform_tensor({3, 2, 3, 3}, gen), uniform_tensor({2}, gen)), ShapeError);
  CHECK_THROWS_WITH(linear_relu(uniform_tensor({2, 3}, gen), uniform_tensor({4, 5}, gen), Tensor()),
                    Catch::Contains("linear_relu"));
}

TEST_CASE("the CNN's fused forward equals the notes' unfused formula: output and every gradient", "[fused]") {
  CNN model;
  Generator gen(1410);
  const Tensor x = uniform_tensor({2, 3, 32, 32}, gen);
  // The notes' formula, op by op (what layers/cnn.cpp ran before the fused ops).
  auto unfused = [&model](const Tensor& in) {
    auto block = [](BasicBlock& b, const Tensor& h) {
      const Tensor a = relu(conv2d(h, b.conv1->weight, b.conv1->bias, 1, 1));
      return max_pool2d(relu(conv2d(a, b.conv2->weight, b.conv2->bias, 1, 1)), 2, 2);
    };
    Tensor h = flatten(block(*model.block3, block(*model.block2, block(*model.block1, in))), 1);
    h = relu(linear(h, model.fc1->weight, model.fc1->bias));
    h = relu(linear(h, model.fc2->weight, model.fc2->bias));
    return linear(h, model.fc3->weight, model.fc3->bias);
  };
  const Tensor dy = uniform_tensor({2, 10}, gen);
  auto step = [&](const std::function<Tensor(const Tensor&)>& f) {
    for (auto& [name, p] : model.named_parameters()) p.zero_grad();
    Tensor y = f(x);
    y.backward(dy);
    std::vector<std::vector<uint32_t>> out{bits(y)};
    for (auto& [name, p] : model.named_parameters()) out.push_back(bits(p.grad()));
    return out;
  };
  const auto want = step(unfused);
  const auto got = step([&model](const Tensor& in) { return model(in); });
  REQUIRE(got.size() == want.size());
  const auto names = model.named_parameters();
  for (size_t i = 0; i < want.size(); ++i) {
    INFO((i == 0 ? std::string("output") : "gradient of " + names[i - 1].first));
    CHECK(got[i] == want[i]);
  }
  // A hook on a sub-module gets that module's own output (the unfused path), same result.
  Shape seen;
  model.block2->conv1->set_forward_hook([&seen](Module&, const Tensor& y) { seen = y.shape(); });
  NoGradGuard no_grad;
  CHECK(bits(model(x)) == want[0]);
  CHECK(seen == Shape{2, 64, 16, 16});
}
