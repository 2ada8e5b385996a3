// Reductions beyond sum (mean, max/min with indices, argmax/argmin, var/std) and softmax,
// log_softmax, logsumexp: values against double loops written here, gradients against finite
// differences on odd shapes for every dim and keepdim, ties and NaN, errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "gradcheck.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

// x's values grouped by the output of a reduction over `dims` (normalised), each group in the
// order of the reduced positions (row-major over the reduced dimensions), outputs in order.
std::vector<std::vector<double>> groups(const Tensor& x, std::vector<int64_t> dims) {
  const Shape& s = x.shape();
  const int64_t rank = int64_t(s.size());
  if (dims.empty())
    for (int64_t d = 0; d < rank; ++d) dims.push_back(d);
  auto reduced = [&](int64_t d) { return std::find(dims.begin(), dims.end(), d) != dims.end(); };
  int64_t outputs = 1;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced(d)) outputs *= s[d];
  std::vector<std::vector<double>> g(outputs);
  const std::vector<float> v = x.to_vector();
  for (int64_t e = 0; e < x.numel(); ++e) {
    int64_t rest = e, o = 0, mult = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      const int64_t i = rest % s[d];
      rest /= s[d];
      if (!reduced(d)) {
        o += i * mult;
        mult *= s[d];
      }
    }
    g[o].push_back(v[e]);
  }
  return g;
}

std::vector<double> reduce_ref(const Tensor& x, const std::vector<int64_t>& dims,
                               const std::function<double(const std::vector<double>&)>& f) {
  std::vector<double> out;
  for (const auto& grp : groups(x, dims)) out.push_back(f(grp));
  return out;
}

void check_close(const std::vector<float>& got, const std::vector<double>& ref, double tol = 1e-5) {
  REQUIRE(got.size() == ref.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", expected " << ref[i]);
    if (std::isnan(ref[i]))
      CHECK(std::isnan(got[i]));
    else if (std::isinf(ref[i]))
      CHECK(double(got[i]) == ref[i]);
    else
      CHECK(std::fabs(got[i] - ref[i]) <= tol * std::max(1.0, std::fabs(ref[i])));
  }
}

double ref_mean(const std::vector<double>& v) {
  double s = 0;
  for (double a : v) s += a;
  return s / double(v.size());
}
double ref_var(const std::vector<double>& v, int64_t correction) {
  const double m = ref_mean(v);
  double m2 = 0;
  for (double a : v) m2 += (a - m) * (a - m);
  return m2 / std::max<double>(0.0, double(v.size()) - double(correction));
}

// Distinct values 0.1 apart, shuffled: max/min's winner does not change under the
// finite-difference step, and no two are tied.
Tensor distinct_tensor(const Shape& shape, Generator& gen) {
  std::vector<float> v(numel(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1f * float(i) - 0.05f * float(v.size());
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen.below(i)]);
  return Tensor::from_vector(v, shape);
}

}  // namespace

TEST_CASE("mean over any dims: values and gradients", "[reductions]") {
  Generator gen(1);
  Tensor x = uniform_tensor({3, 5, 7}, gen);
  for (std::vector<int64_t> dims : {std::vector<int64_t>{}, {0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1, 2}}) {
    for (bool keep : {false, true}) {
      INFO("dims " << to_string(dims) << " keepdim " << keep);
      Tensor y = mean(x, dims, keep);
      check_close(y.to_vector(), reduce_ref(x, dims, ref_mean));
      check_gradients("mean", [&](const std::vector<Tensor>& in) { return mean(in[0], dims, keep); }, {x.clone()});
    }
  }
  CHECK(mean(x, 1, true).shape() == Shape{3, 1, 7});
  CHECK(mean(x, -1).shape() == Shape{3, 5});
  CHECK(mean(x).shape() == Shape{});
  CHECK(mean(Tensor::from_vector({1, 2, 3, 6}, {2, 2})).item() == 3.0f);
  // The mean of nothing is NaN, as torch.
  CHECK(std::isnan(mean(zeros({0, 3})).item()));
  CHECK(mean(zeros({0, 3}), 1).shape() == Shape{0});
}

