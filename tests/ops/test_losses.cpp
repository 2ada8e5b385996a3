// The losses as torch.nn.functional has them: mse_loss, l1_loss, binary_cross_entropy (+ with
// logits), nll_loss and cross_entropy with int64 targets and label smoothing. Values against
// double loops written here (and a few numbers torch prints), every reduction, gradients to
// input and target against finite differences, errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "gradcheck.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

using PointRef = std::function<double(double x, double t)>;
using LossFn = std::function<Tensor(const Tensor&, const Tensor&, Reduction)>;

void check_close(const std::vector<float>& got, const std::vector<double>& ref, double tol = 1e-5) {
  REQUIRE(got.size() == ref.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", expected " << ref[i]);
    CHECK(std::fabs(got[i] - ref[i]) <= tol * std::max(1.0, std::fabs(ref[i])));
  }
}

// None gives the per-element losses, Sum their sum, Mean their mean (0-d results).
void check_reductions(const LossFn& f, const Tensor& x, const Tensor& t, const PointRef& ref) {
  std::vector<float> xv = x.to_vector(), tv = t.to_vector();
  std::vector<double> each;
  double total = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    each.push_back(ref(xv[i], tv[i]));
    total += each.back();
  }
  Tensor none = f(x, t, Reduction::None);
  CHECK(none.shape() == x.shape());
  check_close(none.to_vector(), each);
  Tensor s = f(x, t, Reduction::Sum), m = f(x, t, Reduction::Mean);
  CHECK(s.shape() == Shape{});
  CHECK(m.shape() == Shape{});
  check_close(s.to_vector(), {total});
  check_close(m.to_vector(), {total / double(xv.size())});
}

// Gradients to the input and the target, for every reduction.
void check_loss_gradients(const std::string& what, const LossFn& f, const Tensor& x, const Tensor& t,
                          float eps = 1e-2f) {
  for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum})
    check_gradients(what + " reduction " + std::to_string(int(r)),
                    [&](const std::vector<Tensor>& in) { return f(in[0], in[1], r); }, {x.clone(), t.clone()}, eps);
}

double clamped_log(double v) { return std::max(std::log(v), -100.0); }

// Row-wise references for (N, C) logits: -log_softmax and cross-entropy with smoothing.
std::vector<double> ce_ref(const Tensor& z, const std::vector<int64_t>& t, double eps) {
  const int64_t n = z.size(0), c = z.size(1);
  std::vector<float> v = z.to_vector();
  std::vector<double> out;
  for (int64_t i = 0; i < n; ++i) {
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < c; ++j) m = std::max(m, double(v[i * c + j]));
    for (int64_t j = 0; j < c; ++j) s += std::exp(v[i * c + j] - m);
    const double lse = m + std::log(s);
    double smooth = 0;  // mean over classes of -log p_j
    for (int64_t j = 0; j < c; ++j) smooth += (lse - v[i * c + j]) / double(c);
    out.push_back((1 - eps) * (lse - v[i * c + t[i]]) + eps * smooth);
  }
  return out;
}

}  // namespace

TEST_CASE("mse_loss and l1_loss: values for every reduction and gradients to both", "[losses]") {
  Generator gen(1);
  Tensor x = uniform_tensor({3, 5}, gen), t = uniform_tensor({3, 5}, gen);
  check_reductions(mse_loss, x, t, [](double a, double b) { return (a - b) * (a - b); });
  check_reductions(l1_loss, x, t, [](double a, double b) { return std::fabs(a - b); });
  check_loss_gradients("mse_loss", mse_loss, x, t);
  check_loss_gradients("l1_loss", l1_loss, x, t);
  Tensor x3 = uniform_tensor({2, 3, 7}, gen), t3 = uniform_tensor({2, 3, 7}, gen);
  check_loss_gradients("mse_loss 3-d", mse_loss, x3, t3);
  // torch: F.mse_loss([1, 2, 3], [1, 0, 0]) = 13/3; F.l1_loss = 5/3. The default is Mean.
  Tensor a = Tensor::from_vector({1, 2, 3}, {3}), b = Tensor::from_vector({1, 0, 0}, {3});
  CHECK(mse_loss(a, b).item() == Approx(13.0 / 3));
  CHECK(l1_loss(a, b).item() == Approx(5.0 / 3));
  // l1's gradient is sign(x - t): 0 where they are equal (torch).
  Tensor xa = a.clone().requires_grad_(true);
  l1_loss(xa, b, Reduction::Sum).backward();
  CHECK(xa.grad().to_vector() == std::vector<float>{0, 1, 1});
}

