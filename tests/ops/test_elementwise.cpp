// The element-wise math of the tensor library: broadcasting binary ops and their scalar forms,
// comparisons and where, unary ops, cast / to(DType), in-place ops and the operators. Values
// against hand computations, gradients against finite differences (random shapes, odd sizes,
// each operand broadcast), and the errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "gradcheck.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

using Floats = std::vector<float>;
using BinFn = std::function<float(float, float)>;

Tensor vec(const Floats& v, const Shape& shape) { return Tensor::from_vector(v, shape); }
Tensor vec(const Floats& v) { return Tensor::from_vector(v, {int64_t(v.size())}); }
Tensor ivec(const std::vector<int64_t>& v) { return Tensor::from_vector(v, {int64_t(v.size())}); }

// The reference broadcast by hand: out element (i0..ir) reads each operand at the same index
// with size-1 (or missing) dimensions pinned to 0.
Floats broadcast_ref(const Tensor& a, const Tensor& b, const Shape& out, const BinFn& f) {
  const Floats va = a.to_vector(), vb = b.to_vector();
  auto at = [&](const Floats& v, const Shape& s, const std::vector<int64_t>& idx) {
    int64_t off = 0;
    const size_t lead = out.size() - s.size();
    for (size_t k = 0; k < s.size(); ++k) off = off * s[k] + (s[k] == 1 ? 0 : idx[lead + k]);
    return v[off];
  };
  Floats y(numel(out));
  std::vector<int64_t> idx(out.size());
  for (int64_t i = 0; i < numel(out); ++i) {
    int64_t r = i;
    for (int64_t k = int64_t(out.size()) - 1; k >= 0; --k) {
      idx[k] = r % out[k];
      r /= out[k];
    }
    y[i] = f(at(va, a.shape(), idx), at(vb, b.shape(), idx));
  }
  return y;
}

void check_close(const Floats& got, const Floats& ref, double eps = 1e-6) {
  REQUIRE(got.size() == ref.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    if (std::isnan(ref[i]))
      CHECK(std::isnan(got[i]));
    else
      CHECK(got[i] == Approx(ref[i]).epsilon(eps).margin(1e-6));
  }
}

// Values on a grid of step 0.1, offset so that a and b never tie (|a - b| >= 0.05, far more
// than gradcheck's eps): maximum/minimum/abs/clamp stay away from their kinks.
Tensor grid_tensor(const Shape& shape, Generator& gen, float offset) {
  Floats v(numel(shape));
  for (float& x : v) x = std::round(gen.uniform(-20, 20)) / 10.0f + offset;
  return vec(v, shape);
}

template <class E> std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("binary ops broadcast as NumPy: [8,1,6] + [7,1] -> [8,7,6]", "[elementwise]") {
  Tensor a = reshape(arange(48), {8, 1, 6});
  Tensor b = reshape(mul(arange(7), 100.0), {7, 1});
  Tensor y = add(a, b);
  REQUIRE(y.shape() == Shape{8, 7, 6});
  const Floats v = y.to_vector();
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 7; ++j)
      for (int k = 0; k < 6; ++k) CHECK(v[(i * 7 + j) * 6 + k] == float(i * 6 + k + 100 * j));
  CHECK(add(b, a).to_vector() == v);
}

