// Per-side conv2d and pooling shapes and adaptive average pooling (core/ops.hpp, issue 11):
// values and gradients against direct double loops written here (rectangular kernels 1x3, 3x1,
// 7x7, stride (2, 1), padding (1, 2), no bias, padded max/avg pools, adaptive windows that
// overlap, shrink or repeat), gradients against finite differences, and the errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "core/threads.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "gradcheck.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

// ---- direct loops in double: the definitions, written without the kernels' index helpers

struct Dims {
  int64_t n, c, h, w;
};
Dims dims_of(const Tensor& x) { return {x.size(0), x.size(1), x.size(2), x.size(3)}; }

// y[n,k,p,q] = b[k] + sum_{c,i,j} w[k,c,i,j] x[n,c,p*sh+i-ph,q*sw+j-pw] (zeros outside), and
// for a given dy the gradients dx, dw, db of sum(y * dy).
struct ConvRef {
  std::vector<double> y, dx, dw, db;
};
ConvRef conv_ref(const Tensor& xt, const Tensor& wt, const Tensor& bt, Size2 st, Size2 pd, const Tensor& dyt) {
  const Dims d = dims_of(xt);
  const int64_t K = wt.size(0), R = wt.size(2), S = wt.size(3);
  const int64_t OH = (d.h + 2 * pd.h - R) / st.h + 1, OW = (d.w + 2 * pd.w - S) / st.w + 1;
  const std::vector<float> x = xt.to_vector(), w = wt.to_vector(), dy = dyt.to_vector();
  const std::vector<float> b = bt.defined() ? bt.to_vector() : std::vector<float>(size_t(K), 0.0f);
  ConvRef r;
  r.y.assign(size_t(d.n * K * OH * OW), 0.0);
  r.dx.assign(x.size(), 0.0);
  r.dw.assign(w.size(), 0.0);
  r.db.assign(size_t(K), 0.0);
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t p = 0; p < OH; ++p)
        for (int64_t q = 0; q < OW; ++q) {
          const int64_t o = ((n * K + k) * OH + p) * OW + q;
          double acc = b[size_t(k)];
          r.db[size_t(k)] += dy[size_t(o)];
          for (int64_t c = 0; c < d.c; ++c)
            for (int64_t i = 0; i < R; ++i)
              for (int64_t j = 0; j < S; ++j) {
                const int64_t hi = p * st.h + i - pd.h, wi = q * st.w + j - pd.w;
                if (hi < 0 || hi >= d.h || wi < 0 || wi >= d.w) continue;
                const size_t xi = size_t(((n * d.c + c) * d.h + hi) * d.w + wi);
                const size_t wi_ = size_t(((k * d.c + c) * R + i) * S + j);
                acc += double(w[wi_]) * x[xi];
                r.dx[xi] += double(dy[size_t(o)]) * w[wi_];
                r.dw[wi_] += double(dy[size_t(o)]) * x[xi];
              }
          r.y[size_t(o)] = acc;
        }
  return r;
}