TEST_CASE("losses give the target no gradient unless it requires one", "[losses]") {
  Generator gen(2);
  Tensor x = uniform_tensor({4}, gen).requires_grad_(true), t = uniform_tensor({4}, gen);
  mse_loss(x, t).backward();
  CHECK(x.grad().defined());
  CHECK_FALSE(t.grad().defined());
  Tensor x2 = uniform_tensor({4}, gen), t2 = uniform_tensor({4}, gen).requires_grad_(true);
  Tensor l = l1_loss(x2, t2, Reduction::Sum);
  l.backward();
  CHECK_FALSE(x2.grad().defined());
  std::vector<float> xv = x2.to_vector(), tv = t2.to_vector(), g = t2.grad().to_vector();
  for (int i = 0; i < 4; ++i) CHECK(g[i] == (xv[i] > tv[i] ? -1.0f : 1.0f));
}

TEST_CASE("binary_cross_entropy: values, the -100 clamp, gradients, probabilities checked", "[losses]") {
  Generator gen(3);
  Tensor p = uniform_tensor({3, 5}, gen, 0.05f, 0.95f), t = uniform_tensor({3, 5}, gen, 0, 1);
  check_reductions(binary_cross_entropy, p, t, [](double a, double b) {
    return -(b * clamped_log(a) + (1 - b) * clamped_log(1 - a));
  });
  // A small step: the log's curvature near 0 and 1 would look like a kink at 1e-2.
  check_loss_gradients("binary_cross_entropy", binary_cross_entropy, p, t, 2e-3f);
  // torch: F.binary_cross_entropy([0, 1, 0.5], [1, 1, 0], reduction='none') = [100, 0, 0.6931]
  std::vector<float> v = binary_cross_entropy(Tensor::from_vector({0, 1, 0.5f}, {3}),
                                              Tensor::from_vector({1, 1, 0}, {3}), Reduction::None).to_vector();
  CHECK(v[0] == Approx(100));
  CHECK(v[1] == 0.0f);
  CHECK(v[2] == Approx(std::log(2.0)));
  // Outside [0, 1] (or NaN): an error naming the value, as torch raises.
  CHECK_THROWS_AS(binary_cross_entropy(Tensor::from_vector({0.5f, 1.5f}, {2}), zeros({2})), ArgumentError);
  CHECK_THROWS_WITH(binary_cross_entropy(Tensor::from_vector({-0.25f}, {1}), zeros({1})),
                    Catch::Contains("binary_cross_entropy") && Catch::Contains("-0.25"));
  CHECK_THROWS_AS(binary_cross_entropy(Tensor::from_vector({NAN}, {1}), zeros({1})), ArgumentError);
}