TEST_CASE("every binary op matches the hand-broadcast reference", "[elementwise]") {
  Generator gen(1);
  struct Case {
    const char* name;
    std::function<Tensor(const Tensor&, const Tensor&)> op;
    BinFn ref;
  };
  const std::vector<Case> cases = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, [](float a, float b) { return a + b; }},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }, [](float a, float b) { return a - b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, [](float a, float b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, [](float a, float b) { return a / b; }},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(abs(a), b); },
       [](float a, float b) { return std::pow(std::fabs(a), b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); },
       [](float a, float b) { return std::max(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); },
       [](float a, float b) { return std::min(a, b); }},
  };
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{5, 7, 3}, {5, 7, 3}}, {{5, 7, 3}, {7, 1}}, {{7, 1}, {5, 7, 3}}, {{1, 7, 1}, {5, 1, 3}},
      {{3}, {}},              {{}, {2, 3}},        {{}, {}},            {{0, 3}, {3}},
      {{1, 1, 1, 2, 1, 3}, {4, 1, 1, 1}}};
  for (const Case& c : cases)
    for (const auto& [sa, sb] : shapes) {
      INFO(c.name << " " << to_string(sa) << " " << to_string(sb));
      Tensor a = uniform_tensor(sa, gen, 0.5f, 2.0f), b = uniform_tensor(sb, gen, -2.0f, 2.0f);
      const Shape out = broadcast_shapes({sa, sb}, "test");
      Tensor y = c.op(a, b);
      REQUIRE(y.shape() == out);
      check_close(y.to_vector(), broadcast_ref(a, b, out, c.ref), 1e-5);
    }
}

TEST_CASE("scalar forms, neg and the operators", "[elementwise]") {
  Tensor x = vec({1, -2, 4});
  CHECK(add(x, 2).to_vector() == Floats{3, 0, 6});
  CHECK(sub(x, 2).to_vector() == Floats{-1, -4, 2});
  CHECK(rsub(x, 2).to_vector() == Floats{1, 4, -2});
  CHECK(mul(x, 3).to_vector() == Floats{3, -6, 12});
  CHECK(div(x, 4).to_vector() == Floats{0.25f, -0.5f, 1});
  CHECK(rdiv(x, 4).to_vector() == Floats{4, -2, 1});
  CHECK(pow(x, 2).to_vector() == Floats{1, 4, 16});
  CHECK(pow(x, 3).to_vector() == Floats{1, -8, 64});
  check_close(pow(vec({4, 9}), 0.5).to_vector(), {2, 3});
  CHECK(neg(x).to_vector() == Floats{-1, 2, -4});

  Tensor y = vec({2, 4, 8});
  CHECK((x + y).to_vector() == Floats{3, 2, 12});
  CHECK((x - y).to_vector() == Floats{-1, -6, -4});
  CHECK((x * y).to_vector() == Floats{2, -8, 32});
  CHECK((x / y).to_vector() == Floats{0.5f, -0.5f, 0.5f});
  CHECK((-x).to_vector() == Floats{-1, 2, -4});
  CHECK((x + 1).to_vector() == Floats{2, -1, 5});
  CHECK((1 + x).to_vector() == Floats{2, -1, 5});
  CHECK((x - 1).to_vector() == Floats{0, -3, 3});
  CHECK((1 - x).to_vector() == Floats{0, 3, -3});
  CHECK((x * 2).to_vector() == Floats{2, -4, 8});
  CHECK((2 * x).to_vector() == Floats{2, -4, 8});
  CHECK((x / 2).to_vector() == Floats{0.5f, -1, 2});
  CHECK((8 / y).to_vector() == Floats{4, 2, 1});
  // A 0-d tensor with a vector, and two 0-d tensors.
  Tensor s = reshape(vec({10}), {});
  CHECK((s * x).shape() == Shape{3});
  CHECK((s * x).to_vector() == Floats{10, -20, 40});
  CHECK((s + s).shape() == Shape{});
  CHECK((s + s).item() == 20.0f);
  // maximum/minimum keep NaN (torch.maximum), unlike fmaxf.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(maximum(vec({nan, 1}), vec({1, nan})).to_vector()[0]));
  CHECK(std::isnan(maximum(vec({nan, 1}), vec({1, nan})).to_vector()[1]));
  CHECK(std::isnan(minimum(vec({nan, 1}), vec({1, nan})).to_vector()[1]));
}