TEST_CASE("max / min along a dim: values, indices and the gradient to the winner", "[reductions]") {
  Generator gen(2);
  Tensor x = distinct_tensor({3, 5, 7}, gen);
  for (int64_t dim : {0, 1, 2, -1}) {
    for (bool keep : {false, true}) {
      INFO("dim " << dim << " keepdim " << keep);
      const int64_t d = dim < 0 ? dim + 3 : dim;
      for (bool is_max : {true, false}) {
        ValuesIndices r = is_max ? max(x, dim, keep) : min(x, dim, keep);
        Shape want = x.shape();
        if (keep) want[d] = 1;
        else want.erase(want.begin() + d);
        CHECK(r.values.shape() == want);
        CHECK(r.indices.shape() == want);
        CHECK(r.indices.dtype() == DType::Int64);
        std::vector<double> ref_v, ref_i;
        for (const auto& g : groups(x, {d})) {
          auto it = is_max ? std::max_element(g.begin(), g.end()) : std::min_element(g.begin(), g.end());
          ref_v.push_back(*it);
          ref_i.push_back(double(it - g.begin()));
        }
        check_close(r.values.to_vector(), ref_v, 0);
        CHECK(r.indices.values_as<double>() == ref_i);
        CHECK((is_max ? argmax(x, dim, keep) : argmin(x, dim, keep)).values_as<double>() == ref_i);
        check_gradients(is_max ? "max" : "min",
                        [&](const std::vector<Tensor>& in) {
                          return is_max ? max(in[0], dim, keep).values : min(in[0], dim, keep).values;
                        },
                        {x.clone()});
      }
    }
  }
}

TEST_CASE("max / min / argmax: the first of ties wins, a NaN wins", "[reductions]") {
  Tensor t = Tensor::from_vector({1, 3, 3, 2, 5, 5, 0, 0}, {2, 4});
  ValuesIndices mx = max(t, 1);
  CHECK(mx.values.to_vector() == std::vector<float>{3, 5});
  CHECK(mx.indices.values_as<int64_t>() == std::vector<int64_t>{1, 0});
  ValuesIndices mn = min(t, 1);
  CHECK(mn.values.to_vector() == std::vector<float>{1, 0});
  CHECK(mn.indices.values_as<int64_t>() == std::vector<int64_t>{0, 2});
  CHECK(argmax(t).item<int64_t>() == 4);  // flat index, the first 5
  CHECK(argmax(t).shape() == Shape{});
  CHECK(argmax(t).dtype() == DType::Int64);
  CHECK(max(t).item() == 5.0f);
  CHECK(min(t).item() == 0.0f);
  CHECK(max(t).shape() == Shape{});

  // The gradient goes to the first of equal maxima only.
  Tensor x = t.clone().requires_grad_(true);
  max(x, 1).values.backward(Tensor::from_vector({10, 20}, {2}));
  CHECK(x.grad().to_vector() == std::vector<float>{0, 10, 0, 0, 20, 0, 0, 0});
  Tensor z = t.clone().requires_grad_(true);
  max(z).backward();
  CHECK(z.grad().to_vector() == std::vector<float>{0, 0, 0, 0, 1, 0, 0, 0});

  // NaN propagates as in torch: it is the max (and the min), the first NaN's index.
  const float nan = NAN;
  Tensor n = Tensor::from_vector({1, nan, 5, nan, 2, 4, 3, 1}, {2, 4});
  ValuesIndices nm = max(n, 1);
  CHECK(std::isnan(nm.values.to_vector()[0]));
  CHECK(nm.values.to_vector()[1] == 4.0f);
  CHECK(nm.indices.values_as<int64_t>() == std::vector<int64_t>{1, 1});
  CHECK(min(n, 1).indices.values_as<int64_t>() == std::vector<int64_t>{1, 3});
  CHECK(argmax(n).item<int64_t>() == 1);
  CHECK(std::isnan(max(n).item()));
  CHECK(std::isnan(min(n).item()));
  CHECK(argmax(n, 0).values_as<int64_t>() == std::vector<int64_t>{1, 0, 0, 0});

  // Over a column (dim 0): the same rules.
  Tensor c = Tensor::from_vector({2, 7, 2, 7, 1, nan}, {3, 2});
  CHECK(argmax(c, 0).values_as<int64_t>() == std::vector<int64_t>{0, 2});
  CHECK(argmin(c, 0).values_as<int64_t>() == std::vector<int64_t>{2, 2});
  // -inf everywhere still has a winner: index 0.
  CHECK(argmax(full({3}, -INFINITY)).item<int64_t>() == 0);
  // A 0-d tensor: its value, index 0.
  Tensor s = Tensor::from_vector({4}, {});
  CHECK(max(s, 0).values.item() == 4.0f);
  CHECK(max(s, 0).indices.item<int64_t>() == 0);
}

