// batch_norm (배치 정규화) and dropout on the CPU: values against a double-precision
// computation written here (2-D, 3-D, 4-D, odd sizes), training and eval, the running
// statistics after one and two steps, affine or not, gradients against finite differences,
// the worked example of docs/batch_norm.md, and every error. GPU: tests/gpu/gpu_batch_norm.cpp;
// PyTorch: test_golden_batch_norm.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "gradcheck.hpp"
#include "layers/layers.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

using In = std::vector<Tensor>;

// What batch_norm must give, in double: y, and the running statistics after the call.
struct Expected {
  std::vector<double> y, running_mean, running_var;
};

// x (N, C, inner...) flattened; rm/rv empty when there are no running statistics, w/b empty
// for affine=False.
Expected reference(const Tensor& x, const std::vector<float>& rm, const std::vector<float>& rv,
                   const std::vector<float>& w, const std::vector<float>& b, bool training, double momentum,
                   double eps) {
  const int64_t n = x.size(0), c = x.size(1), inner = x.numel() / (n * c), m = n * inner;
  const std::vector<float> v = x.to_vector();
  Expected e;
  e.y.resize(v.size());
  e.running_mean.assign(rm.begin(), rm.end());
  e.running_var.assign(rv.begin(), rv.end());
  for (int64_t ch = 0; ch < c; ++ch) {
    auto at = [&](int64_t k) { return (k / inner * c + ch) * inner + k % inner; };
    double mean = 0, var = 0;
    if (training) {
      for (int64_t k = 0; k < m; ++k) mean += v[at(k)];
      mean /= double(m);
      for (int64_t k = 0; k < m; ++k) var += (v[at(k)] - mean) * (v[at(k)] - mean);
      if (!rm.empty()) {
        e.running_mean[ch] = (1 - momentum) * rm[ch] + momentum * mean;
        e.running_var[ch] = (1 - momentum) * rv[ch] + momentum * var / double(m - 1);
      }
      var /= double(m);
    } else {
      mean = rm[ch];
      var = rv[ch];
    }
    for (int64_t k = 0; k < m; ++k) {
      const double xhat = (v[at(k)] - mean) / std::sqrt(var + eps);
      e.y[at(k)] = xhat * (w.empty() ? 1.0 : w[ch]) + (b.empty() ? 0.0 : b[ch]);
    }
  }
  return e;
}

std::vector<double> as_double(const Tensor& t) { return t.values_as<double>(); }

Tensor vec(const std::vector<float>& v) { return Tensor::from_vector(v, {int64_t(v.size())}); }

std::vector<float> uniform_values(int64_t n, Generator& gen, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& a : v) a = gen.uniform(lo, hi);
  return v;
}

}  // namespace

TEST_CASE("batch_norm matches a double computation in 2-D 3-D and 4-D for training and eval with and without affine") {
  Generator gen(1);
  for (Shape shape : {Shape{6, 4}, Shape{3, 5, 7}, Shape{3, 5, 7, 3}, Shape{2, 1, 1, 9}, Shape{1, 3, 2, 2}}) {
    const int64_t c = shape[1];
    // Channels with different means and spreads, one far from 0 (a mean of 50 next to a
    // spread of 1: sum(x^2) - mean^2 would lose digits).
    std::vector<float> xv = uniform_tensor(shape, gen).to_vector();
    const int64_t inner = numel(shape) / (shape[0] * c);
    for (size_t e = 0; e < xv.size(); ++e) {
      const int64_t ch = int64_t(e) / inner % c;
      xv[e] = xv[e] * float(ch + 1) + (ch == c - 1 ? 50.0f : float(ch));
    }
    Tensor x = Tensor::from_vector(xv, shape);
    const std::vector<float> w = uniform_values(c, gen, 0.5f, 2.0f), b = uniform_values(c, gen, -1.0f, 1.0f);
    const std::vector<float> rm0 = uniform_values(c, gen, -1.0f, 1.0f), rv0 = uniform_values(c, gen, 0.5f, 2.0f);
    for (bool affine : {true, false}) {
      const std::vector<float> wv = affine ? w : std::vector<float>(), bv = affine ? b : std::vector<float>();
      Tensor wt = affine ? vec(w) : Tensor(), bt = affine ? vec(b) : Tensor();
      for (bool training : {true, false}) {
        INFO(to_string(shape) << (affine ? " affine" : " not affine") << (training ? " training" : " eval"));
        Tensor rm = vec(rm0), rv = vec(rv0);
        const Expected e = reference(x, rm0, rv0, wv, bv, training, 0.1, 1e-5);
        Tensor y = batch_norm(x, rm, rv, wt, bt, training, 0.1, 1e-5);
        CHECK(y.shape() == shape);
        CHECK(relative_error(as_double(y), e.y) < 1e-5);
        // Training updates the running statistics; eval leaves them as they were.
        CHECK(relative_error(as_double(rm), e.running_mean) < 1e-6);
        CHECK(relative_error(as_double(rv), e.running_var) < 1e-6);
      }
      if (numel(shape) / c > 1) {  // training without running statistics (track_running_stats=False)
        Tensor y = batch_norm(x, Tensor(), Tensor(), wt, bt, true, 0.1, 1e-5);
        CHECK(relative_error(as_double(y), reference(x, {}, {}, wv, bv, true, 0.1, 1e-5).y) < 1e-5);
      }
    }
  }
}

