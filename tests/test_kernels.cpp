// The fast CPU kernels against the reference loops on random shapes (odd sizes, stride 2,
// padding 0/1/2, each side its own, 1x1 pointwise, batch 1 and 33), and the numerical
// properties of the loss and pooling.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "kernels/cpu/kernels_cpu.hpp"

using namespace dlcraft;

namespace {
std::vector<float> randv(size_t n, Generator& g) {
  std::vector<float> v(n);
  for (float& x : v) x = g.normal();
  return v;
}

// Max relative error, scaled by the largest magnitude in the reference.
double max_rel_error(const std::vector<float>& a, const std::vector<float>& b) {
  double scale = 1e-6, err = 0;
  for (float x : b) scale = std::max(scale, double(std::fabs(x)));
  for (size_t i = 0; i < a.size(); ++i) err = std::max(err, double(std::fabs(a[i] - b[i])));
  return err / scale;
}
}  // namespace

TEST_CASE("conv2d fast kernels agree with the reference loops") {
  Generator g(7);
  for (int trial = 0; trial < 24; ++trial) {
    const int batches[] = {1, 2, 3, 33};
    // Square stride/padding on even trials, each side its own on odd ones.
    const int stride_h = int(1 + g.below(2)), pad_h = int(g.below(3));
    const int stride_w = trial % 2 ? int(1 + g.below(2)) : stride_h, pad_w = trial % 2 ? int(g.below(3)) : pad_h;
    Conv2dShape s{batches[trial % 4], int(1 + g.below(6)), int(3 + g.below(12)), int(3 + g.below(12)),
                  int(1 + g.below(7)), int(1 + g.below(3) * 2), int(1 + g.below(3) * 2),
                  stride_h, stride_w, pad_h, pad_w};
    if (trial % 6 == 5) s.r = s.s = 1, s.stride_h = s.stride_w = 1, s.pad_h = s.pad_w = 0;  // pointwise: no im2col
    if (s.h + 2 * s.pad_h < s.r || s.w + 2 * s.pad_w < s.s) continue;
    INFO("n " << s.n << " c " << s.c << " h " << s.h << " w " << s.w << " k " << s.k << " r " << s.r
              << " s " << s.s << " stride " << s.stride_h << "," << s.stride_w << " pad " << s.pad_h << ","
              << s.pad_w);
    const size_t xs = size_t(s.n) * s.c * s.h * s.w, ws = size_t(s.k) * s.c * s.r * s.s;
    const size_t ys = size_t(s.n) * s.k * s.out_h() * s.out_w();
    auto x = randv(xs, g), w = randv(ws, g), b = randv(s.k, g), dy = randv(ys, g);
    // Outputs start poisoned (NaN) so an element a kernel forgets to write fails the test.
    const float nan = std::nanf("");
    std::vector<float> y1(ys, nan), y2(ys, nan), dx1(xs, nan), dx2(xs, nan), dw1(ws, nan), dw2(ws, nan),
        db1(s.k, nan), db2(s.k, nan);
    conv2d_forward_cpu(s, x.data(), w.data(), b.data(), y1.data());
    conv2d_forward_reference_cpu(s, x.data(), w.data(), b.data(), y2.data());
    CHECK(max_rel_error(y1, y2) < 1e-5);
    conv2d_backward_input_cpu(s, dy.data(), w.data(), dx1.data());
    conv2d_backward_input_reference_cpu(s, dy.data(), w.data(), dx2.data());
    CHECK(max_rel_error(dx1, dx2) < 1e-5);
    conv2d_backward_weight_cpu(s, x.data(), dy.data(), dw1.data(), db1.data());
    conv2d_backward_weight_reference_cpu(s, x.data(), dy.data(), dw2.data(), db2.data());
    CHECK(max_rel_error(dw1, dw2) < 1e-5);
    CHECK(max_rel_error(db1, db2) < 1e-5);
  }
}