TEST_CASE("binary ops' gradients, each operand broadcast", "[elementwise][gradcheck]") {
  Generator gen(2);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{3, 1, 4}, {5, 4}}, {{4}, {2, 3, 4}}, {{2, 3}, {}}, {{}, {3}}, {{5, 1}, {1, 3}}};
  using Op = std::function<Tensor(const Tensor&, const Tensor&)>;
  const std::vector<std::pair<const char*, Op>> ops = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }}};
  for (const auto& [name, op] : ops)
    for (const auto& [sa, sb] : shapes) {
      const std::string what = std::string(name) + " " + to_string(sa) + " " + to_string(sb);
      const bool extremum = std::string(name) == "maximum" || std::string(name) == "minimum";
      // div and pow: positive b / a keep away from the pole and from log of a negative base.
      Tensor a = extremum ? grid_tensor(sa, gen, 0.05f) : uniform_tensor(sa, gen, 0.5f, 2.0f);
      Tensor b = extremum ? grid_tensor(sb, gen, 0.0f) : uniform_tensor(sb, gen, 0.5f, 2.0f);
      if (std::string(name) == "pow") b = uniform_tensor(sb, gen, -2.0f, 2.0f);
      check_gradients(what, [op = op](const std::vector<Tensor>& in) { return op(in[0], in[1]); }, {a, b});
    }
}

TEST_CASE("scalar forms' and neg's gradients", "[elementwise][gradcheck]") {
  Generator gen(3);
  using Op = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<const char*, Op>> ops = {
      {"add", [](const Tensor& a) { return add(a, 1.5); }},
      {"sub", [](const Tensor& a) { return sub(a, 1.5); }},
      {"rsub", [](const Tensor& a) { return rsub(a, 1.5); }},
      {"mul", [](const Tensor& a) { return mul(a, -2.5); }},
      {"div", [](const Tensor& a) { return div(a, -2.5); }},
      {"rdiv", [](const Tensor& a) { return rdiv(a, 3.0); }},
      {"pow 2.5", [](const Tensor& a) { return pow(a, 2.5); }},
      {"pow -1.5", [](const Tensor& a) { return pow(a, -1.5); }},
      {"neg", [](const Tensor& a) { return neg(a); }},
      {"operators", [](const Tensor& a) { return (2 - a) * (a / 4 + 1) - 3 / a; }}};
  for (const auto& [name, op] : ops)
    for (Shape s : {Shape{7}, Shape{2, 3, 5}, Shape{}})
      check_gradients(name, [op = op](const std::vector<Tensor>& in) { return op(in[0]); },
                      {uniform_tensor(s, gen, 0.5f, 2.0f)});
  // An integral exponent takes negative bases.
  check_gradients("pow 3", [](const std::vector<Tensor>& in) { return pow(in[0], 3.0); },
                  {uniform_tensor({9}, gen, -2.0f, 2.0f)});
}

TEST_CASE("gradient special cases: ties, zero exponents, negative bases, broadcast sums", "[elementwise]") {
  // maximum/minimum: a tie splits the gradient half and half, as torch.
  Tensor a = vec({1, 2, 5}).requires_grad_(), b = vec({1, 3, 4}).requires_grad_();
  maximum(a, b).backward(ones({3}));
  CHECK(a.grad().to_vector() == Floats{0.5f, 0, 1});
  CHECK(b.grad().to_vector() == Floats{0.5f, 1, 0});
  a.zero_grad();
  b.zero_grad();
  minimum(a, b).backward(ones({3}));
  CHECK(a.grad().to_vector() == Floats{0.5f, 1, 0});
  CHECK(b.grad().to_vector() == Floats{0.5f, 0, 1});

  // pow, as torch: d/da is 0 where b == 0; d/db is 0 where a == 0 and b >= 0, NaN for a < 0.
  Tensor base = vec({0, 0, 2, -2}).requires_grad_(), e = vec({0, 2, 0, 2}).requires_grad_();
  Tensor y = pow(base, e);
  CHECK(y.to_vector() == Floats{1, 0, 1, 4});
  y.backward(ones({4}));
  CHECK(base.grad().to_vector() == Floats{0, 0, 0, -4});
  const Floats de = e.grad().to_vector();
  CHECK(de[0] == 0.0f);
  CHECK(de[1] == 0.0f);
  CHECK(de[2] == Approx(std::log(2.0f)));
  CHECK(std::isnan(de[3]));
  Tensor x = vec({0, 3}).requires_grad_();
  pow(x, 0.0).backward(ones({2}));
  CHECK(x.grad().to_vector() == Floats{0, 0});

  // A broadcast operand's gradient is the sum over the outputs it was used in.
  Tensor col = vec({1, 2, 3}, {3, 1}).requires_grad_(), row = vec({10, 20, 30, 40}, {1, 4}).requires_grad_();
  sum(mul(col, row)).backward();
  CHECK(col.grad().to_vector() == Floats{100, 100, 100});
  CHECK(row.grad().to_vector() == Floats{6, 6, 6, 6});

  // Only one input requires grad: the other gets none.
  Tensor w = vec({1, 2}).requires_grad_(), c = vec({3, 4});
  sum(div(w, c)).backward();
  check_close(w.grad().to_vector(), {1.0f / 3, 0.25f});
  CHECK_FALSE(c.grad().defined());
  Tensor w2 = vec({1, 2}), c2 = vec({3, 4}).requires_grad_();
  sum(div(w2, c2)).backward();
  check_close(c2.grad().to_vector(), {-1.0f / 9, -2.0f / 16});
  CHECK_FALSE(w2.grad().defined());
}

