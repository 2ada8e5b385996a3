// The fused epilogues on the GPU (docs/fused_epilogues.md): relu_max_pool2d, conv2d_relu and
// linear_relu against their CPU versions (tests/ops/test_fused_epilogues.cpp checks those
// against the unfused compositions) and against the unfused compositions on the GPU itself:
// the same float operations, so the values and gradients are bitwise equal there; pooling is
// bitwise equal to the CPU's too (it is a max and a comparison; the sign of a zero included).
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/creation.hpp"
#include "core/ops.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "gradcheck.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {
std::vector<uint32_t> bits(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  std::vector<uint32_t> b(v.size());
  if (!v.empty()) std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
  return b;
}

// Ours always; cuDNN/cuBLAS too where the build has them (their output, then ReLU in place).
std::vector<CudaKernels> backends() {
  std::vector<CudaKernels> out{CudaKernels::Ours};
  const char* off = std::getenv("DLCRAFT_TEST_NO_VENDOR");
  if (cuda_vendor_available() && !(off && *off && std::string(off) != "0")) out.push_back(CudaKernels::Vendor);
  return out;
}

// Back to the previous backend at the end of the scope, also when a check throws.
struct BackendScope {
  explicit BackendScope(CudaKernels k) : previous(cuda_kernels()) { set_cuda_kernels(k); }
  ~BackendScope() { set_cuda_kernels(previous); }
  CudaKernels previous;
};

std::string sz(Size2 v) { return "(" + std::to_string(v.h) + ", " + std::to_string(v.w) + ")"; }

// Values from a few levels (ties), zeros of both signs, negatives and positives.
Tensor tie_tensor(const Shape& shape, Generator& gen) {
  static const float levels[] = {-1.5f, -0.5f, -0.0f, 0.0f, 0.25f, 0.25f, 1.0f, 2.0f};
  std::vector<float> v(size_t(numel(shape)));
  for (float& x : v) x = levels[gen.below(8)];
  return Tensor::from_vector(v, shape);
}

// f and g on GPU copies of `inputs` with the same output gradient: bitwise equal values and
// gradients (-0 is not +0 here).
void check_same_on_gpu(const std::string& what, const OpFn& f, const OpFn& g, const std::vector<Tensor>& inputs) {
  INFO(what);
  auto run = [&](const OpFn& op) {
    std::vector<Tensor> in;
    for (const Tensor& t : inputs) in.push_back(t.defined() ? t.to(Device::cuda()).clone().requires_grad_(true) : Tensor());
    Tensor y = op(in);
    Generator gen(5);
    y.backward(Tensor::normal(y.shape(), gen).to(Device::cuda()));
    std::vector<std::vector<uint32_t>> out{bits(y)};
    for (const Tensor& t : in)
      if (t.defined()) out.push_back(bits(t.grad()));
    return out;
  };
  const auto want = run(g), got = run(f);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO((i == 0 ? std::string("y") : "gradient of input " + std::to_string(i - 1)));
    CHECK(got[i] == want[i]);
  }
}
}  // namespace

TEST_CASE("relu_max_pool2d: GPU matches the CPU exactly and max_pool2d(relu(x)) on the GPU", "[fused]") {
  struct Case {
    Shape x;
    Size2 kernel, stride, padding;
  };
  const Case cases[] = {
      {{2, 3, 8, 8}, 2, 2, 0},  {{3, 5, 9, 7}, 2, 2, 0},           {{2, 3, 9, 9}, 3, 2, 1},
      {{1, 2, 7, 10}, {2, 3}, {1, 2}, {1, 1}},  {{33, 4, 16, 15}, 2, 0, 0}, {{1, 1, 5, 5}, 1, 1, 0},
  };
  Generator gen(2201);
  for (const Case& c : cases)
    for (bool ties : {true, false}) {
      const Size2 k = c.kernel, st = c.stride, pd = c.padding;
      const Tensor x = ties ? tie_tensor(c.x, gen) : uniform_tensor(c.x, gen);
      const std::string what = "x " + to_string(c.x) + " kernel " + sz(k) + " stride " + sz(st) + " padding " +
                               sz(pd) + (ties ? " (ties)" : "");
      auto fused = [=](const std::vector<Tensor>& t) { return relu_max_pool2d(t[0], k, st, pd); };
      auto unfused = [=](const std::vector<Tensor>& t) { return max_pool2d(relu(t[0]), k, st, pd); };
      check_cuda_matches_cpu(what, fused, {x}, 0.0);
      CHECK(bits(relu_max_pool2d(x.to(Device::cuda()), k, st, pd)) == bits(relu_max_pool2d(x, k, st, pd)));
      check_same_on_gpu(what, fused, unfused, {x});
    }
}