TEST_CASE("binary_cross_entropy_with_logits: stable for large logits, gradients", "[losses]") {
  Generator gen(4);
  Tensor x = uniform_tensor({4, 7}, gen, -4, 4), t = uniform_tensor({4, 7}, gen, 0, 1);
  auto ref = [](double a, double b) {
    const double s = 1 / (1 + std::exp(-a));
    return -(b * std::log(s) + (1 - b) * std::log(1 - s));
  };
  check_reductions(binary_cross_entropy_with_logits, x, t, ref);
  check_loss_gradients("binary_cross_entropy_with_logits", binary_cross_entropy_with_logits, x, t);
  // It equals BCE of sigmoid(x) where that is finite...
  Tensor sig = Tensor::from_vector({0.5f}, {1});
  CHECK(binary_cross_entropy_with_logits(zeros({1}), ones({1})).item() ==
        Approx(binary_cross_entropy(sig, ones({1})).item()));
  // ...and stays exact where sigmoid rounds to 0 or 1: loss(-200, 1) = 200, loss(200, 0) = 200.
  std::vector<float> big = binary_cross_entropy_with_logits(Tensor::from_vector({-200, 200, 200}, {3}),
                                                            Tensor::from_vector({1, 0, 1}, {3}),
                                                            Reduction::None).to_vector();
  CHECK(big[0] == Approx(200));
  CHECK(big[1] == Approx(200));
  CHECK(big[2] == 0.0f);
  // d/dx = sigmoid(x) - t, d/dt = -x.
  Tensor xl = Tensor::from_vector({0, 2}, {2}).requires_grad_(true), tl = Tensor::from_vector({1, 0}, {2}).requires_grad_(true);
  binary_cross_entropy_with_logits(xl, tl, Reduction::Sum).backward();
  CHECK(xl.grad().to_vector()[0] == Approx(-0.5));
  CHECK(xl.grad().to_vector()[1] == Approx(1 / (1 + std::exp(-2.0))));
  CHECK(tl.grad().to_vector() == std::vector<float>{0, -2});
}

TEST_CASE("nll_loss: values, reductions, gradient", "[losses]") {
  Generator gen(5);
  Tensor lp = uniform_tensor({5, 3}, gen, -3, 0);
  const std::vector<int64_t> tv = {2, 0, 1, 1, 2};
  Tensor t = Tensor::from_vector(tv, {5});
  std::vector<float> v = lp.to_vector();
  double total = 0;
  std::vector<double> each;
  for (int i = 0; i < 5; ++i) {
    each.push_back(-v[i * 3 + tv[i]]);
    total += each.back();
  }
  check_close(nll_loss(lp, t, Reduction::None).to_vector(), each);
  check_close(nll_loss(lp, t, Reduction::Sum).to_vector(), {total});
  check_close(nll_loss(lp, t).to_vector(), {total / 5});
  for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum})
    check_gradients("nll_loss", [&](const std::vector<Tensor>& in) { return nll_loss(in[0], t, r); }, {lp.clone()});
  // nll of log_softmax is cross_entropy.
  CHECK(nll_loss(log_softmax(lp, 1), t).item() == Approx(cross_entropy(lp, t).item()));
}

TEST_CASE("cross_entropy with int64 targets: values, reductions, label smoothing, gradients", "[losses]") {
  Generator gen(6);
  for (Shape shape : {Shape{5, 3}, Shape{1, 7}, Shape{9, 1}, Shape{4, 11}}) {
    const int64_t n = shape[0], c = shape[1];
    Tensor z = uniform_tensor(shape, gen, -3, 3);
    std::vector<int64_t> tv(n);
    for (auto& v : tv) v = int64_t(gen.below(uint64_t(c)));
    Tensor t = Tensor::from_vector(tv, {n});
    for (double eps : {0.0, 0.1, 0.35, 1.0}) {
      INFO("shape " << to_string(shape) << " label_smoothing " << eps);
      const std::vector<double> each = ce_ref(z, tv, eps);
      double total = 0;
      for (double e : each) total += e;
      check_close(cross_entropy(z, t, Reduction::None, eps).to_vector(), each);
      check_close(cross_entropy(z, t, Reduction::Sum, eps).to_vector(), {total});
      check_close(cross_entropy(z, t, Reduction::Mean, eps).to_vector(), {total / double(n)});
      for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum})
        check_gradients("cross_entropy", [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], t, r, eps); },
                        {z.clone()});
    }
  }
  // torch: F.cross_entropy([[1., 2., 3.]], [0], label_smoothing=0.1) = 2.3076
  Tensor z = Tensor::from_vector({1, 2, 3}, {1, 3});
  Tensor t0 = Tensor::from_vector(std::vector<int64_t>{0}, {1});
  CHECK(cross_entropy(z, t0, Reduction::Mean, 0.1).item() == Approx(2.3076060));
  CHECK(cross_entropy(z, t0).item() == Approx(2.4076060));
  // The same as the trainer's cross_entropy(logits, int32 labels) and as nll(log_softmax).
  Generator g2(7);
  Tensor logits = uniform_tensor({6, 4}, g2);
  std::vector<int32_t> labels = {0, 3, 1, 2, 2, 0};
  Tensor t = Tensor::from_vector(std::vector<int64_t>(labels.begin(), labels.end()), {6});
  CHECK(cross_entropy(logits, t).item() == Approx(cross_entropy(logits, labels).item()));
  // Stable for huge logits: the loss of a confident right answer is 0, a wrong one the gap.
  Tensor huge = Tensor::from_vector({1000, -1000, -1000, 1000}, {2, 2});
  std::vector<float> hv = cross_entropy(huge, Tensor::from_vector(std::vector<int64_t>{0, 0}, {2}),
                                        Reduction::None).to_vector();
  CHECK(hv[0] == 0.0f);
  CHECK(hv[1] == Approx(2000));
}