TEST_CASE("unary ops' values", "[elementwise]") {
  const Floats xs = {-3.5f, -1, -0.25f, 0, 0.25f, 1, 2.5f};
  Tensor x = vec(xs);
  auto ref = [&](const std::function<double(double)>& f) {
    Floats r;
    for (float v : xs) r.push_back(float(f(v)));
    return r;
  };
  check_close(exp(x).to_vector(), ref([](double v) { return std::exp(v); }));
  check_close(abs(x).to_vector(), ref([](double v) { return std::fabs(v); }));
  check_close(sigmoid(x).to_vector(), ref([](double v) { return 1 / (1 + std::exp(-v)); }));
  check_close(tanh(x).to_vector(), ref([](double v) { return std::tanh(v); }));
  check_close(leaky_relu(x).to_vector(), ref([](double v) { return v > 0 ? v : 0.01 * v; }));
  check_close(leaky_relu(x, 0.2).to_vector(), ref([](double v) { return v > 0 ? v : 0.2 * v; }));
  check_close(gelu(x).to_vector(), ref([](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }));
  check_close(gelu(x, true).to_vector(), ref([](double v) {
    return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  }));
  // torch.nn.functional.gelu(torch.tensor(1.)) and with approximate='tanh'
  CHECK(gelu(vec({1})).item() == Approx(0.8413447));
  CHECK(gelu(vec({1}), true).item() == Approx(0.8411920));
  check_close(clamp(x, -1, 0.5).to_vector(), ref([](double v) { return std::min(std::max(v, -1.0), 0.5); }));
  CHECK(clamp(x, -INFINITY, 0).to_vector() == Floats{-3.5f, -1, -0.25f, 0, 0, 0, 0});
  CHECK(clamp(x, 0, INFINITY).to_vector() == Floats{0, 0, 0, 0, 0.25f, 1, 2.5f});
  CHECK(clamp(x, 2, 1).to_vector() == Floats(7, 1.0f));  // min > max: all max, as torch

  Tensor p = vec({0.5f, 1, 4, 9});
  check_close(log(p).to_vector(), {std::log(0.5f), 0, std::log(4.0f), std::log(9.0f)});
  check_close(sqrt(p).to_vector(), {std::sqrt(0.5f), 1, 2, 3});
  CHECK(std::isnan(sqrt(vec({-1})).item()));
  CHECK(log(vec({0})).item() == -INFINITY);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(clamp(vec({nan}), 0, 1).item()));
  // Odd sizes and 0-d / empty tensors keep their shapes.
  Generator gen(4);
  Tensor big = uniform_tensor({3, 5, 7}, gen);
  CHECK(tanh(big).shape() == Shape{3, 5, 7});
  CHECK(exp(reshape(vec({0}), {})).shape() == Shape{});
  CHECK(exp(zeros({0, 4})).shape() == Shape{0, 4});
}

