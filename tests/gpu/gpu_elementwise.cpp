// The element-wise math on the GPU against the CPU: every binary op with each operand
// broadcast (and the same-shape fast paths), the scalar forms, the unary ops forward and
// backward, comparisons, where, cast and the in-place ops. Values and gradients within 1e-5
// of the largest (transcendental functions differ by an ulp or two between the devices);
// comparisons, where and cast exactly. Sizes are small for the emulated build, with an odd
// one and one of a few thousand elements.
#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/ops.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {
using BinOp = std::function<Tensor(const Tensor&, const Tensor&)>;
const std::vector<std::pair<Shape, Shape>> kShapes = {
    {{5, 7, 3}, {5, 7, 3}}, {{5, 7, 3}, {7, 1}}, {{1, 3}, {4, 1, 1}}, {{3}, {}}, {{33, 65}, {65}}};
}  // namespace

TEST_CASE("binary ops on the GPU match the CPU, broadcasting", "[tensor]") {
  Generator gen(21);
  const std::vector<std::pair<const char*, BinOp>> ops = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }}};
  for (const auto& [name, op] : ops)
    for (const auto& [sa, sb] : kShapes) {
      // Positive operands: div away from 0, pow of a positive base.
      Tensor a = uniform_tensor(sa, gen, 0.5f, 2.0f), b = uniform_tensor(sb, gen, 0.5f, 2.0f);
      check_cuda_matches_cpu(std::string(name) + " " + to_string(sa) + " " + to_string(sb),
                             [op = op](const std::vector<Tensor>& in) { return op(in[0], in[1]); }, {a, b});
    }
  // Ties in maximum (half the gradient each side) and NaN kept.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor a = Tensor::from_vector({1, 2, 3, nan, 5}, {5}), b = Tensor::from_vector({1, 3, 2, 0, nan}, {5});
  check_cuda_matches_cpu("maximum ties", [](const std::vector<Tensor>& in) { return maximum(in[0], in[1]); },
                         {a, b});
}

TEST_CASE("scalar forms and unary ops on the GPU match the CPU, forward and backward", "[tensor]") {
  Generator gen(22);
  using Op = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<const char*, Op>> ops = {
      {"add", [](const Tensor& x) { return x + 1.5; }},
      {"rsub", [](const Tensor& x) { return 1.5 - x; }},
      {"mul", [](const Tensor& x) { return x * -3.0; }},
      {"div", [](const Tensor& x) { return x / 7.0; }},
      {"rdiv", [](const Tensor& x) { return 2.0 / x; }},
      {"pow", [](const Tensor& x) { return pow(x, 2.5); }},
      {"neg", [](const Tensor& x) { return -x; }},
      {"exp", [](const Tensor& x) { return exp(x); }},
      {"log", [](const Tensor& x) { return log(x); }},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }},
      {"abs", [](const Tensor& x) { return abs(x - 1.2); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x - 1); }},
      {"tanh", [](const Tensor& x) { return tanh(x - 1); }},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x - 1.2, 0.2); }},
      {"gelu", [](const Tensor& x) { return gelu(x * 3 - 4); }},
      {"gelu tanh", [](const Tensor& x) { return gelu(x * 3 - 4, true); }},
      {"clamp", [](const Tensor& x) { return clamp(x, 0.8, 1.6); }}};
  for (const auto& [name, op] : ops)
    for (Shape s : {Shape{7, 13}, Shape{}, Shape{2500}})
      check_cuda_matches_cpu(std::string(name) + " " + to_string(s),
                             [op = op](const std::vector<Tensor>& in) { return op(in[0]); },
                             {uniform_tensor(s, gen, 0.5f, 2.0f)});
}

