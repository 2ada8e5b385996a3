// Winograd conv2d (kernels/cpu/conv2d_winograd.cpp, docs/winograd.md): F(2x2,3x3) and
// F(4x4,3x3), forward and both backward passes, against the reference loops (double sums) on
// random shapes with partial edge tiles; through the op with the algorithm forced (values,
// gradients, finite differences); against PyTorch (tests/golden/winograd.safetensors); Auto's
// pick; the fallback to im2col; the errors.
//
// Tolerances. Errors are measured as max|got - ref| / max|ref| (relative_error). Winograd
// computes each output as a sum over c of products of transformed values, then transforms
// back; every transform adds and subtracts values of the same size as the inputs times its
// constants, so the rounding error grows with those constants, not with the data. F(2x2)'s
// constants are 0, ±1/2, ±1: its error stays within a few float epsilons (1.2e-7) times the
// number of terms' square root, measured at most ~1e-6 here; 1e-5 (ten times that) is the
// bound, as for im2col in test_conv_pool_shapes.cpp. F(4x4)'s transforms hold 4, 5, 8 and
// 1/24: outputs pass through values ~100 times larger than themselves before cancelling, and
// the error measured here reaches ~1e-5 (backward-weight, which also sums over every tile, the
// most); its bound is 2e-4. A wrong index or a wrong transform entry gives errors of order 1.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "golden_test_util.hpp"
#include "gradcheck.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

double tolerance(int tile) { return tile == 2 ? 1e-5 : 2e-4; }

std::vector<float> random_values(size_t count, Generator& gen) {
  std::vector<float> v(count);
  for (float& x : v) x = gen.uniform(-1.0f, 1.0f);
  return v;
}

std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

std::string describe(const Conv2dShape& s) {
  return "x (" + std::to_string(s.n) + ", " + std::to_string(s.c) + ", " + std::to_string(s.h) + ", " +
         std::to_string(s.w) + ") k " + std::to_string(s.k) + " padding (" + std::to_string(s.pad_h) + ", " +
         std::to_string(s.pad_w) + ")";
}

// The three passes of one shape by Winograd and by the reference loops; the largest relative
// error of y, dx, dw and db.
struct Errors {
  double y, dx, dw, db;
};
Errors winograd_errors(int tile, const Conv2dShape& s, Generator& gen) {
  const size_t xs = size_t(s.n) * s.c * s.h * s.w, ws = size_t(s.k) * s.c * 9;
  const size_t ys = size_t(s.n) * s.k * s.out_h() * s.out_w();
  const std::vector<float> x = random_values(xs, gen), w = random_values(ws, gen), b = random_values(s.k, gen),
                           dy = random_values(ys, gen);
  std::vector<float> y(ys), y_ref(ys), dx(xs), dx_ref(xs), dw(ws), dw_ref(ws), db(s.k), db_ref(s.k);
  // Poisoned outputs: a value the kernel forgot to write shows.
  std::fill(y.begin(), y.end(), NAN);
  std::fill(dx.begin(), dx.end(), NAN);
  std::fill(dw.begin(), dw.end(), NAN);
  if (tile == 0) {  // im2col + GEMM, for comparison
    conv2d_forward_cpu(s, x.data(), w.data(), b.data(), y.data());
    conv2d_backward_input_cpu(s, dy.data(), w.data(), dx.data());
    conv2d_backward_weight_cpu(s, x.data(), dy.data(), dw.data(), db.data());
  } else {
    conv2d_forward_winograd_cpu(tile, s, x.data(), w.data(), b.data(), y.data());
    conv2d_backward_input_winograd_cpu(tile, s, dy.data(), w.data(), dx.data());
    conv2d_backward_weight_winograd_cpu(tile, s, x.data(), dy.data(), dw.data(), db.data());
  }
  conv2d_forward_reference_cpu(s, x.data(), w.data(), b.data(), y_ref.data());
  conv2d_backward_input_reference_cpu(s, dy.data(), w.data(), dx_ref.data());
  conv2d_backward_weight_reference_cpu(s, x.data(), dy.data(), dw_ref.data(), db_ref.data());
  return {relative_error(widen(y), widen(y_ref)), relative_error(widen(dx), widen(dx_ref)),
          relative_error(widen(dw), widen(dw_ref)), relative_error(widen(db), widen(db_ref))};
}