TEST_CASE("max / min / argmax / mean refuse bad input with the op's name", "[reductions]") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_AS(max(x, 2), ShapeError);
  CHECK_THROWS_AS(argmin(x, -3), ShapeError);
  CHECK_THROWS_WITH(max(zeros({0, 3}), 0), Catch::Contains("max") && Catch::Contains("[0,3]"));
  CHECK_THROWS_AS(max(zeros({0})), ShapeError);
  CHECK_THROWS_AS(argmax(zeros({2, 0})), ShapeError);
  CHECK(max(zeros({0, 3}), 1).values.shape() == Shape{0});  // nothing to reduce, nothing to fail
  Tensor labels = arange(6, DType::Int64);
  CHECK_THROWS_WITH(max(labels, 0), Catch::Contains("max") && Catch::Contains("int64"));
  CHECK_THROWS_AS(argmax(labels), DTypeError);
  CHECK_THROWS_WITH(mean(labels), Catch::Contains("mean") && Catch::Contains("int64"));
  CHECK_THROWS_AS(mean(x, {0, 0}), ShapeError);
  CHECK_THROWS_AS(dlcraft::var(labels), DTypeError);
  CHECK_THROWS_AS(softmax(labels, 0), DTypeError);
  CHECK_THROWS_AS(softmax(x, 2), ShapeError);
  CHECK_THROWS_AS(mean(Tensor()), ArgumentError);
}

TEST_CASE("var / std with correction: values and gradients", "[reductions]") {
  Generator gen(3);
  Tensor x = uniform_tensor({3, 5, 7}, gen);
  for (std::vector<int64_t> dims : {std::vector<int64_t>{}, {0}, {1}, {2}, {0, 2}}) {
    for (int64_t correction : {0, 1, 2}) {
      for (bool keep : {false, true}) {
        INFO("dims " << to_string(dims) << " correction " << correction << " keepdim " << keep);
        check_close(dlcraft::var(x, dims, correction, keep).to_vector(),
                    reduce_ref(x, dims, [&](const std::vector<double>& g) { return ref_var(g, correction); }));
        check_close(dlcraft::std(x, dims, correction, keep).to_vector(),
                    reduce_ref(x, dims, [&](const std::vector<double>& g) { return std::sqrt(ref_var(g, correction)); }));
        check_gradients("var", [&](const std::vector<Tensor>& in) { return dlcraft::var(in[0], dims, correction, keep); }, {x.clone()});
        check_gradients("std", [&](const std::vector<Tensor>& in) { return dlcraft::std(in[0], dims, correction, keep); }, {x.clone()});
      }
    }
  }
  CHECK(dlcraft::var(x, {1}, 1, true).shape() == Shape{3, 1, 7});
  // torch.var([1, 2, 3, 4]) = 1.6667 (Bessel), correction 0: 1.25.
  Tensor v = Tensor::from_vector({1, 2, 3, 4}, {4});
  CHECK(dlcraft::var(v).item() == Approx(5.0 / 3));
  CHECK(dlcraft::var(v, {}, 0).item() == Approx(1.25));
  CHECK(dlcraft::std(v, {0}, 0).item() == Approx(std::sqrt(1.25)));
  // A large mean does not cancel the variance away (two passes).
  CHECK(dlcraft::var(Tensor::from_vector({10000.5f, 10001.5f}, {2})).item() == Approx(0.5));
}