TEST_CASE("comparisons, where and cast on the GPU match the CPU exactly", "[tensor]") {
  Generator gen(23);
  using Op = std::function<Tensor(const Tensor&, const Tensor&)>;
  const std::vector<std::pair<const char*, Op>> ops = {
      {"eq", [](const Tensor& a, const Tensor& b) { return eq(a, b); }},
      {"ne", [](const Tensor& a, const Tensor& b) { return ne(a, b); }},
      {"lt", [](const Tensor& a, const Tensor& b) { return lt(a, b); }},
      {"le", [](const Tensor& a, const Tensor& b) { return le(a, b); }},
      {"gt", [](const Tensor& a, const Tensor& b) { return gt(a, b); }},
      {"ge", [](const Tensor& a, const Tensor& b) { return ge(a, b); }}};
  for (const auto& [name, op] : ops) {
    // Small integers, so that ties (eq, le, ge) occur; as float32 and as int64.
    Tensor a = randint(-2, 3, {5, 7, 3}, gen), b = randint(-2, 3, {7, 1}, gen);
    check_cuda_matches_cpu(std::string(name) + " int64", [op = op](const std::vector<Tensor>& in) { return op(in[0], in[1]); },
                           {a, b});
    check_cuda_matches_cpu(std::string(name) + " float32",
                           [op = op](const std::vector<Tensor>& in) { return op(in[0], in[1]); },
                           {a.to(DType::Float32), b.to(DType::Float32)});
  }
  Tensor ints = randint(-3, 4, {11, 3}, gen);
  check_cuda_matches_cpu("scalar compares", [](const std::vector<Tensor>& in) {
    return where(gt(in[0], 0.5), eq(in[0], -1.0).to(DType::Float32), le(in[1], 2).to(DType::Float32));
  }, {ints.to(DType::Float32), ints});

  // where: float32 with gradients (cond broadcast over rows), int64 exact.
  Tensor cond = gt(uniform_tensor({4, 1, 5}, gen), 0);
  check_cuda_matches_cpu("where", [](const std::vector<Tensor>& in) { return where(in[0], in[1], in[2]); },
                         {cond, uniform_tensor({3, 5}, gen), uniform_tensor({4, 3, 1}, gen)});
  check_cuda_matches_cpu("where int64", [](const std::vector<Tensor>& in) { return where(in[0], in[1], in[2]); },
                         {cond, randint(-9, 9, {3, 5}, gen), randint(-9, 9, {1}, gen)});

  // cast in every direction, with truncation, saturation and NaN.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor f = Tensor::from_vector({-2.7f, -0.5f, 0, 0.5f, 2.7f, 1e20f, -1e20f, nan, 3e9f}, {9});
  Tensor i = Tensor::from_vector(std::vector<int64_t>{-5, 0, 7, (int64_t(1) << 40) + 3, -(int64_t(1) << 62)}, {5});
  for (DType from : {DType::Float32, DType::Int64, DType::Bool})
    for (DType to : {DType::Float32, DType::Int64, DType::Bool}) {
      Tensor x = from == DType::Float32 ? f : from == DType::Int64 ? i : gt(f, 0);
      check_cuda_matches_cpu("cast " + to_string(from) + " -> " + to_string(to),
                             [to = to](const std::vector<Tensor>& in) { return cast(in[0], to); }, {x}, 0.0);
    }
}

TEST_CASE("in-place ops on the GPU match the CPU", "[tensor]") {
  Generator gen(24);
  Tensor x = uniform_tensor({6, 5}, gen, 0.5f, 2.0f), row = uniform_tensor({5}, gen, 0.5f, 2.0f);
  auto run = [&](Device d) {
    Tensor t = x.to(d).clone(), r = row.to(d);
    const uint64_t v = t.version();
    t.add_(r).mul_(r).sub_(reshape(r, {1, 5})).div_(r).add_(0.25).mul_(3);
    CHECK(t.version() == v + 6);
    return t.to_vector();
  };
  const std::vector<float> cpu = run(Device::cpu()), gpu = run(Device::cuda());
  std::vector<double> c(cpu.begin(), cpu.end()), g(gpu.begin(), gpu.end());
  CHECK(relative_error(g, c) <= 1e-6);
  Tensor z = x.to(Device::cuda()).clone();
  z.zero_();
  CHECK(z.to_vector() == std::vector<float>(30, 0.0f));
}