ConvAlgorithm algorithm_of(int tile) { return tile == 2 ? ConvAlgorithm::Winograd2 : ConvAlgorithm::Winograd4; }

}  // namespace

TEST_CASE("Winograd kernels match the reference loops on random shapes with partial tiles", "[winograd]") {
  Generator gen(1401);
  for (int tile : {2, 4})
    for (int trial = 0; trial < 24; ++trial) {
      // Odd and even sizes from 3 to 14 (partial tiles at the bottom and right), channels not
      // multiples of anything, paddings 0..2 per side and 3 (the backward-input conv then has
      // padding -1: it crops).
      const int pad_h = trial == 23 ? 3 : int(gen.below(3)), pad_w = trial == 22 ? 3 : int(gen.below(3));
      Conv2dShape s{1 + int(gen.below(3)), 1 + int(gen.below(7)), 3 + int(gen.below(12)), 3 + int(gen.below(12)),
                    1 + int(gen.below(7)),  3, 3, 1, 1, pad_h, pad_w};
      INFO("F(" << tile << "x" << tile << ", 3x3) " << describe(s));
      const Errors e = winograd_errors(tile, s, gen);
      CHECK(e.y <= tolerance(tile));
      CHECK(e.dx <= tolerance(tile));
      CHECK(e.dw <= tolerance(tile));
      CHECK(e.db <= 1e-5);  // a plain sum of dy, no transform
    }
}

TEST_CASE("Winograd kernels on the CNN's layer shapes (many channels, many tiles)", "[winograd]") {
  // layers/cnn.cpp: 3x3 convs with padding 1 on 32x32 images; 16 and 32 channels, a batch of 3.
  Generator gen(1402);
  for (int tile : {2, 4})
    for (const Conv2dShape& s : {Conv2dShape{3, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1},
                                 Conv2dShape{3, 16, 32, 32, 32, 3, 3, 1, 1, 1, 1}}) {
      INFO("F(" << tile << "x" << tile << ", 3x3) " << describe(s));
      const Errors e = winograd_errors(tile, s, gen);
      CHECK(e.y <= tolerance(tile));
      CHECK(e.dx <= tolerance(tile));
      CHECK(e.dw <= tolerance(tile));
      CHECK(e.db <= 1e-5);
    }
}

TEST_CASE("Winograd kernels reject other tiles and other kernels", "[winograd]") {
  const Conv2dShape ok{1, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1};
  std::vector<float> x(16, 1.0f), w(9, 0.5f), y(16);
  CHECK_THROWS_AS(conv2d_forward_winograd_cpu(3, ok, x.data(), w.data(), nullptr, y.data()), ArgumentError);
  CHECK_THROWS_WITH(conv2d_forward_winograd_cpu(6, ok, x.data(), w.data(), nullptr, y.data()),
                    Catch::Contains("2 or 4, got 6"));
  const Conv2dShape strided{1, 1, 4, 4, 1, 3, 3, 2, 2, 1, 1}, wide{1, 1, 4, 4, 1, 3, 5, 1, 1, 1, 2};
  CHECK_FALSE(conv2d_winograd_eligible(strided));
  CHECK_FALSE(conv2d_winograd_eligible(wide));
  CHECK(conv2d_winograd_eligible(ok));
  CHECK_THROWS_WITH(conv2d_forward_winograd_cpu(2, strided, x.data(), w.data(), nullptr, y.data()),
                    Catch::Contains("stride (2, 2)"));
  CHECK_THROWS_WITH(conv2d_backward_input_winograd_cpu(4, wide, y.data(), w.data(), x.data()),
                    Catch::Contains("3x5"));
  CHECK_THROWS_AS(conv2d_backward_weight_winograd_cpu(2, wide, x.data(), y.data(), w.data(), nullptr),
                  ArgumentError);
}