// Padded pooling: the window of (p, q) is rows p*sh-ph .. p*sh-ph+kh-1 (columns likewise);
// max over the real inputs in it (the first maximum wins), avg = their sum / (kh*kw).
struct PoolRef {
  std::vector<double> y, dx;
};
PoolRef pool_ref(const Tensor& xt, Size2 k, Size2 st, Size2 pd, bool is_max, const Tensor& dyt) {
  const Dims d = dims_of(xt);
  const int64_t OH = (d.h + 2 * pd.h - k.h) / st.h + 1, OW = (d.w + 2 * pd.w - k.w) / st.w + 1;
  const std::vector<float> x = xt.to_vector(), dy = dyt.to_vector();
  PoolRef r;
  r.y.assign(size_t(d.n * d.c * OH * OW), 0.0);
  r.dx.assign(x.size(), 0.0);
  for (int64_t plane = 0; plane < d.n * d.c; ++plane)
    for (int64_t p = 0; p < OH; ++p)
      for (int64_t q = 0; q < OW; ++q) {
        const size_t o = size_t((plane * OH + p) * OW + q);
        double best = -INFINITY, sum = 0;
        int64_t at = -1;
        for (int64_t i = 0; i < k.h; ++i)
          for (int64_t j = 0; j < k.w; ++j) {
            const int64_t hi = p * st.h - pd.h + i, wi = q * st.w - pd.w + j;
            if (hi < 0 || hi >= d.h || wi < 0 || wi >= d.w) continue;
            const int64_t e = (plane * d.h + hi) * d.w + wi;
            sum += x[size_t(e)];
            if (at < 0 || x[size_t(e)] > best) best = x[size_t(e)], at = e;
          }
        const double area = double(k.h * k.w);
        r.y[o] = is_max ? best : sum / area;
        for (int64_t i = 0; i < k.h; ++i)
          for (int64_t j = 0; j < k.w; ++j) {
            const int64_t hi = p * st.h - pd.h + i, wi = q * st.w - pd.w + j;
            if (hi < 0 || hi >= d.h || wi < 0 || wi >= d.w) continue;
            const int64_t e = (plane * d.h + hi) * d.w + wi;
            if (!is_max) r.dx[size_t(e)] += dy[o] / area;
          }
        if (is_max) r.dx[size_t(at)] += dy[o];
      }
  return r;
}

// torch's adaptive windows, from their definition in real numbers: output i of `out` covers
// input positions [floor(i*in/out), ceil((i+1)*in/out)).
int64_t win_start(int64_t i, int64_t in, int64_t out) { return int64_t(std::floor(double(i) * in / out)); }
int64_t win_end(int64_t i, int64_t in, int64_t out) { return int64_t(std::ceil(double(i + 1) * in / out)); }

PoolRef adaptive_ref(const Tensor& xt, Size2 out, const Tensor& dyt) {
  const Dims d = dims_of(xt);
  const std::vector<float> x = xt.to_vector(), dy = dyt.to_vector();
  PoolRef r;
  r.y.assign(size_t(d.n * d.c * out.h * out.w), 0.0);
  r.dx.assign(x.size(), 0.0);
  for (int64_t plane = 0; plane < d.n * d.c; ++plane)
    for (int64_t i = 0; i < out.h; ++i)
      for (int64_t j = 0; j < out.w; ++j) {
        const int64_t h0 = win_start(i, d.h, out.h), h1 = win_end(i, d.h, out.h);
        const int64_t w0 = win_start(j, d.w, out.w), w1 = win_end(j, d.w, out.w);
        const size_t o = size_t((plane * out.h + i) * out.w + j);
        const double area = double((h1 - h0) * (w1 - w0));
        double sum = 0;
        for (int64_t hh = h0; hh < h1; ++hh)
          for (int64_t ww = w0; ww < w1; ++ww) {
            sum += x[size_t((plane * d.h + hh) * d.w + ww)];
            r.dx[size_t((plane * d.h + hh) * d.w + ww)] += dy[o] / area;
          }
        r.y[o] = sum / area;
      }
  return r;
}

std::vector<double> as_double(const Tensor& t) { return t.values_as<double>(); }

// max |got - ref| / max(max |ref|, 1e-3)
void check_close(const std::string& what, const Tensor& got, const std::vector<double>& ref, double tol) {
  INFO(what);
  REQUIRE(got.defined());
  CHECK(relative_error(as_double(got), ref) <= tol);
}

Tensor leaf(const Tensor& t) { return t.clone().requires_grad_(true); }

// The message of the E that f throws; a note when it throws nothing (another type escapes).
template <class E, class F>
std::string message_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

struct ConvCase {
  const char* name;
  Shape x, w;
  Size2 stride, padding;
  bool bias;
};