TEST_CASE("linear fast kernels agree with the reference loops") {
  Generator g(8);
  for (int trial = 0; trial < 12; ++trial) {
    LinearShape s{int(1 + g.below(40)), int(1 + g.below(70)), int(1 + g.below(50))};
    INFO("n " << s.n << " in " << s.in << " out " << s.out);
    auto x = randv(size_t(s.n) * s.in, g), w = randv(size_t(s.out) * s.in, g), b = randv(s.out, g),
         dy = randv(size_t(s.n) * s.out, g);
    const float nan = std::nanf("");
    std::vector<float> y1(dy.size(), nan), y2(dy.size(), nan), dx1(x.size(), nan), dx2(x.size(), nan),
        dw1(w.size(), nan), dw2(w.size(), nan), db1(s.out, nan), db2(s.out, nan);
    linear_forward_cpu(s, x.data(), w.data(), b.data(), y1.data());
    linear_forward_reference_cpu(s, x.data(), w.data(), b.data(), y2.data());
    CHECK(max_rel_error(y1, y2) < 1e-5);
    linear_backward_cpu(s, x.data(), w.data(), dy.data(), dx1.data(), dw1.data(), db1.data());
    linear_backward_reference_cpu(s, x.data(), w.data(), dy.data(), dx2.data(), dw2.data(), db2.data());
    CHECK(max_rel_error(dx1, dx2) < 1e-5);
    CHECK(max_rel_error(dw1, dw2) < 1e-5);
    CHECK(max_rel_error(db1, db2) < 1e-5);
  }
}