TEST_CASE("batch_norm: the running statistics after one and two training steps") {
  Generator gen(2);
  const Shape shape{4, 3, 5};
  Tensor x1 = uniform_tensor(shape, gen, -1, 3), x2 = uniform_tensor(shape, gen, -4, 0);
  for (double momentum : {0.1, 0.5, 1.0, 0.0}) {
    INFO("momentum " << momentum);
    Tensor rm = zeros({3}), rv = ones({3});
    std::vector<float> rm_ref(3, 0.0f), rv_ref(3, 1.0f);
    for (const Tensor& x : {x1, x2}) {
      batch_norm(x, rm, rv, Tensor(), Tensor(), true, momentum, 1e-5);
      const Expected e = reference(x, rm_ref, rv_ref, {}, {}, true, momentum, 1e-5);
      rm_ref.assign(e.running_mean.begin(), e.running_mean.end());
      rv_ref.assign(e.running_var.begin(), e.running_var.end());
      CHECK(relative_error(as_double(rm), e.running_mean) < 1e-6);
      CHECK(relative_error(as_double(rv), e.running_var) < 1e-6);
    }
    // Evaluation with the statistics two steps made.
    Tensor y = batch_norm(x1, rm, rv, Tensor(), Tensor(), false);
    CHECK(relative_error(as_double(y), reference(x1, rm_ref, rv_ref, {}, {}, false, 0, 1e-5).y) < 1e-5);
  }
}

TEST_CASE("batch_norm writes the running statistics in place and bumps their version") {
  Generator gen(3);
  Tensor x = uniform_tensor({4, 2, 3}, gen);
  Tensor rm = zeros({2}), rv = ones({2});
  const void* rm_memory = rm.raw_data();
  const uint64_t v_mean = rm.version(), v_var = rv.version();
  batch_norm(x, rm, rv, Tensor(), Tensor(), false);  // eval: untouched
  CHECK(rm.version() == v_mean);
  CHECK(rv.version() == v_var);
  // A tensor saved for backward before the update must refuse to be read after it.
  SavedTensor saved(rm);
  batch_norm(x, rm, rv, Tensor(), Tensor(), true);
  CHECK(rm.raw_data() == rm_memory);
  CHECK(rm.version() > v_mean);
  CHECK(rv.version() > v_var);
  CHECK_THROWS_AS(saved.get("test"), AutogradError);
}

TEST_CASE("batch_norm gradients of x weight and bias match finite differences in training and eval") {
  Generator gen(4);
  for (Shape shape : {Shape{5, 3}, Shape{3, 2, 5}, Shape{2, 3, 3, 2}}) {
    const int64_t c = shape[1];
    Tensor x = uniform_tensor(shape, gen), w = uniform_tensor({c}, gen, 0.5f, 2.0f),
           b = uniform_tensor({c}, gen);
    Tensor rm = uniform_tensor({c}, gen, -0.5f, 0.5f), rv = uniform_tensor({c}, gen, 0.5f, 1.5f);
    for (bool training : {true, false}) {
      const std::string what = to_string(shape) + (training ? " training" : " eval");
      // Fresh copies of the running statistics in every call: training updates them.
      check_gradients(what + ", affine",
                      [&](const In& in) { return batch_norm(in[0], rm.clone(), rv.clone(), in[1], in[2], training); },
                      {x.clone(), w.clone(), b.clone()});
      check_gradients(what + ", not affine",
                      [&](const In& in) { return batch_norm(in[0], rm.clone(), rv.clone(), Tensor(), Tensor(), training); },
                      {x.clone()});
    }
    check_gradients(to_string(shape) + " training, no running statistics",
                    [&](const In& in) { return batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true); },
                    {x.clone(), w.clone(), b.clone()});
  }
}

