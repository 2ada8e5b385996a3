// The teaching kernels (kernels/cuda/gemm_steps.cu, reduce_steps.cu, docs/kernel_steps.md):
// every version against a double-precision CPU loop. Sizes are small, for the emulator, and
// odd, so every edge of a tile or a block is crossed. Tag [steps].
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/random.hpp"
#include "core/tensor.hpp"
#include "kernels/cuda/kernel_steps.hpp"

using namespace dlcraft;

namespace {

const Device kGpu = Device::cuda();

// A device copy of v (one element more, so an empty v still has an address).
Tensor on_gpu(std::vector<float> v) {
  v.push_back(0.0f);
  return Tensor::from_vector(v, {int64_t(v.size())}, kGpu);
}

std::vector<float> random_floats(size_t n, Generator& g, float lo, float hi) {
  std::vector<float> v(n);
  for (float& x : v) x = g.uniform(lo, hi);
  return v;
}

// ---- GEMM

// C = A * B in double: what every version computes, up to float rounding.
std::vector<double> gemm_reference(int m, int n, int k, const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<double> c(size_t(m) * n, 0.0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int p = 0; p < k; ++p) s += double(a[size_t(i) * k + p]) * b[size_t(p) * n + j];
      c[size_t(i) * n + j] = s;
    }
  return c;
}

// max|got - ref| / max(max|ref|, 1e-3); infinite if got has a NaN (an output never written:
// fresh GPU memory is NaN-poisoned in test_gpu).
double rel_err(const std::vector<float>& got, const std::vector<double>& ref) {
  double err = 0, scale = 1e-3;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    err = std::max(err, std::fabs(got[i] - ref[i]));
    scale = std::max(scale, std::fabs(ref[i]));
  }
  return err / scale;
}

// ---- sum

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The longest chain of float additions one input passes through in version v (the grid:
// 256 threads, at most 1024 blocks): its own thread's grid-stride loop, then v0: one
// atomicAdd per thread, in any order; v1/v2: the block's tree (8 levels; shuffles 5 + 5) and,
// with several blocks, the second pass over the block partials.
int64_t addition_chain(int v, int64_t n) {
  const int64_t threads_per_block = kSumStepThreads;
  const int64_t blocks = std::min<int64_t>(std::max<int64_t>(ceil_div(n, threads_per_block), 1), kSumStepMaxBlocks);
  const int64_t threads = blocks * threads_per_block;
  const int64_t own = ceil_div(n, threads);
  if (v == 0) return own + std::min(n, threads);
  const int64_t tree = v == 1 ? 8 : 10;
  return own + tree + (blocks > 1 ? ceil_div(blocks, threads_per_block) + tree : 0);
}

float gpu_sum(int v, const std::vector<float>& x) {
  Tensor dx = on_gpu(x), out = Tensor::empty({1}, kGpu);  // out starts as NaN: it must be written
  sum_step_cuda(v, int64_t(x.size()), dx.data(), out.data());
  return out.to_vector()[0];
}

}  // namespace

TEST_CASE("every GEMM step matches a double loop, odd sizes included", "[steps]") {
  Generator g(21);
  // m x n x k: one element; odd sizes across tile edges; exact tiles; more tiles than one in
  // each direction; k = 0 (C = 0); few tiles with k >= 512, where v3 splits k.
  const int shapes[][3] = {{1, 1, 1}, {17, 33, 9}, {64, 64, 64}, {100, 70, 130}, {3, 5, 0}, {20, 30, 600}};
  for (const auto& s : shapes) {
    const int m = s[0], n = s[1], k = s[2];
    const std::vector<float> a = random_floats(size_t(m) * k, g, -1, 1), b = random_floats(size_t(k) * n, g, -1, 1);
    const std::vector<double> ref = gemm_reference(m, n, k, a, b);
    Tensor da = on_gpu(a), db = on_gpu(b);
    for (int v = 0; v < kGemmSteps; ++v) {
      INFO(gemm_step_name(v) << ", " << m << " x " << n << " x " << k);
      Tensor dc = Tensor::empty({int64_t(m) * n}, kGpu);  // NaN: every output must be written
      gemm_step_cuda(v, m, n, k, da.data(), db.data(), dc.data());
      CHECK(rel_err(dc.to_vector(), ref) < 1e-4);
    }
  }
}

// Small integers add exactly in float as long as every partial sum stays below 2^24, in any
// order: each version must then give the exact sum, whatever order its atomics or trees take.
// A lost or twice-counted element cannot hide in a tolerance.
TEST_CASE("every sum step is exact on small integers", "[steps]") {
  Generator g(22);
  // 0 and 1; around one block; not a multiple of the block; beyond 1024 blocks of 256 threads
  // (the grid's cap), so the grid-stride loops go round more than once.
  for (int64_t n : {0, 1, 255, 256, 257, 1000, 65543, 262147, 600001}) {
    std::vector<float> x(static_cast<size_t>(n));
    int64_t exact = 0;
    for (float& v : x) {
      v = float(int64_t(g.below(17)) - 8);  // -8 ... 8: |partial sums| <= 8n < 2^24
      exact += int64_t(v);
    }
    for (int v = 0; v < kSumSteps; ++v) {
      INFO(sum_step_name(v) << ", n = " << n);
      CHECK(gpu_sum(v, x) == float(exact));
    }
  }
}

// Random floats: float additions round, and each version adds in another order (v0's order is
// whatever order the atomics land in). Whatever the order, a chain of h roundings stays within
// h * 2^-24 * sum|x| of the exact sum (the classic bound for recursive summation, with
// h * 2^-24 << 1); +1 for the final rounding to float. For v1 and v2, h is tens (a tree's
// depth); for v0 it grows with the number of atomics, so the bound there is loose, and the
// integer test above is the sharp one.
TEST_CASE("every sum step matches a double sum within the rounding bound of its order", "[steps]") {
  Generator g(23);
  for (int64_t n : {1, 257, 100003, 300007}) {
    for (float lo : {-1.0f, 0.0f}) {  // signed (cancellation), and all positive (partials grow)
      const std::vector<float> x = random_floats(size_t(n), g, lo, 1.0f);
      double exact = 0, abs_sum = 0;
      for (float v : x) {
        exact += v;
        abs_sum += std::fabs(v);
      }
      for (int v = 0; v < kSumSteps; ++v) {
        INFO(sum_step_name(v) << ", n = " << n << ", inputs in [" << lo << ", 1)");
        const double h = double(addition_chain(v, n) + 1), bound = h * std::ldexp(1.0, -24) * abs_sum;
        const float got = gpu_sum(v, x);
        CHECK(std::fabs(double(got) - exact) <= bound);
      }
    }
  }
}

TEST_CASE("the tree and shuffle sums repeat bit for bit; a bad version throws", "[steps]") {
  Generator g(24);
  const std::vector<float> x = random_floats(70001, g, -1, 1);
  for (int v : {1, 2}) {
    INFO(sum_step_name(v));
    const float first = gpu_sum(v, x);
    CHECK(gpu_sum(v, x) == first);  // no atomics: a fixed order of additions
  }
  Tensor t = Tensor::empty({4}, kGpu);
  CHECK_THROWS_AS(sum_step_cuda(kSumSteps, 1, t.data(), t.data()), ArgumentError);
  CHECK_THROWS_AS(gemm_step_cuda(-1, 1, 1, 1, t.data(), t.data(), t.data()), ArgumentError);
}