const ConvCase kConvCases[] = {
    {"1x3 kernel, stride (2, 1), padding (1, 2)", {2, 3, 9, 8}, {4, 3, 1, 3}, {2, 1}, {1, 2}, true},
    {"3x1 kernel, stride (1, 2), padding (2, 0), no bias", {3, 2, 7, 11}, {5, 2, 3, 1}, {1, 2}, {2, 0}, false},
    {"7x7 stride 2 padding 3 (ResNet's stem), odd sizes", {2, 3, 15, 13}, {6, 3, 7, 7}, 2, 3, true},
    {"3x5 kernel, stride (2, 1), padding (1, 2), no bias", {1, 4, 10, 9}, {3, 4, 3, 5}, {2, 1}, {1, 2}, false},
    {"1x1 pointwise (no im2col)", {3, 5, 6, 7}, {7, 5, 1, 1}, 1, 0, true},
    {"1x1 stride 2 (ResNet's downsample)", {2, 6, 9, 7}, {4, 6, 1, 1}, 2, 0, false},
    {"kernel as large as the padded input", {1, 2, 3, 2}, {3, 2, 5, 4}, 1, {1, 1}, true},
};

}  // namespace

TEST_CASE("conv2d with per-side stride and padding matches a double loop", "[conv_pool]") {
  Generator gen(1101);
  for (CpuKernels kernels : {CpuKernels::Fast, CpuKernels::Reference}) {
    set_cpu_kernels(kernels);
    for (const ConvCase& c : kConvCases) {
      INFO(c.name << (kernels == CpuKernels::Fast ? " (fast)" : " (reference)"));
      Tensor x = leaf(uniform_tensor(c.x, gen)), w = leaf(uniform_tensor(c.w, gen));
      Tensor b = c.bias ? leaf(uniform_tensor({c.w[0]}, gen)) : Tensor();
      Tensor y = conv2d(x, w, b, c.stride, c.padding);
      const int64_t oh = (c.x[2] + 2 * c.padding.h - c.w[2]) / c.stride.h + 1;
      const int64_t ow = (c.x[3] + 2 * c.padding.w - c.w[3]) / c.stride.w + 1;
      REQUIRE(y.shape() == Shape{c.x[0], c.w[0], oh, ow});
      Tensor dy = uniform_tensor(y.shape(), gen);
      const ConvRef ref = conv_ref(x, w, b, c.stride, c.padding, dy);
      check_close("y", y, ref.y, 1e-5);
      y.backward(dy);
      check_close("dx", x.grad(), ref.dx, 1e-5);
      check_close("dw", w.grad(), ref.dw, 1e-5);
      if (c.bias) check_close("db", b.grad(), ref.db, 1e-5);
    }
  }
  set_cpu_kernels(CpuKernels::Fast);
}

TEST_CASE("conv2d per-side gradients match finite differences", "[conv_pool]") {
  Generator gen(1102);
  for (CpuKernels kernels : {CpuKernels::Fast, CpuKernels::Reference}) {
    set_cpu_kernels(kernels);
    check_gradients("conv2d 1x3, stride (2, 1), padding (1, 2), bias",
                    [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], {2, 1}, {1, 2}); },
                    {uniform_tensor({2, 2, 5, 4}, gen), uniform_tensor({3, 2, 1, 3}, gen),
                     uniform_tensor({3}, gen)});
    check_gradients("conv2d 3x1, stride (1, 2), padding (2, 0), no bias",
                    [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], Tensor(), {1, 2}, {2, 0}); },
                    {uniform_tensor({1, 3, 4, 7}, gen), uniform_tensor({2, 3, 3, 1}, gen)});
    check_gradients("conv2d 1x1 pointwise",
                    [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], Tensor()); },
                    {uniform_tensor({2, 3, 3, 4}, gen), uniform_tensor({2, 3, 1, 1}, gen)});
  }
  set_cpu_kernels(CpuKernels::Fast);
}