TEST_CASE("conv2d_relu and linear_relu: GPU matches the CPU and the unfused ops on the GPU", "[fused]") {
  struct Case {
    Shape x, w;
    Size2 stride, padding;
    bool bias;
  };
  const Case cases[] = {
      {{2, 3, 9, 8}, {4, 3, 3, 3}, 1, 1, true},     {{3, 2, 7, 11}, {5, 2, 3, 1}, {1, 2}, {2, 0}, false},
      {{3, 5, 6, 7}, {7, 5, 1, 1}, 1, 0, true},     {{33, 9, 5, 6}, {70, 9, 1, 1}, 1, 0, false},
      {{2, 16, 8, 8}, {32, 16, 3, 3}, 1, 1, true},  // a CNN block's shape, smaller
  };
  Generator gen(2202);
  for (CudaKernels backend : backends()) {
    BackendScope scope(backend);
    INFO("GPU kernels: " << (backend == CudaKernels::Ours ? "ours" : "vendor (cuDNN/cuBLAS)"));
    for (const Case& c : cases) {
      const Size2 st = c.stride, pd = c.padding;
      const std::vector<Tensor> in = {uniform_tensor(c.x, gen), uniform_tensor(c.w, gen),
                                      c.bias ? uniform_tensor({c.w[0]}, gen) : Tensor()};
      const std::string what = "conv2d_relu x " + to_string(c.x) + " w " + to_string(c.w) + " stride " + sz(st) +
                               " padding " + sz(pd) + (c.bias ? "" : ", no bias");
      // No bias: check_cuda_matches_cpu gets two inputs (it copies each one to the GPU).
      auto fused = [=](const std::vector<Tensor>& t) {
        return conv2d_relu(t[0], t[1], t.size() > 2 ? t[2] : Tensor(), st, pd);
      };
      auto unfused = [=](const std::vector<Tensor>& t) { return relu(conv2d(t[0], t[1], t[2], st, pd)); };
      check_cuda_matches_cpu(what, fused, c.bias ? in : std::vector<Tensor>{in[0], in[1]}, 1e-4);
      // Bitwise against the unfused ops with ours only: cuDNN may pick backward algorithms
      // that sum with atomics (a different rounding each run).
      if (backend == CudaKernels::Ours) check_same_on_gpu(what, fused, unfused, in);
    }
    // (n, in): k = 600 >= 512 with one 64x64 tile splits the GEMM's k loop (kernels/cuda/gemm_split.hpp):
    // the ReLU must then come after the slices are added (gemm_reduce_kernel), not on each slice.
    for (auto [n, features] : {std::pair<int64_t, int64_t>{1, 37}, {7, 37}, {64, 37}, {4, 600}}) {
      const std::vector<Tensor> in = {uniform_tensor({n, features}, gen), uniform_tensor({29, features}, gen),
                                      uniform_tensor({29}, gen)};
      auto fused = [](const std::vector<Tensor>& t) { return linear_relu(t[0], t[1], t[2]); };
      auto unfused = [](const std::vector<Tensor>& t) { return relu(linear(t[0], t[1], t[2])); };
      check_cuda_matches_cpu("linear_relu n " + std::to_string(n), fused, in, 1e-4);
      if (backend == CudaKernels::Ours) check_same_on_gpu("linear_relu n " + std::to_string(n), fused, unfused, in);
    }
  }
}

TEST_CASE("fused epilogues: GPU gradients match finite differences", "[fused]") {
  Generator gen(2203);
  auto on_gpu = [](Tensor t) { return t.to(Device::cuda()); };
  check_gradients("relu_max_pool2d 3x3 stride 2 padding 1 on the GPU",
                  [](const std::vector<Tensor>& in) { return relu_max_pool2d(in[0], 3, 2, 1); },
                  {on_gpu(uniform_tensor({1, 2, 7, 6}, gen))});
  check_gradients("conv2d_relu 3x3 padding 1 on the GPU",
                  [](const std::vector<Tensor>& in) { return conv2d_relu(in[0], in[1], in[2], 1, 1); },
                  {on_gpu(uniform_tensor({2, 2, 5, 6}, gen)), on_gpu(uniform_tensor({3, 2, 3, 3}, gen)),
                   on_gpu(uniform_tensor({3}, gen))});
}