TEST_CASE("var / std where correction >= count, and std's gradient at 0", "[reductions]") {
  // torch: the divisor is max(0, count - correction): inf, or NaN when every deviation is 0.
  CHECK(std::isinf(dlcraft::var(Tensor::from_vector({1, 2}, {2}), {}, 2).item()));
  CHECK(std::isnan(dlcraft::var(Tensor::from_vector({3}, {1})).item()));
  CHECK(std::isinf(dlcraft::std(Tensor::from_vector({1, 2}, {2}), {}, 5).item()));
  // Constant input: std 0, its gradient 0 (torch masks 0/0 to 0).
  Tensor c = full({4}, 2.5f).requires_grad_(true);
  Tensor s = dlcraft::std(c);
  CHECK(s.item() == 0.0f);
  s.backward();
  CHECK(c.grad().to_vector() == std::vector<float>(4, 0.0f));
}

TEST_CASE("softmax / log_softmax / logsumexp over every dim: values and gradients", "[softmax]") {
  Generator gen(4);
  Tensor x = uniform_tensor({3, 5, 7}, gen, -3, 3);
  for (int64_t dim : {0, 1, 2, -1, -3}) {
    INFO("dim " << dim);
    const int64_t d = dim < 0 ? dim + 3 : dim;
    // References: per line (the groups of a reduction over d), in double.
    const auto lines = groups(x, {d});
    std::vector<double> lse;
    for (const auto& g : lines) {
      double m = *std::max_element(g.begin(), g.end()), s = 0;
      for (double a : g) s += std::exp(a - m);
      lse.push_back(m + std::log(s));
    }
    check_close(logsumexp(x, dim).to_vector(), lse);
    CHECK(logsumexp(x, dim, true).shape() == [&] { Shape k = x.shape(); k[d] = 1; return k; }());
    // softmax(x)[e] = exp(x[e] - lse of e's line): broadcast lse back.
    Tensor lse_kept = reshape(logsumexp(x, dim, true), {-1});
    std::vector<float> xv = x.to_vector(), lk = lse_kept.to_vector();
    std::vector<double> ref_soft(xv.size()), ref_log(xv.size());
    const Shape& s = x.shape();
    for (int64_t e = 0; e < x.numel(); ++e) {
      int64_t idx[3] = {e / (s[1] * s[2]), (e / s[2]) % s[1], e % s[2]};
      idx[d] = 0;
      const int64_t line = (idx[0] * (d == 1 ? 1 : s[1]) + idx[1]) * (d == 2 ? 1 : s[2]) + idx[2];
      ref_log[e] = double(xv[e]) - lk[line];
      ref_soft[e] = std::exp(ref_log[e]);
    }
    check_close(softmax(x, dim).to_vector(), ref_soft);
    check_close(log_softmax(x, dim).to_vector(), ref_log);
    check_gradients("softmax", [&](const std::vector<Tensor>& in) { return softmax(in[0], dim); }, {x.clone()});
    check_gradients("log_softmax", [&](const std::vector<Tensor>& in) { return log_softmax(in[0], dim); }, {x.clone()});
    for (bool keep : {false, true})
      check_gradients("logsumexp", [&](const std::vector<Tensor>& in) { return logsumexp(in[0], dim, keep); }, {x.clone()});
  }
  // Each softmax line sums to 1.
  std::vector<float> p = sum(softmax(x, 1), 1).to_vector();
  for (float v : p) CHECK(v == Approx(1.0f).epsilon(1e-5));
  CHECK(log_softmax(x).shape() == x.shape());  // default dim -1
}

