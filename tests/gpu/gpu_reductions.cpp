// Reductions beyond sum, softmax and the losses on the GPU against their CPU references:
// every op, several dims (both kernel layouts: a reduced last dimension -> one block per
// output; any other -> one thread per output), odd sizes, a long reduction, ties and NaN
// (indices must agree exactly), gradients.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {
using In = std::vector<Tensor>;

// Random values with ties (rounded to a coarse grid) and a few NaNs in the first rows.
Tensor tied_tensor(const Shape& shape, Generator& gen, bool with_nan) {
  std::vector<float> v = uniform_tensor(shape, gen).to_vector();
  for (float& a : v) a = std::round(a * 2) / 2;
  if (with_nan)
    for (size_t i = 3; i < v.size(); i += 17) v[i] = NAN;
  return Tensor::from_vector(v, shape);
}
}  // namespace

TEST_CASE("mean, max/min, argmax/argmin, var/std on the GPU match the CPU", "[tensor][memcheck]") {
  Generator gen(21);
  for (Shape shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 17}, Shape{33, 1, 9}}) {
    Tensor x = uniform_tensor(shape, gen);
    const int64_t r = int64_t(shape.size());
    for (int64_t d = -1; d < r; ++d) {
      const std::string where = " dim " + std::to_string(d) + " of " + to_string(shape);
      for (bool keep : {false, true}) {
        check_cuda_matches_cpu("mean" + where, [&](const In& in) { return mean(in[0], d, keep); }, {x});
        check_cuda_matches_cpu("max" + where, [&](const In& in) { return max(in[0], d, keep).values; }, {x});
        check_cuda_matches_cpu("min indices" + where, [&](const In& in) { return min(in[0], d, keep).indices; }, {x});
        check_cuda_matches_cpu("argmax" + where, [&](const In& in) { return argmax(in[0], d, keep); }, {x});
        for (int64_t c : {0, 1})
          check_cuda_matches_cpu("var" + where, [&](const In& in) { return dlcraft::var(in[0], {d}, c, keep); }, {x},
                                 1e-4);
        check_cuda_matches_cpu("std" + where, [&](const In& in) { return dlcraft::std(in[0], {d}, 1, keep); }, {x},
                               1e-4);
      }
    }
    check_cuda_matches_cpu("mean of all of " + to_string(shape), [](const In& in) { return mean(in[0]); }, {x});
    check_cuda_matches_cpu("max of all", [](const In& in) { return max(in[0]); }, {x});
    check_cuda_matches_cpu("min of all", [](const In& in) { return min(in[0]); }, {x});
    check_cuda_matches_cpu("argmax of all", [](const In& in) { return argmax(in[0]); }, {x});
    check_cuda_matches_cpu("var of all", [](const In& in) { return dlcraft::var(in[0]); }, {x}, 1e-4);
  }
  Tensor x3 = uniform_tensor({4, 5, 6}, gen);
  check_cuda_matches_cpu("mean over {0, 2}", [](const In& in) { return mean(in[0], {0, 2}, true); }, {x3});
  check_cuda_matches_cpu("std over {1, 2}", [](const In& in) { return dlcraft::std(in[0], {1, 2}); }, {x3}, 1e-4);
  // Long reductions: many iterations per thread, every warp of the block.
  Tensor long_row = uniform_tensor({2, 3001}, gen), long_col = uniform_tensor({3001, 2}, gen);
  check_cuda_matches_cpu("mean of 3001", [](const In& in) { return mean(in[0], 1); }, {long_row}, 1e-4);
  check_cuda_matches_cpu("max of 3001", [](const In& in) { return max(in[0], 1).values; }, {long_row});
  check_cuda_matches_cpu("argmin of 3001", [](const In& in) { return argmin(in[0], 1); }, {long_row});
  check_cuda_matches_cpu("argmax of a column of 3001", [](const In& in) { return argmax(in[0], 0); }, {long_col});
  check_cuda_matches_cpu("var of 3001", [](const In& in) { return dlcraft::var(in[0], {1}); }, {long_row}, 1e-4);
  check_cuda_matches_cpu("std of a column of 3001", [](const In& in) { return dlcraft::std(in[0], {0}); }, {long_col},
                         1e-4);
}

TEST_CASE("max / argmax on the GPU: the first of ties and the first NaN, as on the CPU", "[tensor][memcheck]") {
  Generator gen(22);
  for (Shape shape : {Shape{5, 40}, Shape{40, 5}, Shape{3, 700}}) {
    Tensor t = tied_tensor(shape, gen, false), n = tied_tensor(shape, gen, true);
    for (int64_t d : {0, 1}) {
      const std::string where = " dim " + std::to_string(d) + " of " + to_string(shape);
      check_cuda_matches_cpu("argmax ties" + where, [&](const In& in) { return argmax(in[0], d); }, {t});
      check_cuda_matches_cpu("argmin ties" + where, [&](const In& in) { return argmin(in[0], d); }, {t});
      check_cuda_matches_cpu("max values ties" + where, [&](const In& in) { return max(in[0], d).values; }, {t});
      check_cuda_matches_cpu("argmax NaN" + where, [&](const In& in) { return argmax(in[0], d); }, {n});
      check_cuda_matches_cpu("min indices NaN" + where, [&](const In& in) { return min(in[0], d).indices; }, {n});
    }
    check_cuda_matches_cpu("argmax of all, ties", [](const In& in) { return argmax(in[0]); }, {t});
    check_cuda_matches_cpu("argmax of all, NaN", [](const In& in) { return argmax(in[0]); }, {n});
  }
}