TEST_CASE("losses refuse bad targets, shapes and dtypes with the op's name", "[losses]") {
  Tensor z = zeros({4, 3});
  Tensor t = Tensor::from_vector(std::vector<int64_t>{0, 2, 1, 3}, {4});
  CHECK_THROWS_AS(cross_entropy(z, t), ArgumentError);
  CHECK_THROWS_WITH(cross_entropy(z, t), Catch::Contains("cross_entropy") && Catch::Contains("target 3") &&
                                             Catch::Contains("[0, 3)"));
  CHECK_THROWS_WITH(nll_loss(z, Tensor::from_vector(std::vector<int64_t>{0, -1, 0, 0}, {4})),
                    Catch::Contains("nll_loss") && Catch::Contains("target -1"));
  CHECK_THROWS_WITH(cross_entropy(z, zeros({4})), Catch::Contains("cross_entropy: target must be int64, got float32"));
  CHECK_THROWS_AS(nll_loss(z, zeros({4})), DTypeError);
  CHECK_THROWS_AS(cross_entropy(z, Tensor::from_vector(std::vector<int64_t>{0, 1}, {2})), ShapeError);
  CHECK_THROWS_AS(cross_entropy(zeros({4, 3, 2}), t), ShapeError);
  CHECK_THROWS_AS(cross_entropy(z, Tensor::from_vector(std::vector<int64_t>{0, 1, 1, 0}, {4}), Reduction::Mean, 1.5),
                  ArgumentError);
  CHECK_THROWS_WITH(mse_loss(zeros({4, 3}), zeros({4})), Catch::Contains("mse_loss: input [4,3] vs target [4]"));
  CHECK_THROWS_AS(l1_loss(zeros({2}), zeros({3})), ShapeError);
  CHECK_THROWS_AS(binary_cross_entropy_with_logits(zeros({2, 1}), zeros({2})), ShapeError);
  CHECK_THROWS_WITH(mse_loss(zeros({2}), arange(2, DType::Int64)),
                    Catch::Contains("mse_loss: target must be float32, got int64"));
  CHECK_THROWS_AS(binary_cross_entropy(arange(2, DType::Int64), zeros({2})), DTypeError);
  CHECK_THROWS_AS(mse_loss(Tensor(), zeros({2})), ArgumentError);
}

TEST_CASE("a loss's saved input changed in place makes backward raise", "[losses]") {
  Tensor x = Tensor::from_vector({1, 2}, {2}).requires_grad_(true);
  Tensor t = Tensor::from_vector({0, 0}, {2});
  Tensor l = mse_loss(x, t);
  t.fill_(5);
  CHECK_THROWS_AS(l.backward(), AutogradError);
}