TEST_CASE("unary ops' gradients", "[elementwise][gradcheck]") {
  Generator gen(5);
  using Op = std::function<Tensor(const Tensor&)>;
  struct Case {
    const char* name;
    Op op;
    float lo, hi;
  };
  // Inputs away from kinks and poles: log/sqrt positive, abs/leaky_relu/clamp on the grid.
  const std::vector<Case> cases = {
      {"exp", [](const Tensor& x) { return exp(x); }, -2, 2},
      {"log", [](const Tensor& x) { return log(x); }, 0.5f, 3},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, 0.5f, 3},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, -3, 3},
      {"tanh", [](const Tensor& x) { return tanh(x); }, -2, 2},
      {"gelu", [](const Tensor& x) { return gelu(x); }, -3, 3},
      {"gelu tanh", [](const Tensor& x) { return gelu(x, true); }, -3, 3}};
  for (const Case& c : cases)
    for (Shape s : {Shape{11}, Shape{2, 3, 5}, Shape{}})
      check_gradients(c.name, [op = c.op](const std::vector<Tensor>& in) { return op(in[0]); },
                      {uniform_tensor(s, gen, c.lo, c.hi)});
  const std::vector<std::pair<const char*, Op>> kinked = {
      {"abs", [](const Tensor& x) { return abs(x); }},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1); }},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.52, 0.73); }},
      {"clamp max only", [](const Tensor& x) { return clamp(x, -INFINITY, 0.33); }}};
  for (const auto& [name, op] : kinked)
    for (Shape s : {Shape{13}, Shape{3, 7}})
      check_gradients(name, [op = op](const std::vector<Tensor>& in) { return op(in[0]); },
                      {grid_tensor(s, gen, 0.05f)});

  // At the kinks, as torch: clamp passes the gradient at both bounds, abs gives 0 at 0.
  Tensor x = vec({-1, 0, 0.5f, 1, 2}).requires_grad_();
  clamp(x, 0, 1).backward(ones({5}));
  CHECK(x.grad().to_vector() == Floats{0, 1, 1, 1, 0});
  x.zero_grad();
  abs(x).backward(ones({5}));
  CHECK(x.grad().to_vector() == Floats{-1, 0, 1, 1, 1});
  x.zero_grad();
  leaky_relu(x, 0.1).backward(ones({5}));
  check_close(x.grad().to_vector(), {0.1f, 0.1f, 1, 1, 1});
}

TEST_CASE("ops that save their output raise when it was changed in place", "[elementwise][autograd]") {
  for (const auto& op : std::vector<std::function<Tensor(const Tensor&)>>{
           [](const Tensor& t) { return exp(t); }, [](const Tensor& t) { return sigmoid(t); },
           [](const Tensor& t) { return tanh(t); }, [](const Tensor& t) { return sqrt(t); }}) {
    Tensor x = vec({1, 2}).requires_grad_();
    Tensor y = op(x);
    CHECK_THROWS_AS(y.add_(1), AutogradError);  // y requires grad, grad mode on
    {
      NoGradGuard no_grad;
      y.add_(1);
    }
    CHECK_THROWS_AS(sum(y).backward(), AutogradError);
  }
  // An input saved by mul, changed in place before backward.
  Tensor w = vec({1, 2}).requires_grad_(), c = vec({3, 4});
  Tensor y = mul(w, c);
  c.mul_(2);
  CHECK_THROWS_AS(sum(y).backward(), AutogradError);
}