TEST_CASE("conv2d with Winograd forced matches the reference loops through the op", "[winograd]") {
  Generator gen(1403);
  for (int tile : {2, 4})
    for (int trial = 0; trial < 6; ++trial) {
      const Shape xs{1 + int64_t(gen.below(3)), 1 + int64_t(gen.below(5)), 3 + int64_t(gen.below(9)),
                     3 + int64_t(gen.below(9))};
      const int64_t k = 1 + int64_t(gen.below(5));
      const Size2 padding{int(gen.below(3)), int(gen.below(3))};
      const bool with_bias = trial % 2 == 0;
      INFO("F(" << tile << "x" << tile << ") x " << to_string(xs) << " k " << k << " padding (" << padding.h << ", "
                << padding.w << ")" << (with_bias ? " bias" : ""));
      const Tensor x0 = uniform_tensor(xs, gen), w0 = uniform_tensor({k, xs[1], 3, 3}, gen);
      const Tensor b0 = with_bias ? uniform_tensor({k}, gen) : Tensor();
      Tensor dy;
      auto run = [&](CpuKernels kernels, ConvAlgorithm algorithm) {
        set_cpu_kernels(kernels);
        set_conv_algorithm(algorithm);
        Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
        Tensor b = with_bias ? b0.clone().requires_grad_(true) : Tensor();
        Tensor y = conv2d(x, w, b, 1, padding);
        if (!dy.defined()) dy = uniform_tensor(y.shape(), gen);
        y.backward(dy);
        std::vector<std::vector<double>> out{y.values_as<double>(), x.grad().values_as<double>(),
                                             w.grad().values_as<double>()};
        if (with_bias) out.push_back(b.grad().values_as<double>());
        return out;
      };
      const auto ref = run(CpuKernels::Reference, ConvAlgorithm::Im2col);
      const auto got = run(CpuKernels::Fast, algorithm_of(tile));
      const char* names[] = {"y", "dx", "dw", "db"};
      for (size_t i = 0; i < ref.size(); ++i) {
        INFO(names[i]);
        CHECK(relative_error(got[i], ref[i]) <= tolerance(tile));
      }
    }
  set_cpu_kernels(CpuKernels::Fast);
  set_conv_algorithm(ConvAlgorithm::Auto);
}

TEST_CASE("conv2d gradients with Winograd forced match finite differences", "[winograd]") {
  Generator gen(1404);
  for (int tile : {2, 4}) {
    set_conv_algorithm(algorithm_of(tile));
    check_gradients("F(" + std::to_string(tile) + "x" + std::to_string(tile) + ") conv2d 3x3, padding 1, bias",
                    [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], 1, 1); },
                    {uniform_tensor({2, 2, 5, 7}, gen), uniform_tensor({3, 2, 3, 3}, gen), uniform_tensor({3}, gen)});
    check_gradients("F(" + std::to_string(tile) + "x" + std::to_string(tile) + ") conv2d 3x3, padding (0, 2)",
                    [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], Tensor(), 1, {0, 2}); },
                    {uniform_tensor({1, 3, 6, 5}, gen), uniform_tensor({2, 3, 3, 3}, gen)});
  }
  set_conv_algorithm(ConvAlgorithm::Auto);
}