TEST_CASE("batch_norm: the training gradient of x sums to 0 per channel and only x may need it") {
  // Shifting a whole channel of x changes nothing after normalisation: sum_k dx_k = 0.
  Generator gen(5);
  Tensor x = uniform_tensor({4, 3, 6}, gen).requires_grad_();
  Tensor w = uniform_tensor({3}, gen, 0.5f, 2.0f);  // no grad: only dx is asked for
  Tensor y = batch_norm(x, Tensor(), Tensor(), w, Tensor(), true);
  y.backward(Tensor::normal(y.shape(), gen));
  const std::vector<float> g = x.grad().to_vector();
  for (int ch = 0; ch < 3; ++ch) {
    double s = 0, scale = 0;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 6; ++j) {
        s += g[(i * 3 + ch) * 6 + j];
        scale += std::fabs(g[(i * 3 + ch) * 6 + j]);
      }
    CHECK(scale > 0.1);
    CHECK(std::fabs(s) < 1e-5 * scale);
  }
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("batch_norm.md: the worked example") {
  // One channel of 8 values over N=2, H=2, W=2: mean 5, biased variance 4, std 2.
  Tensor x = Tensor::from_vector({2, 4, 4, 4, 5, 5, 7, 9}, {2, 1, 2, 2}).requires_grad_();
  Tensor w = Tensor::from_vector({2}, {1}).requires_grad_();
  Tensor b = Tensor::from_vector({1}, {1}).requires_grad_();
  Tensor rm = zeros({1}), rv = ones({1});
  Tensor y = batch_norm(x, rm, rv, w, b, true, 0.1, 0.0);
  const std::vector<float> expect_y = {-2, 0, 0, 0, 1, 1, 3, 5};  // 2 * xhat + 1, xhat = (x - 5) / 2
  CHECK(y.to_vector() == expect_y);
  CHECK(rm.item() == Approx(0.5).epsilon(1e-6));                       // 0.9 * 0 + 0.1 * 5
  CHECK(rv.item() == Approx(0.9 + 0.1 * 32.0 / 7.0).epsilon(1e-6));    // unbiased var 32/7
  // The gradient of y_0 alone: dbias = 1, dweight = xhat_0 = -1.5, and
  // dx = w invstd / M (M dy - 1 - xhat (-1.5)) = (8 dy - 1 + 1.5 xhat) / 8.
  y.backward(Tensor::from_vector({1, 0, 0, 0, 0, 0, 0, 0}, {2, 1, 2, 2}));
  CHECK(b.grad().item() == Approx(1.0));
  CHECK(w.grad().item() == Approx(-1.5));
  const std::vector<float> expect_dx = {0.59375f, -0.21875f, -0.21875f, -0.21875f, -0.125f, -0.125f, 0.0625f, 0.25f};
  const std::vector<float> dx = x.grad().to_vector();
  for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(expect_dx[i]).margin(1e-6));
  // Eval with running statistics 5 and 4 gives the same y, but its dx is only w invstd dy.
  x.zero_grad();
  Tensor y_eval = batch_norm(x, Tensor::from_vector({5}, {1}), Tensor::from_vector({4}, {1}), w, b, false, 0.1, 0.0);
  CHECK(y_eval.to_vector() == expect_y);
  y_eval.backward(Tensor::from_vector({1, 0, 0, 0, 0, 0, 0, 0}, {2, 1, 2, 2}));
  CHECK(x.grad().to_vector() == std::vector<float>{1, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("batch_norm refuses bad input with typed errors naming the op") {
  Tensor x = ones({4, 3, 5}), c3 = ones({3}), c2 = ones({2});
  auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THROWS_AS(batch_norm(x, c2, c3, Tensor(), Tensor(), true), ShapeError);
  CHECK_THAT(message([&] { batch_norm(x, c2, c3, Tensor(), Tensor(), true, 0.1, 1e-5, "bn1 (BatchNorm1d)"); }),
             Catch::Contains("bn1 (BatchNorm1d)") && Catch::Contains("running_mean [2]") &&
                 Catch::Contains("[4,3,5]"));
  CHECK_THROWS_AS(batch_norm(x, c3, c2, Tensor(), Tensor(), false), ShapeError);
  CHECK_THROWS_AS(batch_norm(x, c3, c3, c2, Tensor(), true), ShapeError);
  CHECK_THROWS_AS(batch_norm(x, c3, c3, c3, c2, true), ShapeError);
  CHECK_THROWS_AS(batch_norm(x, c3, c3, ones({3, 1}), c3, true), ShapeError);
  // Rank 1 and 5.
  CHECK_THROWS_AS(batch_norm(ones({6}), Tensor(), Tensor(), Tensor(), Tensor(), true), ShapeError);
  CHECK_THAT(message([] { batch_norm(ones({2, 3, 2, 2, 2}), Tensor(), Tensor(), Tensor(), Tensor(), true); }),
             Catch::Contains("batch_norm") && Catch::Contains("[2,3,2,2,2]"));
  // One value per channel: no spread to normalise by (torch's error). Eval is fine.
  CHECK_THAT(message([&] { batch_norm(ones({1, 3}), c3, c3, Tensor(), Tensor(), true); }),
             Catch::Contains("more than 1 value per channel") && Catch::Contains("[1,3]"));
  CHECK_THROWS_AS(batch_norm(ones({1, 3, 1, 1}), Tensor(), Tensor(), Tensor(), Tensor(), true), ShapeError);
  CHECK_NOTHROW(batch_norm(ones({1, 3, 2}), c3, c3, Tensor(), Tensor(), true));
  CHECK_NOTHROW(batch_norm(ones({1, 3}), c3, c3, Tensor(), Tensor(), false));
  // Eval needs running statistics; both or neither.
  CHECK_THAT(message([&] { batch_norm(x, Tensor(), Tensor(), c3, c3, false); }),
             Catch::Contains("batch_norm") && Catch::Contains("running"));
  CHECK_THROWS_AS(batch_norm(x, Tensor(), Tensor(), c3, c3, false), ArgumentError);
  CHECK_THROWS_AS(batch_norm(x, c3, Tensor(), Tensor(), Tensor(), true), ArgumentError);
  CHECK_THROWS_AS(batch_norm(x, c3, c3, Tensor(), Tensor(), true, -0.1), ArgumentError);
  CHECK_THROWS_AS(batch_norm(x, c3, c3, Tensor(), Tensor(), true, 0.1, -1e-5), ArgumentError);
  CHECK_THROWS_AS(batch_norm(x, c3, c3, Tensor(), Tensor(), true, 0.1, NAN), ArgumentError);
  CHECK_THROWS_AS(batch_norm(Tensor(), c3, c3, Tensor(), Tensor(), true), ArgumentError);
  CHECK_THROWS_AS(batch_norm(zeros({4, 3}, DType::Int64), Tensor(), Tensor(), Tensor(), Tensor(), true), DTypeError);
  CHECK_THROWS_AS(batch_norm(x, c3, c3, zeros({3}, DType::Int64), Tensor(), true), DTypeError);
}

TEST_CASE("BatchNorm2d and BatchNorm1d layers: training updates the buffers and eval uses them") {
  Generator gen(6);
  BatchNorm2d bn(3);
  Tensor x = uniform_tensor({2, 3, 4, 5}, gen, 1, 3);
  Tensor y = bn(x);
  const Expected e = reference(x, {0, 0, 0}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, true, 0.1, 1e-5);
  CHECK(relative_error(as_double(y), e.y) < 1e-5);
  CHECK(relative_error(as_double(bn.running_mean), e.running_mean) < 1e-6);
  CHECK(bn.num_batches_tracked.item<int64_t>() == 1);
  bn.eval();
  std::vector<float> rm = bn.running_mean.to_vector(), rv = bn.running_var.to_vector();
  Tensor y_eval = bn(x);
  CHECK(relative_error(as_double(y_eval), reference(x, rm, rv, {1, 1, 1}, {0, 0, 0}, false, 0, 1e-5).y) < 1e-5);
  CHECK(bn.running_mean.to_vector() == rm);  // eval leaves them alone
  BatchNorm1d bn1(4);
  CHECK(bn1(uniform_tensor({5, 4}, gen)).shape() == Shape{5, 4});
  CHECK_THROWS_AS(bn1(ones({1, 4})), ShapeError);  // one value per channel in training
}

// ---- dropout

TEST_CASE("dropout drops a fraction near p and scales the rest by 1/(1-p)") {
  Generator values(7);
  Tensor x = uniform_tensor({200, 501}, values, 1.0f, 2.0f);  // no zeros of its own
  const std::vector<float> xv = x.to_vector();
  for (double p : {0.1, 0.5, 0.8}) {
    INFO("p " << p);
    Generator gen(11);
    const std::vector<float> yv = dropout(x, p, true, &gen).to_vector();
    const float scale = float(1.0 / (1.0 - p));
    int64_t dropped = 0, wrong = 0;
    for (size_t i = 0; i < yv.size(); ++i) {
      if (yv[i] == 0.0f)
        ++dropped;
      else if (yv[i] != xv[i] * scale)
        ++wrong;
    }
    // 100,200 draws: the dropped fraction's standard deviation is at most 0.0016.
    CHECK(double(dropped) / double(yv.size()) == Approx(p).margin(0.01));
    CHECK(wrong == 0);
  }
}

TEST_CASE("dropout: the same seed gives the same mask and eval or p = 0 return x itself and p = 1 gives zeros") {
  Generator values(8);
  Tensor x = uniform_tensor({7, 13}, values, 1.0f, 2.0f);
  Generator g1(3), g2(3), g3(4);
  const std::vector<float> a = dropout(x, 0.5, true, &g1).to_vector();
  CHECK(a == dropout(x, 0.5, true, &g2).to_vector());
  CHECK(a != dropout(x, 0.5, true, &g3).to_vector());
  CHECK(a != dropout(x, 0.5, true, &g1).to_vector());  // the generator moved on
  manual_seed(42);
  const std::vector<float> d1 = dropout(x, 0.3, true).to_vector();  // the default generator
  manual_seed(42);
  CHECK(d1 == dropout(x, 0.3, true).to_vector());
  CHECK(dropout(x, 0.5, false).impl() == x.impl());
  CHECK(dropout(x, 0.0, true).impl() == x.impl());
  const std::vector<float> z = dropout(x, 1.0, true).to_vector();
  CHECK(z == std::vector<float>(z.size(), 0.0f));
}

TEST_CASE("dropout's gradient is the mask times 1/(1-p)") {
  Generator values(9);
  Tensor x = uniform_tensor({6, 11}, values, 1.0f, 2.0f).requires_grad_();
  Generator gen(5);
  Tensor y = dropout(x, 0.4, true, &gen);
  y.backward(ones(y.shape()));
  const std::vector<float> g = x.grad().to_vector(), yv = y.to_vector();
  int kept = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    CHECK(g[i] == (yv[i] == 0.0f ? 0.0f : float(1.0 / 0.6)));
    kept += yv[i] != 0.0f;
  }
  CHECK(kept > 0);
  CHECK(kept < int(g.size()));
  // Against finite differences, with the same mask in every call (a generator seeded anew).
  check_gradients("dropout", [](const In& in) {
    Generator g(5);
    return dropout(in[0], 0.4, true, &g);
  }, {uniform_tensor({4, 9}, values)});
  Tensor eval_x = uniform_tensor({3, 4}, values).requires_grad_();
  dropout(eval_x, 0.4, false).backward(ones({3, 4}));
  CHECK(eval_x.grad().to_vector() == std::vector<float>(12, 1.0f));
}

TEST_CASE("dropout refuses p outside 0 to 1") {
  Tensor x = ones({3});
  for (double p : {-0.1, 1.5, double(NAN)}) {
    CHECK_THROWS_AS(dropout(x, p, true), ArgumentError);
    CHECK_THROWS_AS(dropout(x, p, false), ArgumentError);
  }
  try {
    dropout(x, 2.0, true, nullptr, "classifier.2 (Dropout)");
    FAIL("no error");
  } catch (const ArgumentError& e) {
    CHECK_THAT(e.what(), Catch::Contains("classifier.2 (Dropout)") && Catch::Contains("2.0"));
  }
  CHECK_THROWS_AS(dropout(zeros({3}, DType::Int64), 0.5, true), DTypeError);
}