TEST_CASE("softmax and logsumexp are stable for large and infinite inputs", "[softmax]") {
  Tensor big = Tensor::from_vector({1000, 1001, 1002, -1000, -1001, -1002}, {2, 3});
  // softmax([0, 1, 2]) = [0.0900306, 0.244728, 0.665241]
  std::vector<float> p = softmax(big, 1).to_vector();
  CHECK(p[0] == Approx(0.0900306));
  CHECK(p[2] == Approx(0.665241));
  CHECK(p[3] == Approx(0.665241));
  std::vector<float> l = log_softmax(big, 1).to_vector();
  CHECK(l[2] == Approx(-0.407606));
  CHECK(l[5] == Approx(-2.407606));
  std::vector<float> lse = logsumexp(big, 1).to_vector();
  CHECK(lse[0] == Approx(1002.407606));
  CHECK(lse[1] == Approx(-999.592394));
  // torch: all -inf gives -inf; a +inf gives +inf; a -inf entry gets probability 0.
  const float inf = INFINITY;
  std::vector<float> e = logsumexp(Tensor::from_vector({-inf, -inf, 1, inf}, {2, 2}), 1).to_vector();
  CHECK(e[0] == -inf);
  CHECK(e[1] == inf);
  std::vector<float> q = softmax(Tensor::from_vector({-inf, 0, 0}, {3}), 0).to_vector();
  CHECK(q == std::vector<float>{0, 0.5f, 0.5f});
  // NaN makes its whole line NaN, the others untouched.
  std::vector<float> n = softmax(Tensor::from_vector({1, NAN, 0, 0}, {2, 2}), 1).to_vector();
  CHECK(std::isnan(n[0]));
  CHECK(std::isnan(n[1]));
  CHECK(n[2] == 0.5f);
  // 0-d: softmax is 1, log_softmax 0, logsumexp the value.
  Tensor s = Tensor::from_vector({3}, {});
  CHECK(softmax(s, 0).item() == 1.0f);
  CHECK(log_softmax(s, -1).item() == 0.0f);
  CHECK(logsumexp(s, 0).item() == 3.0f);
}

TEST_CASE("softmax's saved output changed in place makes backward raise", "[softmax]") {
  Tensor x = Tensor::from_vector({1, 2, 3}, {3}).requires_grad_(true);
  Tensor y = softmax(x, 0);
  y.detach().fill_(0);
  CHECK_THROWS_AS(sum(y).backward(), AutogradError);
  Tensor z = dlcraft::std(x);
  z.detach().fill_(1);
  CHECK_THROWS_AS(z.backward(), AutogradError);
}

TEST_CASE("softmax's backward is the Jacobian-vector product y * (g - sum(g y))", "[softmax]") {
  Tensor x = Tensor::from_vector({0.5f, -1, 2}, {3}).requires_grad_(true);
  Tensor y = softmax(x, 0);
  const std::vector<float> g = {1, -2, 0.5f};
  y.backward(Tensor::from_vector(g, {3}));
  std::vector<float> yv = y.to_vector(), dx = x.grad().to_vector();
  double gy = 0;
  for (int j = 0; j < 3; ++j) gy += g[j] * yv[j];
  for (int j = 0; j < 3; ++j) CHECK(dx[j] == Approx(yv[j] * (g[j] - gy)).margin(1e-6));
  // log_softmax: dx = g - softmax * sum(g)
  Tensor x2 = Tensor::from_vector({0.5f, -1, 2}, {3}).requires_grad_(true);
  log_softmax(x2, 0).backward(Tensor::from_vector(g, {3}));
  std::vector<float> dx2 = x2.grad().to_vector();
  for (int j = 0; j < 3; ++j) CHECK(dx2[j] == Approx(g[j] - yv[j] * (1 - 2 + 0.5)).margin(1e-6));
}

