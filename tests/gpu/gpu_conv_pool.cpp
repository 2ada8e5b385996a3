// Per-side conv2d, padded/rectangular pools and adaptive_avg_pool2d on the GPU against the CPU
// (tests/ops/test_conv_pool_shapes.cpp checks the CPU against double loops): values and
// gradients, the same cases plus larger ones, and finite differences on the GPU.
#include <catch2/catch.hpp>

#include <string>

#include "core/creation.hpp"
#include "core/ops.hpp"
#include "gradcheck.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {
std::string sz(Size2 v) { return "(" + std::to_string(v.h) + ", " + std::to_string(v.w) + ")"; }
}  // namespace

TEST_CASE("conv2d with per-side stride and padding: GPU matches the CPU", "[conv_pool]") {
  struct Case {
    Shape x, w;
    Size2 stride, padding;
    bool bias;
  };
  const Case cases[] = {
      {{2, 3, 9, 8}, {4, 3, 1, 3}, {2, 1}, {1, 2}, true},    // 1x3
      {{3, 2, 7, 11}, {5, 2, 3, 1}, {1, 2}, {2, 0}, false},  // 3x1, no bias
      {{2, 3, 15, 13}, {6, 3, 7, 7}, 2, 3, true},            // 7x7/2 pad 3
      {{1, 4, 10, 9}, {3, 4, 3, 5}, {2, 1}, {1, 2}, false},
      {{3, 5, 6, 7}, {7, 5, 1, 1}, 1, 0, true},              // pointwise: no im2col
      {{33, 9, 5, 6}, {70, 9, 1, 1}, 1, 0, false},           // pointwise, batch 33, K past a tile
      {{2, 6, 9, 7}, {4, 6, 1, 1}, 2, 0, false},             // 1x1 stride 2
      {{2, 3, 20, 18}, {8, 3, 7, 7}, {2, 1}, {3, 1}, true},
  };
  Generator gen(2101);
  for (const Case& c : cases) {
    const Size2 st = c.stride, pd = c.padding;
    std::vector<Tensor> in = {uniform_tensor(c.x, gen), uniform_tensor(c.w, gen)};
    if (c.bias) in.push_back(uniform_tensor({c.w[0]}, gen));
    check_cuda_matches_cpu("conv2d x " + to_string(c.x) + " w " + to_string(c.w) + " stride " + sz(st) +
                               " padding " + sz(pd) + (c.bias ? "" : ", no bias"),
                           [st, pd](const std::vector<Tensor>& t) {
                             return conv2d(t[0], t[1], t.size() > 2 ? t[2] : Tensor(), st, pd);
                           },
                           in, 1e-4);
  }
}

TEST_CASE("padded and rectangular pools: GPU matches the CPU", "[conv_pool]") {
  struct Case {
    Shape x;
    Size2 kernel, stride, padding;
  };
  const Case cases[] = {
      {{2, 3, 9, 9}, 3, 2, 1},           {{1, 2, 8, 7}, 3, 2, 1},
      {{2, 2, 7, 10}, {2, 3}, {1, 2}, {1, 1}}, {{1, 3, 9, 5}, {3, 1}, {2, 1}, {1, 0}},
      {{3, 1, 6, 6}, {1, 3}, {1, 3}, {0, 1}},  {{1, 2, 5, 5}, 2, 0, 1},
      {{33, 4, 16, 15}, 3, 2, 1},        {{2, 3, 11, 12}, {5, 3}, {1, 1}, {2, 1}},
  };
  Generator gen(2102);
  for (const Case& c : cases) {
    const Size2 k = c.kernel, st = c.stride, pd = c.padding;
    const std::string what = to_string(c.x) + " kernel " + sz(k) + " stride " + sz(st) + " padding " + sz(pd);
    // Values below zero: a max that let the padding in as 0 would differ from the CPU's.
    Tensor x = uniform_tensor(c.x, gen, -3.0f, -0.5f);
    // The max is a copy and its backward sums in the same window order on both: exact.
    check_cuda_matches_cpu("max_pool2d " + what,
                           [k, st, pd](const std::vector<Tensor>& t) { return max_pool2d(t[0], k, st, pd); },
                           {x}, 0.0);
    check_cuda_matches_cpu("avg_pool2d " + what,
                           [k, st, pd](const std::vector<Tensor>& t) { return avg_pool2d(t[0], k, st, pd); },
                           {x}, 1e-6);
  }
}

TEST_CASE("adaptive_avg_pool2d: GPU matches the CPU", "[conv_pool]") {
  struct Case {
    Shape x;
    Size2 out;
  };
  const Case cases[] = {
      {{2, 3, 7, 7}, 1},   {{2, 5, 56, 56}, 1}, {{33, 70, 3, 2}, 1},  // (1, 1): one warp per plane
      {{1, 1, 1, 1}, 1},   {{2, 3, 9, 11}, 7},  {{2, 2, 14, 14}, 7},
      {{2, 3, 5, 5}, 7},   {{2, 3, 10, 9}, {3, 2}}, {{1, 2, 4, 3}, {4, 3}},
      {{1, 2, 3, 8}, {5, 2}}, {{1, 1, 2, 2}, 4},
  };
  Generator gen(2103);
  for (const Case& c : cases) {
    const Size2 out = c.out;
    check_cuda_matches_cpu("adaptive_avg_pool2d " + to_string(c.x) + " -> " + sz(out),
                           [out](const std::vector<Tensor>& t) { return adaptive_avg_pool2d(t[0], out); },
                           {uniform_tensor(c.x, gen)}, 1e-5);
  }
}

TEST_CASE("per-side conv, padded pools and adaptive pooling: GPU gradients match finite differences",
          "[conv_pool]") {
  Generator g(2104);
  const Device gpu = Device::cuda();
  auto normal = [&](const Shape& s) { return Tensor::normal(s, g, gpu); };
  check_gradients("conv2d 3x1, stride (2, 1), padding (1, 2), no bias",
                  [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], Tensor(), {2, 1}, {1, 2}); },
                  {normal({1, 2, 5, 4}), normal({3, 2, 3, 1})});
  check_gradients("avg_pool2d 3x3/2 pad 1",
                  [](const std::vector<Tensor>& in) { return avg_pool2d(in[0], 3, 2, 1); }, {normal({2, 2, 5, 6})});
  check_gradients("max_pool2d (2,3)/(1,2) pad (1,1)",
                  [](const std::vector<Tensor>& in) { return max_pool2d(in[0], {2, 3}, {1, 2}, {1, 1}); },
                  {normal({1, 2, 5, 7})});
  check_gradients("adaptive_avg_pool2d (3, 2) from (10, 9)",
                  [](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], {3, 2}); },
                  {normal({1, 2, 10, 9})});
  check_gradients("adaptive_avg_pool2d (7, 7) from (5, 5)",
                  [](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], 7); }, {normal({1, 1, 5, 5})});
  check_gradients("adaptive_avg_pool2d (1, 1)",
                  [](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], 1); }, {normal({2, 3, 4, 5})});
}