TEST_CASE("padded and rectangular max/avg pools match a double loop", "[conv_pool]") {
  struct Case {
    Shape x;
    Size2 kernel, stride, padding;
  };
  const Case cases[] = {
      {{2, 3, 9, 9}, 3, 2, 1},           // ResNet's stem pool on an odd size
      {{1, 2, 8, 7}, 3, 2, 1},           // even height: the last window hangs over
      {{2, 2, 7, 10}, {2, 3}, {1, 2}, {1, 1}},
      {{1, 3, 9, 5}, {3, 1}, {2, 1}, {1, 0}},
      {{3, 1, 6, 6}, {1, 3}, {1, 3}, {0, 1}},
      {{1, 2, 5, 5}, 2, 0, 1},           // stride 0 = the kernel; padding half the kernel
      {{1, 1, 4, 4}, 2, 2, 0},           // no padding, as before
  };
  Generator gen(1103);
  for (const Case& c : cases)
    for (bool is_max : {true, false}) {
      INFO((is_max ? "max_pool2d " : "avg_pool2d ") << to_string(c.x) << " kernel (" << c.kernel.h << ", "
                                                    << c.kernel.w << ") stride (" << c.stride.h << ", " << c.stride.w
                                                    << ") padding (" << c.padding.h << ", " << c.padding.w << ")");
      // All below zero: a max that took the padding as 0 instead of -inf would show.
      Tensor x = leaf(uniform_tensor(c.x, gen, -3.0f, -0.5f));
      Tensor y = is_max ? max_pool2d(x, c.kernel, c.stride, c.padding) : avg_pool2d(x, c.kernel, c.stride, c.padding);
      const Size2 st{c.stride.h ? c.stride.h : c.kernel.h, c.stride.w ? c.stride.w : c.kernel.w};
      const int64_t oh = (c.x[2] + 2 * c.padding.h - c.kernel.h) / st.h + 1;
      const int64_t ow = (c.x[3] + 2 * c.padding.w - c.kernel.w) / st.w + 1;
      REQUIRE(y.shape() == Shape{c.x[0], c.x[1], oh, ow});
      Tensor dy = uniform_tensor(y.shape(), gen);
      const PoolRef ref = pool_ref(x, c.kernel, st, c.padding, is_max, dy);
      check_close("y", y, ref.y, is_max ? 0.0 : 1e-6);  // a max is a copy: exact
      y.backward(dy);
      check_close("dx", x.grad(), ref.dx, 1e-6);
    }
}

TEST_CASE("max_pool2d 2x2 stride 2 (the notes' pool, its own fast loop) matches the double loop", "[conv_pool]") {
  // kernels/cpu/pool_window.hpp runs 2x2 windows with stride 2 and no padding without
  // clipping: odd sizes (the last row and column are dropped), ties (a few levels: the first
  // maximum wins) and planes over the threads' split, against the definition.
  Generator gen(1108);
  for (int trial = 0; trial < 12; ++trial) {
    const Shape xs{1 + int64_t(gen.below(3)), 1 + int64_t(gen.below(5)), 2 + int64_t(gen.below(12)),
                   2 + int64_t(gen.below(12))};
    INFO("x " << to_string(xs));
    std::vector<float> v(size_t(xs[0] * xs[1] * xs[2] * xs[3]));
    for (float& e : v) e = trial % 2 ? gen.uniform(-1.0f, 1.0f) : float(int(gen.below(3)) - 1);  // ties
    Tensor x = leaf(Tensor::from_vector(v, xs));
    Tensor y = max_pool2d(x, 2, 2);
    Tensor dy = uniform_tensor(y.shape(), gen);
    const PoolRef ref = pool_ref(x, 2, 2, 0, /*is_max=*/true, dy);
    check_close("y", y, ref.y, 0.0);
    y.backward(dy);
    check_close("dx", x.grad(), ref.dx, 0.0);  // the gradient lands on the same winner
  }
  // NaN wins its window, the last one when there are two, as in PyTorch (and the general loop).
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = leaf(Tensor::from_vector({nan, 5, 1, 2, nan, 1, 3, 0}, {1, 1, 2, 4}));
  Tensor y = max_pool2d(x, 2, 2);
  CHECK(std::isnan(y.to_vector()[0]));
  CHECK(y.to_vector()[1] == 3.0f);
  sum(y).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{0, 0, 0, 0, 1, 0, 1, 0});
}

