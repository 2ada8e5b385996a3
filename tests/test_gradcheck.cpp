// Gradient checks of every op against finite differences, on random inputs with odd sizes,
// stride 1 and 2, padding 0/1/2 — with the fast kernels and with the reference loops.
#include "core/ops.hpp"
#include "gradcheck.hpp"
#include "layers/layers.hpp"

using namespace dlcraft;
using dlcraft::test::check_gradients;

namespace {
Tensor randn(const Shape& s, uint64_t seed) {
  Generator g(seed);
  return Tensor::normal(s, g);
}

struct ConvCase { int n, c, h, w, k, r, s, stride, pad; };
}  // namespace

TEST_CASE("conv2d gradients match finite differences") {
  const ConvCase cases[] = {{2, 3, 7, 5, 4, 3, 3, 1, 1}, {1, 2, 9, 8, 3, 3, 3, 2, 0},
                            {3, 1, 6, 6, 2, 5, 5, 1, 2}, {2, 4, 5, 7, 5, 1, 1, 2, 0},
                            {1, 3, 8, 7, 2, 3, 2, 2, 2}};
  for (CpuKernels kernels : {CpuKernels::Fast, CpuKernels::Reference}) {
    set_cpu_kernels(kernels);
    uint64_t seed = 1;
    for (const ConvCase& c : cases) {
      const int stride = c.stride, pad = c.pad;
      check_gradients("conv2d " + std::to_string(c.n) + "x" + std::to_string(c.c) + "x" +
                          std::to_string(c.h) + "x" + std::to_string(c.w) + " k" + std::to_string(c.k) +
                          " stride " + std::to_string(stride) + " pad " + std::to_string(pad) +
                          (kernels == CpuKernels::Fast ? " (fast)" : " (reference)"),
                      [=](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], stride, pad); },
                      {randn({c.n, c.c, c.h, c.w}, seed++), randn({c.k, c.c, c.r, c.s}, seed++),
                       randn({c.k}, seed++)});
    }
  }
  set_cpu_kernels(CpuKernels::Fast);
}

TEST_CASE("linear gradients match finite differences") {
  for (CpuKernels kernels : {CpuKernels::Fast, CpuKernels::Reference}) {
    set_cpu_kernels(kernels);
    check_gradients("linear 5x7 -> 3", [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
                    {randn({5, 7}, 1), randn({3, 7}, 2), randn({3}, 3)});
    check_gradients("linear 1x13 -> 11", [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
                    {randn({1, 13}, 4), randn({11, 13}, 5), randn({11}, 6)});
  }
  set_cpu_kernels(CpuKernels::Fast);
}

TEST_CASE("relu gradient matches finite differences") {
  check_gradients("relu", [](const std::vector<Tensor>& in) { return relu(in[0]); }, {randn({3, 5, 7}, 7)});
}

TEST_CASE("max_pool2d gradient matches finite differences") {
  check_gradients("max_pool2d 2/2", [](const std::vector<Tensor>& in) { return max_pool2d(in[0], 2, 2); },
                  {randn({2, 3, 6, 7}, 8)});
  check_gradients("max_pool2d 3/2 (overlapping)", [](const std::vector<Tensor>& in) { return max_pool2d(in[0], 3, 2); },
                  {randn({1, 2, 7, 9}, 9)});
}

TEST_CASE("avg_pool2d gradient matches finite differences") {
  check_gradients("avg_pool2d 2/2", [](const std::vector<Tensor>& in) { return avg_pool2d(in[0], 2, 2); },
                  {randn({2, 3, 5, 6}, 10)});
  check_gradients("avg_pool2d 3/1", [](const std::vector<Tensor>& in) { return avg_pool2d(in[0], 3, 1); },
                  {randn({1, 2, 7, 5}, 11)});
}

TEST_CASE("cross_entropy gradient matches finite differences") {
  std::vector<int32_t> labels{0, 3, 2, 3, 1};
  check_gradients("cross_entropy", [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], labels); },
                  {randn({5, 4}, 12)});
}

TEST_CASE("add and reshape gradients") {
  check_gradients("add", [](const std::vector<Tensor>& in) { return add(in[0], in[1]); },
                  {randn({3, 4}, 13), randn({3, 4}, 14)});
  check_gradients("reshape + flatten", [](const std::vector<Tensor>& in) {
    return flatten(reshape(in[0], {2, 3, -1}), 1);
  }, {randn({6, 5}, 15)});
  // The same tensor used twice: its gradient is the sum of both uses.
  check_gradients("x + x", [](const std::vector<Tensor>& in) { return add(in[0], in[0]); }, {randn({7}, 16)});
}

TEST_CASE("residual block gradient (y = f(x) + x)") {
  // f = conv3x3 -> relu -> conv3x3 (pad 1 keeps the shape); the graph joins at add.
  check_gradients("residual", [](const std::vector<Tensor>& in) {
    Tensor h = relu(conv2d(in[0], in[1], in[2], 1, 1));
    return relu(add(conv2d(h, in[3], Tensor(), 1, 1), in[0]));
  }, {randn({2, 3, 5, 5}, 17), randn({3, 3, 3, 3}, 18), randn({3}, 19), randn({3, 3, 3, 3}, 20)});
}