// The CPU's walks of kernels/cpu/reduce_plan.hpp at odd sizes: one long contiguous run split
// into chunks (sum/mean/var/max over all), outputs contiguous in memory (column sums, dim 0 of
// a 3-d tensor), and ties and a NaN across chunk boundaries.
TEST_CASE("reductions over long runs and over columns match a double loop", "[reductions]") {
  Generator gen(11);
  auto sum_all = [](const std::vector<double>& v) {
    double s = 0;
    for (double a : v) s += a;
    return s;
  };
  auto max_of = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
  auto min_of = [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); };
  Tensor big = add(Tensor::normal({100003}, gen), 3.0);  // a mean far from 0 for var
  check_close(sum(big).to_vector(), reduce_ref(big, {}, sum_all), 1e-6);
  check_close(mean(big).to_vector(), reduce_ref(big, {}, ref_mean), 1e-6);
  check_close(var(big).to_vector(), reduce_ref(big, {}, [](const std::vector<double>& v) { return ref_var(v, 1); }), 1e-5);
  check_close(max(big).to_vector(), reduce_ref(big, {}, max_of), 0);
  check_close(min(big).to_vector(), reduce_ref(big, {}, min_of), 0);
  for (const Shape& shape : {Shape{1000, 37}, Shape{3, 20001}, Shape{20001, 3}, Shape{9, 40, 33}}) {
    INFO("shape " << to_string(shape));
    Tensor x = Tensor::normal(shape, gen);
    for (const std::vector<int64_t>& dims :
         {std::vector<int64_t>{0}, std::vector<int64_t>{1}, std::vector<int64_t>{}}) {
      check_close(sum(x, dims).to_vector(), reduce_ref(x, dims, sum_all), 1e-5);
      check_close(mean(x, dims).to_vector(), reduce_ref(x, dims, ref_mean), 1e-5);
      check_close(var(x, dims).to_vector(), reduce_ref(x, dims, [](const std::vector<double>& v) { return ref_var(v, 1); }), 1e-5);
    }
    for (int64_t d : {0, 1}) {
      const ValuesIndices mx = max(x, d), mn = min(x, d);
      check_close(mx.values.to_vector(), reduce_ref(x, {d}, max_of), 0);
      check_close(mn.values.to_vector(), reduce_ref(x, {d}, min_of), 0);
      // The index points at the value along d.
      CHECK(squeeze(gather(x, d, unsqueeze(mx.indices, d)), d).to_vector() == mx.values.to_vector());
    }
  }
  {
    Tensor x3 = Tensor::normal({9, 40, 33}, gen);
    check_close(sum(x3, {0, 2}).to_vector(), reduce_ref(x3, {0, 2}, sum_all), 1e-5);
    check_close(sum(x3, {0, 1}).to_vector(), reduce_ref(x3, {0, 1}, sum_all), 1e-5);
  }
  // Ties and NaNs across chunks of a long run: the first wins.
  std::vector<float> v(50001, 0.0f);
  v[9000] = 5.0f;
  v[30000] = 5.0f;
  v[45000] = -5.0f;
  Tensor t = Tensor::from_vector(v, {50001});
  CHECK(argmax(t).item<int64_t>() == 9000);
  CHECK(max(t, 0).indices.item<int64_t>() == 9000);
  CHECK(min(t, 0).indices.item<int64_t>() == 45000);
  v[20000] = NAN;
  v[40000] = NAN;
  Tensor tn = Tensor::from_vector(v, {50001});
  CHECK(max(tn, 0).indices.item<int64_t>() == 20000);
  CHECK(std::isnan(max(tn).item<float>()));
  // Column max: ties within a column, first row wins.
  Tensor cols = Tensor::from_vector({7, 7, 3, 1, 7, 2}, {3, 2});
  CHECK(max(cols, 0).indices.values_as<int64_t>() == std::vector<int64_t>{0, 0});
}