TEST_CASE("comparisons give bool tensors, broadcasting, float32 and int64", "[elementwise]") {
  Tensor a = vec({1, 2, 3, 4, 5, 6}, {2, 3}), b = vec({2, 2, 4});
  using U = std::vector<uint8_t>;
  Tensor e = eq(a, b);
  CHECK(e.dtype() == DType::Bool);
  CHECK(e.shape() == Shape{2, 3});
  CHECK(e.values_as<uint8_t>() == U{0, 1, 0, 0, 0, 0});
  CHECK(ne(a, b).values_as<uint8_t>() == U{1, 0, 1, 1, 1, 1});
  CHECK(lt(a, b).values_as<uint8_t>() == U{1, 0, 1, 0, 0, 0});
  CHECK(le(a, b).values_as<uint8_t>() == U{1, 1, 1, 0, 0, 0});
  CHECK(gt(a, b).values_as<uint8_t>() == U{0, 0, 0, 1, 1, 1});
  CHECK(ge(a, b).values_as<uint8_t>() == U{0, 1, 0, 1, 1, 1});
  CHECK(gt(a, 3.5).values_as<uint8_t>() == U{0, 0, 0, 1, 1, 1});
  CHECK(eq(a, 2).values_as<uint8_t>() == U{0, 1, 0, 0, 0, 0});
  CHECK(le(reshape(vec({3}), {}), a).shape() == Shape{2, 3});

  // int64: exact, also beyond float's 24 bits.
  const int64_t big = int64_t(1) << 60;
  Tensor i = ivec({big, big + 1, -7});
  CHECK(eq(i, ivec({big, big, -7})).values_as<uint8_t>() == U{1, 0, 1});
  CHECK(gt(i, ivec({big})).values_as<uint8_t>() == U{0, 1, 0});
  CHECK(eq(i, double(big)).values_as<uint8_t>() == U{1, 0, 0});
  CHECK(lt(i, -6).values_as<uint8_t>() == U{0, 0, 1});
  // int64 against a fractional scalar: compared as float, torch's promotion.
  CHECK(gt(ivec({2, 3}), 2.5).values_as<uint8_t>() == U{0, 1});
  CHECK(eq(ivec({2, 3}), 2.5).values_as<uint8_t>() == U{0, 0});

  // No gradient, even from inputs that require one.
  Tensor w = vec({1, 2}).requires_grad_();
  CHECK_FALSE(gt(w, 1.5).requires_grad());
  CHECK_FALSE(eq(w, w).requires_grad());
  // NaN compares unequal to everything.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(eq(vec({nan}), vec({nan})).values_as<uint8_t>() == U{0});
  CHECK(ne(vec({nan}), nan).values_as<uint8_t>() == U{1});

  CHECK_THROWS_AS(eq(a, ivec({1, 2, 3})), DTypeError);
  CHECK_THROWS_AS(eq(gt(a, 1), gt(a, 1)), DTypeError);
  CHECK_THROWS_AS(lt(gt(a, 1), 1), DTypeError);
  CHECK(error_of<ShapeError>([&] { lt(a, vec({1, 2})); }).find("lt: shapes [2,3] and [2]") != std::string::npos);
  CHECK(error_of<DTypeError>([&] { ge(a, ivec({1})); }).find("ge: operands are float32 and int64") != std::string::npos);
}

TEST_CASE("where picks element-wise, broadcasting; its gradient goes to the chosen side", "[elementwise]") {
  Tensor cond = gt(vec({1, -1, 2}), 0);  // [T, F, T]
  Tensor a = vec({10, 20, 30, 40, 50, 60}, {2, 3});
  Tensor b = reshape(vec({-1}), {});
  Tensor y = where(cond, a, b);
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.to_vector() == Floats{10, -1, 30, 40, -1, 60});
  // cond broadcast over columns: [2,1] against [3].
  Tensor rows = reshape(lt(vec({0, 5}), 1), {2, 1});
  CHECK(where(rows, vec({1, 2, 3}), vec({7, 8, 9})).to_vector() == Floats{1, 2, 3, 7, 8, 9});
  // int64 values.
  CHECK(where(cond, ivec({1, 2, 3}), ivec({-1, -2, -3})).values_as<int64_t>() == std::vector<int64_t>{1, -2, 3});

  Tensor ag = a.clone().requires_grad_(), bg = b.clone().requires_grad_();
  where(cond, ag, bg).backward(ones({2, 3}));
  CHECK(ag.grad().to_vector() == Floats{1, 0, 1, 1, 0, 1});
  CHECK(bg.grad().to_vector() == Floats{2});  // the 0-d b was picked twice

  Generator gen(6);
  Tensor c3 = gt(uniform_tensor({4, 1, 5}, gen), 0);
  check_gradients("where", [c3](const std::vector<Tensor>& in) { return where(c3, in[0], in[1]); },
                  {uniform_tensor({3, 5}, gen), uniform_tensor({4, 3, 1}, gen)});

  CHECK(error_of<DTypeError>([&] { where(a, a, a); }).find("where: condition is float32") != std::string::npos);
  CHECK_THROWS_AS(where(cond, a, ivec({1})), DTypeError);
  CHECK_THROWS_AS(where(cond, vec({1, 2}), vec({1, 2})), ShapeError);
}