TEST_CASE("softmax, log_softmax, logsumexp on the GPU match the CPU", "[tensor][memcheck]") {
  Generator gen(23);
  for (Shape shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 17}, Shape{33, 1, 9}, Shape{4, 300}}) {
    Tensor x = uniform_tensor(shape, gen, -5, 5);
    const int64_t r = int64_t(shape.size());
    for (int64_t d = -1; d < r; ++d) {
      const std::string where = " dim " + std::to_string(d) + " of " + to_string(shape);
      check_cuda_matches_cpu("softmax" + where, [&](const In& in) { return softmax(in[0], d); }, {x});
      check_cuda_matches_cpu("log_softmax" + where, [&](const In& in) { return log_softmax(in[0], d); }, {x});
      for (bool keep : {false, true})
        check_cuda_matches_cpu("logsumexp" + where, [&](const In& in) { return logsumexp(in[0], d, keep); }, {x});
    }
  }
  Tensor long_row = uniform_tensor({2, 3001}, gen, -5, 5);
  check_cuda_matches_cpu("softmax of 3001", [](const In& in) { return softmax(in[0], 1); }, {long_row});
  check_cuda_matches_cpu("log_softmax of a column of 3001", [](const In& in) { return log_softmax(in[0], 0); },
                         {long_row.clone()});
  // Large, infinite and NaN inputs.
  const float inf = INFINITY;
  Tensor odd = Tensor::from_vector({1000, 1001, -1000, -inf, -inf, -inf, 1, inf, 0, NAN, 2, 3}, {4, 3});
  check_cuda_matches_cpu("softmax, extreme", [](const In& in) { return softmax(in[0], 1); }, {odd});
  check_cuda_matches_cpu("logsumexp, extreme", [](const In& in) { return logsumexp(in[0], 1); }, {odd});
}

TEST_CASE("losses on the GPU match the CPU", "[tensor][memcheck]") {
  Generator gen(24);
  for (Shape shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 17}, Shape{2001}}) {
    Tensor x = uniform_tensor(shape, gen), t = uniform_tensor(shape, gen);
    Tensor p = uniform_tensor(shape, gen, 0.02f, 0.98f), tp = uniform_tensor(shape, gen, 0, 1);
    for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
      const std::string where = " reduction " + std::to_string(int(r)) + " of " + to_string(shape);
      check_cuda_matches_cpu("mse_loss" + where, [&](const In& in) { return mse_loss(in[0], in[1], r); }, {x, t});
      check_cuda_matches_cpu("l1_loss" + where, [&](const In& in) { return l1_loss(in[0], in[1], r); }, {x, t});
      check_cuda_matches_cpu("binary_cross_entropy" + where,
                             [&](const In& in) { return binary_cross_entropy(in[0], in[1], r); }, {p, tp}, 1e-4);
      check_cuda_matches_cpu("binary_cross_entropy_with_logits" + where,
                             [&](const In& in) { return binary_cross_entropy_with_logits(in[0], in[1], r); },
                             {x, tp}, 1e-4);
    }
  }
  for (Shape shape : {Shape{5, 3}, Shape{1, 10}, Shape{9, 1}, Shape{6, 1000}, Shape{300, 10}}) {
    const int64_t n = shape[0], c = shape[1];
    Tensor z = uniform_tensor(shape, gen, -4, 4);
    std::vector<int64_t> tv(n);
    for (auto& v : tv) v = int64_t(gen.below(uint64_t(c)));
    Tensor t = Tensor::from_vector(tv, {n});
    for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
      const std::string where = " reduction " + std::to_string(int(r)) + " of " + to_string(shape);
      check_cuda_matches_cpu("nll_loss" + where, [&](const In& in) { return nll_loss(in[0], in[1], r); }, {z, t});
      for (double eps : {0.0, 0.2})
        check_cuda_matches_cpu("cross_entropy smoothing " + std::to_string(eps) + where,
                               [&](const In& in) { return cross_entropy(in[0], in[1], r, eps); }, {z, t}, 1e-4);
    }
  }
  // Targets are checked on the host for GPU tensors too.
  Tensor bad = Tensor::from_vector(std::vector<int64_t>{0, 5}, {2}, Device::cuda());
  CHECK_THROWS_AS(cross_entropy(zeros({2, 5}, Device::cuda()), bad), ArgumentError);
}