TEST_CASE("Auto, the default, picks by the layer's shape and gives the picked algorithm's result", "[winograd]") {
  Generator gen(1405);
  set_conv_algorithm(ConvAlgorithm::Auto);
  // The rule of core/ops.hpp: im2col under 16 input channels or under 64 output tiles in
  // the batch, F(2x2) for outputs under 8x8, F(4x4) otherwise; only 3x3 stride-1 kernels are
  // eligible.
  CHECK(conv_algorithm_for({32, 3, 32, 32}, {16, 3, 3, 3}, 1, 1) == ConvAlgorithm::Im2col);
  CHECK(conv_algorithm_for({32, 15, 16, 16}, {4, 15, 3, 3}, 1, 1) == ConvAlgorithm::Im2col);
  CHECK(conv_algorithm_for({32, 16, 16, 16}, {4, 16, 3, 3}, 1, 1) == ConvAlgorithm::Winograd4);
  CHECK(conv_algorithm_for({16, 16, 10, 10}, {4, 16, 3, 3}, 1, 0) == ConvAlgorithm::Winograd4);  // 8x8 out
  CHECK(conv_algorithm_for({16, 16, 9, 10}, {4, 16, 3, 3}, 1, 0) == ConvAlgorithm::Winograd2);  // 7x8 out
  // Tiles: 8x8 outputs at batch 16 make 64 F(4x4) tiles, at batch 15 only 60 (then 240 of
  // F(2x2)'s); at batch 3, 48 of F(2x2)'s: im2col.
  CHECK(conv_algorithm_for({15, 16, 8, 8}, {4, 16, 3, 3}, 1, 1) == ConvAlgorithm::Winograd2);
  CHECK(conv_algorithm_for({3, 16, 8, 8}, {4, 16, 3, 3}, 1, 1) == ConvAlgorithm::Im2col);
  CHECK(conv_algorithm_for({4, 16, 8, 8}, {4, 16, 3, 3}, 1, 1) == ConvAlgorithm::Winograd2);  // 64 of F(2x2)'s
  CHECK(conv_algorithm_for({1, 16, 32, 32}, {4, 16, 3, 3}, 1, 1) == ConvAlgorithm::Winograd4);  // 64 tiles
  CHECK(conv_algorithm_for({32, 16, 16, 16}, {4, 16, 3, 3}, 2, 1) == ConvAlgorithm::Im2col);
  CHECK(conv_algorithm_for({32, 16, 16, 16}, {4, 16, 1, 3}, 1, {0, 1}) == ConvAlgorithm::Im2col);
  // What Auto runs is that algorithm's kernel: the same bits, forward and backward.
  const Tensor x0 = uniform_tensor({4, 17, 16, 15}, gen), w0 = uniform_tensor({4, 17, 3, 3}, gen),
               b = uniform_tensor({4}, gen);
  auto run = [&](ConvAlgorithm a) {
    set_conv_algorithm(a);
    Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
    Tensor y = conv2d(x, w, b, 1, 1);
    sum(y).backward();
    return std::vector<std::vector<float>>{y.to_vector(), x.grad().to_vector(), w.grad().to_vector()};
  };
  const auto y_auto = run(ConvAlgorithm::Auto);
  CHECK(run(ConvAlgorithm::Winograd4) == y_auto);
  CHECK(run(ConvAlgorithm::Im2col) != y_auto);  // Winograd rounds differently: Auto did not run im2col
  set_conv_algorithm(ConvAlgorithm::Auto);
  CHECK_THROWS_AS(conv_algorithm_for({5, 11, 9}, w0.shape(), 1, 1), ShapeError);
}

TEST_CASE("Benchmark times each algorithm once per shape, keeps its pick, and gives its result", "[winograd]") {
  Generator gen(1407);
  const Tensor x = uniform_tensor({2, 5, 11, 9}, gen), w = uniform_tensor({4, 5, 3, 3}, gen),
               b = uniform_tensor({4}, gen);
  set_conv_algorithm(ConvAlgorithm::Benchmark);
  CHECK(conv_algorithm() == ConvAlgorithm::Benchmark);
  const ConvAlgorithm pick = conv_algorithm_for(x.shape(), w.shape(), 1, 1);
  CHECK((pick == ConvAlgorithm::Im2col || pick == ConvAlgorithm::Winograd2 || pick == ConvAlgorithm::Winograd4));
  const std::vector<float> y_timed = conv2d(x, w, b, 1, 1).to_vector();
  for (int again = 0; again < 3; ++again) CHECK(conv_algorithm_for(x.shape(), w.shape(), 1, 1) == pick);
  // Not eligible: im2col, without timing anything.
  CHECK(conv_algorithm_for(x.shape(), w.shape(), 2, 1) == ConvAlgorithm::Im2col);
  CHECK(conv_algorithm_for(x.shape(), {4, 5, 1, 3}, 1, {0, 1}) == ConvAlgorithm::Im2col);
  set_conv_algorithm(pick);
  CHECK(conv2d(x, w, b, 1, 1).to_vector() == y_timed);  // the same kernel: the same bits
  set_conv_algorithm(ConvAlgorithm::Auto);
}