TEST_CASE("cast and to(DType) in every direction", "[elementwise][cast]") {
  using I = std::vector<int64_t>;
  using U = std::vector<uint8_t>;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // float -> int64 truncates toward zero; out of range saturates; NaN -> 0.
  Tensor f = vec({-2.7f, -0.5f, 0.5f, 2.7f, 1e20f, -1e20f, nan, 16777216.0f});
  Tensor i = f.to(DType::Int64);
  CHECK(i.dtype() == DType::Int64);
  CHECK(i.values_as<int64_t>() ==
        I{-2, 0, 0, 2, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(), 0, 16777216});
  // float -> bool is x != 0 (NaN is true, -0 is false).
  CHECK(vec({0, -0.0f, 0.5f, nan}).to(DType::Bool).values_as<uint8_t>() == U{0, 0, 1, 1});
  // int64 -> float rounds to the nearest float; -> bool is x != 0.
  const int64_t big = (int64_t(1) << 40) + 3;
  Tensor ints = ivec({-5, 0, 7, big});
  CHECK(ints.to(DType::Float32).to_vector() == Floats{-5, 0, 7, float(big)});
  CHECK(ints.to(DType::Bool).values_as<uint8_t>() == U{1, 0, 1, 1});
  CHECK(cast(ints, DType::Float32).to(DType::Int64).values_as<int64_t>() == I{-5, 0, 7, int64_t(1) << 40});
  // bool -> float / int64: 0 and 1; round trips.
  Tensor mask = gt(vec({-1, 2, 0, 3}), 0);
  CHECK(mask.to(DType::Float32).to_vector() == Floats{0, 1, 0, 1});
  CHECK(mask.to(DType::Int64).values_as<int64_t>() == I{0, 1, 0, 1});
  CHECK(mask.to(DType::Int64).to(DType::Bool).values_as<uint8_t>() == U{0, 1, 0, 1});
  CHECK(ints.to(DType::Bool).to(DType::Int64).values_as<int64_t>() == I{1, 0, 1, 1});
  // Same dtype: the tensor itself (as torch's .to).
  CHECK(ints.to(DType::Int64).impl() == ints.impl());
  // Shapes are kept; the result never requires grad.
  Tensor w = vec({1.5f, -2.5f, 3, 4}, {2, 2}).requires_grad_();
  Tensor wi = cast(w, DType::Int64);
  CHECK(wi.shape() == Shape{2, 2});
  CHECK(wi.values_as<int64_t>() == I{1, -2, 3, 4});
  CHECK_FALSE(wi.requires_grad());
  CHECK(cast(zeros({0, 3}), DType::Bool).shape() == Shape{0, 3});
  CHECK_THROWS_AS(cast(Tensor(), DType::Int64), ArgumentError);
}