TEST_CASE("a padded pool's corner: max ignores the padding, avg counts it as zeros", "[conv_pool]") {
  // 3x3 windows, stride 2, padding 1 on a 3x3 plane of -1..-9: window (0,0) covers the
  // top-left 2x2 block and five padded cells.
  Tensor x = Tensor::from_vector({-1, -2, -3, -4, -5, -6, -7, -8, -9}, {1, 1, 3, 3});
  CHECK(max_pool2d(x, 3, 2, 1).to_vector() == std::vector<float>{-1, -2, -4, -5});
  CHECK(relative_error(as_double(avg_pool2d(x, 3, 2, 1)), {-12.0 / 9, -16.0 / 9, -24.0 / 9, -28.0 / 9}) < 1e-6);
}

TEST_CASE("padded pool gradients match finite differences", "[conv_pool]") {
  Generator gen(1104);
  // Distinct values at least 4/numel apart, shuffled: no ties for the max (a tie is a kink).
  auto distinct = [&](const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = -2.0f + 4.0f * (float(i) + 0.5f) / float(n);
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen.below(i)]);
    return Tensor::from_vector(v, s);
  };
  check_gradients("max_pool2d 3x3/2 pad 1",
                  [](const std::vector<Tensor>& in) { return max_pool2d(in[0], 3, 2, 1); },
                  {distinct({2, 2, 7, 6})});
  check_gradients("max_pool2d (2,3)/(1,2) pad (1,1)",
                  [](const std::vector<Tensor>& in) { return max_pool2d(in[0], {2, 3}, {1, 2}, {1, 1}); },
                  {distinct({1, 2, 5, 7})});
  check_gradients("avg_pool2d 3x3/2 pad 1",
                  [](const std::vector<Tensor>& in) { return avg_pool2d(in[0], 3, 2, 1); },
                  {uniform_tensor({2, 2, 7, 6}, gen)});
  check_gradients("avg_pool2d (3,1)/(2,1) pad (1,0)",
                  [](const std::vector<Tensor>& in) { return avg_pool2d(in[0], {3, 1}, {2, 1}, {1, 0}); },
                  {uniform_tensor({1, 3, 6, 4}, gen)});
}

TEST_CASE("adaptive_avg_pool2d matches torch's windows", "[conv_pool]") {
  struct Case {
    Shape x;
    Size2 out;
  };
  const Case cases[] = {
      {{2, 3, 7, 7}, 1},        // ResNet's head (the per-plane mean)
      {{2, 5, 56, 56}, 1},      // a large plane
      {{3, 2, 5, 6}, 1},
      {{1, 1, 1, 1}, 1},
      {{2, 3, 9, 11}, 7},       // from larger: windows of 1 or 2 that overlap
      {{2, 2, 14, 14}, 7},      // divides: plain 2x2 average pooling
      {{2, 3, 5, 5}, 7},        // from smaller: cells repeat
      {{2, 3, 10, 9}, {3, 2}},  // overlapping windows, rectangular output
      {{1, 2, 4, 3}, {4, 3}},   // same size: the identity
      {{1, 2, 3, 8}, {5, 2}},
  };
  Generator gen(1105);
  for (const Case& c : cases) {
    INFO("adaptive_avg_pool2d " << to_string(c.x) << " -> (" << c.out.h << ", " << c.out.w << ")");
    Tensor x = leaf(uniform_tensor(c.x, gen));
    Tensor y = adaptive_avg_pool2d(x, c.out);
    REQUIRE(y.shape() == Shape{c.x[0], c.x[1], c.out.h, c.out.w});
    Tensor dy = uniform_tensor(y.shape(), gen);
    const PoolRef ref = adaptive_ref(x, c.out, dy);
    check_close("y", y, ref.y, 1e-6);
    y.backward(dy);
    check_close("dx", x.grad(), ref.dx, 1e-6);
  }
}