TEST_CASE("max_pool2d sends the gradient to the max element") {
  // One 4x4 plane, 2x2 windows: each window's max is at a known place.
  std::vector<float> x{1, 9, 2, 3,   //
                       4, 5, 8, 1,   //
                       7, 0, 1, 2,   //
                       3, 2, 6, 5};
  Tensor t = Tensor::from_vector(x, {1, 1, 4, 4}).requires_grad_();
  Tensor y = max_pool2d(t, 2, 2);
  CHECK(y.to_vector() == std::vector<float>{9, 8, 7, 6});
  y.backward(Tensor::from_vector({10, 20, 30, 40}, {1, 1, 2, 2}));
  CHECK(t.grad().to_vector() == std::vector<float>{0, 10, 0, 0,  //
                                                   0, 0, 20, 0,  //
                                                   30, 0, 0, 0,  //
                                                   0, 0, 40, 0});
  // avg pool spreads it evenly instead.
  Tensor a = Tensor::from_vector(x, {1, 1, 4, 4}).requires_grad_();
  Tensor ya = avg_pool2d(a, 2, 2);
  CHECK(ya.to_vector() == std::vector<float>{4.75f, 3.5f, 3.0f, 3.5f});
  ya.backward(Tensor::from_vector({4, 8, 12, 16}, {1, 1, 2, 2}));
  CHECK(a.grad().to_vector() == std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
}

TEST_CASE("cross_entropy equals log-sum-exp computed in double") {
  Generator g(9);
  const int n = 7, classes = 10;
  std::vector<float> z = randv(n * classes, g);
  for (float& v : z) v *= 3;
  std::vector<int32_t> labels{0, 9, 4, 4, 1, 7, 2};
  double expected = 0;
  for (int i = 0; i < n; ++i) {
    double sum = 0;
    for (int j = 0; j < classes; ++j) sum += std::exp(double(z[i * classes + j]));
    expected += std::log(sum) - z[i * classes + labels[i]];
  }
  expected /= n;
  Tensor loss = cross_entropy(Tensor::from_vector(z, {n, classes}), labels);
  CHECK(loss.item() == Approx(expected).epsilon(1e-6));
}

TEST_CASE("cross_entropy is stable for large logits") {
  // exp(1000) overflows float and double; subtracting the row max keeps it finite.
  Tensor z = Tensor::from_vector({1000, 0, -1000, 500, 1000, 999}, {2, 3}).requires_grad_();
  Tensor loss = cross_entropy(z, {1, 2});
  // row 0: lse = 1000, loss = 1000 - 0; row 1: lse = 1000 + log(1 + e^-1), loss = lse - 999
  const double row1 = std::log1p(std::exp(-1.0)) + 1.0;
  CHECK(loss.item() == Approx((1000.0 + row1) / 2).epsilon(1e-6));
  loss.backward();
  for (float v : z.grad().to_vector()) CHECK(std::isfinite(v));
  CHECK(z.grad().to_vector()[0] == Approx(0.5));   // softmax 1, not the label: (1 - 0) / 2
  CHECK(z.grad().to_vector()[1] == Approx(-0.5));  // the label: (0 - 1) / 2
}

TEST_CASE("bad shapes and labels are reported naming the op") {
  Tensor x = Tensor::zeros({16, 127});
  Tensor w = Tensor::zeros({2048, 4096});
  CHECK_THROWS_WITH(linear(x, w, Tensor(), "fc1 (Linear)"), "fc1 (Linear): input [16,127] vs weight [2048,4096]");
  CHECK_THROWS_AS(conv2d(Tensor::zeros({1, 3, 8, 8}), Tensor::zeros({4, 2, 3, 3}), Tensor()), ShapeError);
  CHECK_THROWS_AS(conv2d(Tensor::zeros({1, 3, 2, 2}), Tensor::zeros({4, 3, 5, 5}), Tensor()), ShapeError);
  CHECK_THROWS_AS(max_pool2d(Tensor::zeros({1, 1, 1, 1}), 2), ShapeError);
  CHECK_THROWS_AS(cross_entropy(Tensor::zeros({2, 10}), {3, 10}), ArgumentError);
  CHECK_THROWS_AS(cross_entropy(Tensor::zeros({2, 10}), {3}), ShapeError);
  CHECK_THROWS_AS(add(Tensor::zeros({2}), Tensor::zeros({3})), ShapeError);
  CHECK_THROWS_AS(reshape(Tensor::zeros({2, 3}), {4, -1}), ShapeError);
  if (!cuda_available()) CHECK_THROWS_AS(Tensor::zeros({2}, Device::cuda()), DeviceError);
}

TEST_CASE("relu keeps NaN, as PyTorch does, on Inf, -0 and 0 in forward and backward") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  // PyTorch: relu(x) = clamp_min(x, 0) keeps NaN (and -0); its backward is
  // threshold_backward(dy, y, 0) = (y <= 0 ? 0 : dy), so a NaN input lets dy through.
  const std::vector<float> x{nan, inf, -inf, -0.0f, 0.0f, -1.0f, 2.0f, 1e-45f, -1e-45f};
  const std::vector<float> y{nan, inf, 0.0f, -0.0f, 0.0f, 0.0f, 2.0f, 1e-45f, 0.0f};
  const std::vector<float> dy{1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> dx{1, 2, 0, 0, 0, 0, 7, 8, 0};
  // Repeated past a vector width and an odd tail, so the SIMD loop and its remainder both run.
  const size_t reps = 37, k = x.size(), n = reps * k;
  std::vector<float> xs(n), dys(n);
  for (size_t i = 0; i < n; ++i) xs[i] = x[i % k], dys[i] = dy[i % k];
  Tensor t = Tensor::from_vector(xs, {int64_t(n)});
  t.requires_grad_();
  Tensor r = relu(t);
  r.backward(Tensor::from_vector(dys, {int64_t(n)}));
  const std::vector<float> got_y = r.to_vector(), got_dx = t.grad().to_vector();
  for (size_t i = 0; i < n; ++i) {
    INFO("x = " << xs[i] << " at " << i);
    if (std::isnan(y[i % k]))
      CHECK(std::isnan(got_y[i]));
    else
      CHECK(got_y[i] == y[i % k]);
    CHECK(std::signbit(got_y[i]) == std::signbit(y[i % k]));
    CHECK(got_dx[i] == dx[i % k]);
  }
}

TEST_CASE("max_pool2d keeps a NaN in its window, as PyTorch does") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // One 2x4 plane, two 2x2 windows; the NaN sits in the second, not at its first position.
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, nan}, {1, 1, 2, 4});
  x.requires_grad_();
  Tensor y = max_pool2d(x, 2);
  const std::vector<float> v = y.to_vector();
  CHECK(v[0] == 6.0f);
  CHECK(std::isnan(v[1]));
  y.backward(Tensor::from_vector({1, 1}, {1, 1, 1, 2}));
  CHECK(x.grad().to_vector()[7] == 1.0f);  // the gradient goes to the NaN that won
}