TEST_CASE("Winograd forced: other kernels fall back to im2col, the reference mode keeps its loops", "[winograd]") {
  Generator gen(1406);
  const Tensor x = uniform_tensor({2, 3, 9, 8}, gen);
  struct Case {
    Shape w;
    Size2 stride, padding;
  };
  const Case cases[] = {{{4, 3, 5, 5}, 1, 2}, {{4, 3, 3, 3}, 2, 1}, {{4, 3, 1, 3}, 1, {0, 1}}, {{4, 3, 1, 1}, 1, 0}};
  for (const Case& c : cases) {
    INFO("weight " << to_string(c.w) << " stride (" << c.stride.h << ", " << c.stride.w << ")");
    const Tensor w = uniform_tensor(c.w, gen);
    set_conv_algorithm(ConvAlgorithm::Im2col);
    const std::vector<float> y_im2col = conv2d(x, w, Tensor(), c.stride, c.padding).to_vector();
    for (ConvAlgorithm a : {ConvAlgorithm::Winograd2, ConvAlgorithm::Winograd4}) {
      set_conv_algorithm(a);
      CHECK(conv_algorithm_for(x.shape(), c.w, c.stride, c.padding) == ConvAlgorithm::Im2col);
      CHECK(conv2d(x, w, Tensor(), c.stride, c.padding).to_vector() == y_im2col);
    }
  }
  // CpuKernels::Reference runs the loops whatever the algorithm: bit for bit the reference.
  const Tensor w = uniform_tensor({4, 3, 3, 3}, gen);
  set_cpu_kernels(CpuKernels::Reference);
  set_conv_algorithm(ConvAlgorithm::Im2col);
  const std::vector<float> y_loops = conv2d(x, w, Tensor(), 1, 1).to_vector();
  set_conv_algorithm(ConvAlgorithm::Winograd4);
  CHECK(conv2d(x, w, Tensor(), 1, 1).to_vector() == y_loops);
  set_cpu_kernels(CpuKernels::Fast);
  set_conv_algorithm(ConvAlgorithm::Auto);
}

TEST_CASE("conv2d with each algorithm forced agrees with PyTorch", "[winograd][golden]") {
  // tests/golden/winograd.safetensors (scripts/make_golden_winograd.py): 3x3 stride-1 convs
  // with partial tiles, paddings 0, 1, 2 and (2, 1), bias or none; y and the gradients of x, w
  // and b. The golden error is per element, |got - torch| / max(|torch|, 1): 1e-4 as in
  // test_golden_conv_pool.cpp for im2col and F(2x2) (measured up to 1.0e-5, on a weight
  // gradient that sums 288 products); F(4x4)'s outputs measured up to 4.9e-5: 5e-4.
  for (ConvAlgorithm a : {ConvAlgorithm::Im2col, ConvAlgorithm::Winograd2, ConvAlgorithm::Winograd4}) {
    set_conv_algorithm(a);
    INFO("algorithm " << int(a));
    const std::map<std::string, golden::GoldenOp> ops = {
        {"conv2d", golden::op1([](golden::In in, golden::P p) {
           const std::vector<int> pad = p.at("padding").get<std::vector<int>>();
           return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), 1, {pad[0], pad[1]});
         })}};
    golden::check_golden("winograd", ops, a == ConvAlgorithm::Winograd4 ? 5e-4 : 1e-4);
  }
  set_conv_algorithm(ConvAlgorithm::Auto);
}

// The figures in docs/winograd.md ("Accuracy"): the CNN's six conv shapes (layers/cnn.cpp,
// 32x32 CIFAR images, a batch of 4), the worst of two random draws, im2col for comparison.
//   build/tests/test_conv2d_winograd "[.winograd_errors]"
TEST_CASE("Winograd errors on the CNN's shapes (prints the table)", "[.winograd_errors]") {
  const int layers[6][3] = {{3, 16, 32}, {16, 32, 32}, {32, 64, 16}, {64, 128, 16}, {128, 128, 8}, {128, 256, 8}};
  for (const auto& l : layers)
    for (int tile : {0, 2, 4}) {
      const Conv2dShape s{4, l[0], l[2], l[2], l[1], 3, 3, 1, 1, 1, 1};
      Errors worst{0, 0, 0, 0};
      Generator gen(1407);
      for (int run = 0; run < 2; ++run) {
        const Errors e = winograd_errors(tile, s, gen);
        worst = {std::max(worst.y, e.y), std::max(worst.dx, e.dx), std::max(worst.dw, e.dw), 0};
      }
      std::printf("| %d -> %d, %dx%d | %s | %.1e | %.1e | %.1e |\n", l[0], l[1], l[2], l[2],
                  tile == 0 ? "im2col" : tile == 2 ? "F(2x2,3x3)" : "F(4x4,3x3)", worst.y, worst.dx, worst.dw);
    }
}