TEST_CASE("adaptive_avg_pool2d worked examples: repeats, overlaps, the mean", "[conv_pool]") {
  // 2x2 -> 4x4: every window is one cell, each used twice per side: the plane is blown up.
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {1, 1, 2, 2}).requires_grad_();
  Tensor y = adaptive_avg_pool2d(x, 4);
  CHECK(y.to_vector() == std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  y.backward(ones({1, 1, 4, 4}));
  CHECK(x.grad().to_vector() == std::vector<float>{4, 4, 4, 4});  // each cell fed four outputs
  // 1x5 -> 1x7: windows [0,1) [0,2) [1,3) [2,3) [2,4) [3,5) [4,5).
  Tensor r = Tensor::from_vector({1, 2, 3, 4, 5}, {1, 1, 1, 5});
  CHECK(adaptive_avg_pool2d(r, {1, 7}).to_vector() == std::vector<float>{1, 1.5f, 2.5f, 3, 3.5f, 4.5f, 5});
  // 1x5 -> 1x3: windows [0,2) [1,4) [3,5): element 1 and 3 sit in two windows.
  Tensor s = Tensor::from_vector({1, 2, 3, 4, 5}, {1, 1, 1, 5}).requires_grad_();
  Tensor t = adaptive_avg_pool2d(s, {1, 3});
  CHECK(t.to_vector() == std::vector<float>{1.5f, 3, 4.5f});
  t.backward(Tensor::from_vector({6, 3, 6}, {1, 1, 1, 3}));
  CHECK(s.grad().to_vector() == std::vector<float>{3, 4, 1, 4, 3});  // 6/2, 6/2+3/3, 3/3, 3/3+6/2, 6/2
  // (1, 1) is the mean over the plane.
  Generator gen(1106);
  Tensor m = uniform_tensor({3, 4, 6, 5}, gen);
  CHECK(relative_error(as_double(adaptive_avg_pool2d(m, 1)), as_double(mean(m, {2, 3}, true))) < 1e-6);
}

TEST_CASE("adaptive_avg_pool2d gradients match finite differences", "[conv_pool]") {
  Generator gen(1107);
  for (Size2 out : {Size2(1), Size2(3, 2), Size2(7), Size2(2, 5)})
    check_gradients("adaptive_avg_pool2d to (" + std::to_string(out.h) + ", " + std::to_string(out.w) + ")",
                    [out](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], out); },
                    {uniform_tensor({2, 2, 5, 4}, gen)});
  check_gradients("adaptive_avg_pool2d (3, 2) from (10, 9)",
                  [](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], {3, 2}); },
                  {uniform_tensor({1, 2, 10, 9}, gen)});
}