TEST_CASE("in-place ops broadcast into x, bump the version and respect autograd", "[elementwise][inplace]") {
  Tensor x = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  uint64_t v = x.version();
  x.add_(vec({10, 20, 30}));
  CHECK(x.to_vector() == Floats{11, 22, 33, 14, 25, 36});
  CHECK(x.version() == ++v);
  x.sub_(reshape(vec({1}), {}));
  CHECK(x.to_vector() == Floats{10, 21, 32, 13, 24, 35});
  CHECK(x.version() == ++v);
  x.mul_(vec({2, 1}, {2, 1}));
  CHECK(x.to_vector() == Floats{20, 42, 64, 13, 24, 35});
  x.div_(vec({4, 2, 8}));
  CHECK(x.to_vector() == Floats{5, 21, 8, 3.25f, 12, 4.375f});
  x.add_(1.5).mul_(2);
  CHECK(x.to_vector() == Floats{13, 45, 19, 9.5f, 27, 11.75f});
  CHECK(x.version() == v + 4);
  x.add_(x);  // the operand is x itself
  CHECK(x.to_vector() == Floats{26, 90, 38, 19, 54, 23.5f});
  x.zero_();
  CHECK(x.to_vector() == Floats(6, 0.0f));
  CHECK(x.version() == v + 6);
  Tensor labels = ivec({4, 5});
  labels.zero_();
  CHECK(labels.values_as<int64_t>() == std::vector<int64_t>{0, 0});

  // x's memory cannot grow: other must broadcast to x's own shape.
  CHECK(error_of<ShapeError>([&] { vec({1, 2, 3}).add_(vec({1, 2, 3, 4, 5, 6}, {2, 3})); })
            .find("add_: other operand [2,3] does not broadcast to the tensor's shape [3]") != std::string::npos);
  CHECK_THROWS_AS(x.mul_(vec({1, 2})), ShapeError);
  CHECK_THROWS_AS(labels.add_(ivec({1, 1})), DTypeError);
  CHECK_THROWS_AS(labels.mul_(2), DTypeError);

  // A leaf requiring grad: refused with grad mode on, allowed under NoGradGuard (an optimizer).
  Tensor w = vec({1, 2}).requires_grad_();
  CHECK_THROWS_AS(w.add_(vec({1, 1})), AutogradError);
  CHECK_THROWS_AS(w.mul_(0.5), AutogradError);
  CHECK_THROWS_AS(w.zero_(), AutogradError);
  CHECK(error_of<AutogradError>([&] { w.sub_(vec({1, 1})); }).find("sub_") != std::string::npos);
  {
    NoGradGuard no_grad;
    w.sub_(vec({0.5f, 0.5f})).mul_(2);
    CHECK(w.to_vector() == Floats{1, 3});
  }
  CHECK(w.requires_grad());
  // An operand requiring grad would lose its gradient: refused too.
  Tensor plain = vec({0, 0});
  CHECK_THROWS_AS(plain.add_(w), AutogradError);
}

TEST_CASE("element-wise errors name the op, the shapes and the dtypes", "[elementwise][errors]") {
  Tensor a = zeros({2, 3}), b = zeros({4});
  CHECK(error_of<ShapeError>([&] { mul(a, b); }).find("mul: shapes [2,3] and [4] cannot be broadcast together") !=
        std::string::npos);
  CHECK(error_of<ShapeError>([&] { a + b; }).find("add: shapes [2,3] and [4]") != std::string::npos);
  CHECK(error_of<ShapeError>([&] { maximum(a, b); }).find("maximum:") != std::string::npos);
  Tensor labels = ivec({1, 2});
  CHECK(error_of<DTypeError>([&] { exp(labels); }) == "exp: input is int64; it takes float32");
  CHECK(error_of<DTypeError>([&] { add(a, labels); }).find("add: right operand is int64") != std::string::npos);
  CHECK(error_of<DTypeError>([&] { sub(labels, 1.0); }).find("sub: tensor is int64") != std::string::npos);
  CHECK_THROWS_AS(sigmoid(gt(a, 0)), DTypeError);
  CHECK_THROWS_AS(pow(labels, labels), DTypeError);
  CHECK_THROWS_AS(div(Tensor(), a), ArgumentError);
  CHECK_THROWS_AS(neg(Tensor()), ArgumentError);
  CHECK_THROWS_AS(clamp(a, NAN, 1), ArgumentError);
  // Ranks beyond the kernels' limit.
  CHECK_THROWS_AS(add(zeros({1, 1, 1, 1, 1, 1, 1, 1, 2}), zeros({1})), ShapeError);
}