TEST_CASE("conv/pool shape errors name the op and the values", "[conv_pool]") {
  Generator gen(1108);
  Tensor x = uniform_tensor({2, 3, 8, 8}, gen), w = uniform_tensor({4, 3, 3, 3}, gen);
  using Catch::Matchers::Contains;
  // conv2d
  CHECK_THAT(message_of<ArgumentError>([&] { conv2d(x, w, Tensor(), {0, 1}, 0, "conv1 (Conv2d)"); }),
             Contains("conv1 (Conv2d)") && Contains("stride (0, 1)"));
  CHECK_THAT(message_of<ArgumentError>([&] { conv2d(x, w, Tensor(), 1, {1, -1}, "conv1 (Conv2d)"); }),
             Contains("conv1 (Conv2d)") && Contains("padding (1, -1)"));
  Tensor narrow_x = uniform_tensor({1, 3, 8, 2}, gen);
  CHECK_THAT(message_of<ShapeError>([&] { conv2d(narrow_x, w, Tensor(), 1, {1, 0}, "conv1 (Conv2d)"); }),
             Contains("conv1 (Conv2d)") && Contains("[1,3,8,2]") && Contains("(1, 0)"));
  CHECK_NOTHROW(conv2d(narrow_x, w, Tensor(), 1, {0, 1}));  // width 2 + 2 >= 3
  // pools: padding at most half the kernel, per side
  CHECK_THAT(message_of<ArgumentError>([&] { max_pool2d(x, 3, 2, 2, "pool (MaxPool2d)"); }),
             Contains("pool (MaxPool2d)") && Contains("padding (2, 2)") && Contains("kernel (3, 3)"));
  CHECK_THAT(message_of<ArgumentError>([&] { avg_pool2d(x, {2, 4}, 0, {1, 3}, "avgpool"); }),
             Contains("avgpool") && Contains("padding (1, 3)"));
  CHECK_THROWS_AS(max_pool2d(x, {1, 3}, 1, {1, 0}), ArgumentError);
  CHECK_NOTHROW(max_pool2d(x, {2, 3}, 1, {1, 1}));
  CHECK_THAT(message_of<ArgumentError>([&] { max_pool2d(x, {3, 0}); }),
             Contains("max_pool2d") && Contains("kernel (3, 0)"));
  CHECK_THAT(message_of<ArgumentError>([&] { avg_pool2d(x, 2, {-1, 1}); }),
             Contains("stride (-1, 1)"));
  CHECK_THAT(message_of<ShapeError>([&] { max_pool2d(uniform_tensor({1, 1, 2, 9}, gen), 5, 1, 1, "pool"); }),
             Contains("pool") && Contains("[1,1,2,9]") && Contains("5x5"));
  CHECK_THROWS_AS(max_pool2d(uniform_tensor({3, 8, 8}, gen), 2), ShapeError);
  CHECK_THROWS_AS(avg_pool2d(zeros({1, 1, 4, 4}, DType::Int64), 2), DTypeError);
  // adaptive
  CHECK_THAT(message_of<ArgumentError>([&] { adaptive_avg_pool2d(x, {0, 3}, "avgpool (AdaptiveAvgPool2d)"); }),
             Contains("avgpool (AdaptiveAvgPool2d)") && Contains("(0, 3)"));
  CHECK_THAT(message_of<ShapeError>([&] { adaptive_avg_pool2d(uniform_tensor({3, 8, 8}, gen), 1, "head"); }),
             Contains("head") && Contains("[3,8,8]"));
  CHECK_THAT(message_of<ShapeError>([&] { adaptive_avg_pool2d(zeros({1, 2, 0, 4}), 1, "head"); }),
             Contains("head") && Contains("[1,2,0,4]"));
  CHECK_THAT(message_of<DTypeError>([&] { adaptive_avg_pool2d(zeros({1, 1, 4, 4}, DType::Int64), 2, "head"); }),
             Contains("head") && Contains("int64"));
  // An empty batch is fine: nothing to average, nothing to fail.
  CHECK(adaptive_avg_pool2d(zeros({0, 3, 5, 5}), 2).shape() == Shape{0, 3, 2, 2});
}

TEST_CASE("fast CPU conv forward: fewer images than threads splits each image's GEMM by columns") {
  // The batch-1 path (columns of the output split over threads, im2col over channels) against
  // the reference loops, for 1 and 3 threads, odd output sizes, padding, stride, bias and 1x1.
  const int saved = num_threads();
  Generator gen(11);
  const std::vector<Conv2dShape> shapes = {
      {1, 3, 13, 11, 5, 3, 3, 1, 1, 1, 1}, {2, 4, 9, 17, 6, 3, 2, 2, 1, 1, 0},
      {1, 8, 7, 5, 3, 1, 1, 1, 1, 0, 0}, {1, 2, 40, 37, 4, 7, 7, 2, 2, 3, 3}};
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    for (const Conv2dShape& s : shapes) {
      INFO("threads " << threads << ", image " << s.h << "x" << s.w << ", kernel " << s.r << "x" << s.s);
      Tensor x = Tensor::normal({s.n, s.c, s.h, s.w}, gen), w = Tensor::normal({s.k, s.c, s.r, s.s}, gen);
      Tensor b = Tensor::normal({s.k}, gen);
      std::vector<float> fast(size_t(s.n) * s.k * s.out_h() * s.out_w()), ref(fast.size());
      conv2d_forward_cpu(s, x.data(), w.data(), b.data(), fast.data());
      conv2d_forward_reference_cpu(s, x.data(), w.data(), b.data(), ref.data());
      for (size_t i = 0; i < ref.size(); ++i) REQUIRE(fast[i] == Approx(ref[i]).margin(1e-4));
    }
  }
  set_num_threads(saved);
}
