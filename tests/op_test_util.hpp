// Helpers for the tensor-library tests (tests/ops/ on the CPU, tests/gpu/ on the GPU or the
// emulated one): random inputs, and one check that an op gives the same values and gradients
// on the GPU as its CPU reference.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/random.hpp"
#include "core/tensor.hpp"

namespace dlcraft::test {

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Uniform in [lo, hi), float32, on the CPU.
inline Tensor uniform_tensor(const Shape& shape, Generator& gen, float lo = -2.0f, float hi = 2.0f) {
  return Tensor::uniform(shape, lo, hi, gen);
}

// max|got - ref| / max(max|ref|, floor); infinite when sizes differ or got has a NaN where
// ref has none.
inline double relative_error(const std::vector<double>& got, const std::vector<double>& ref,
                             double floor = 1e-3) {
  if (got.size() != ref.size()) return INFINITY;
  double err = 0, scale = floor;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(ref[i]) != std::isnan(got[i])) return INFINITY;
    if (std::isnan(ref[i])) continue;
    if (std::isinf(ref[i]) || std::isinf(got[i])) {
      if (got[i] != ref[i]) return INFINITY;
      continue;
    }
    err = std::max(err, std::fabs(got[i] - ref[i]));
    scale = std::max(scale, std::fabs(ref[i]));
  }
  return err / scale;
}

// Runs f on `inputs` (CPU tensors) and on GPU copies of them; the outputs must agree within
// `tol` (relative to the largest output), and so must the gradients of every float32 input
// after backward with the same random output gradient. Integer outputs must agree exactly.
inline void check_cuda_matches_cpu(const std::string& what, const OpFn& f,
                                   const std::vector<Tensor>& inputs, double tol = 1e-5) {
  INFO(what);
  auto prepare = [&](Device d) {
    std::vector<Tensor> out;
    for (const Tensor& t : inputs) {
      Tensor c = t.to(d).clone();
      if (c.dtype() == DType::Float32) c.requires_grad_(true);
      out.push_back(c);
    }
    return out;
  };
  std::vector<Tensor> cpu = prepare(Device::cpu()), gpu = prepare(Device::cuda());
  Tensor y_cpu = f(cpu), y_gpu = f(gpu);
  REQUIRE(y_gpu.device().is_cuda());
  REQUIRE(y_cpu.shape() == y_gpu.shape());
  REQUIRE(y_cpu.dtype() == y_gpu.dtype());
  const std::vector<double> ref = y_cpu.values_as<double>(), got = y_gpu.values_as<double>();
  if (y_cpu.dtype() == DType::Float32)
    CHECK(relative_error(got, ref) <= tol);
  else
    CHECK(got == ref);
  if (!y_cpu.requires_grad()) return;
  Generator gen(7);
  Tensor dy = Tensor::normal(y_cpu.shape(), gen);
  y_cpu.backward(dy);
  y_gpu.backward(dy.to(Device::cuda()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!cpu[i].grad().defined()) continue;
    INFO("gradient of input " << i);
    REQUIRE(gpu[i].grad().defined());
    CHECK(relative_error(gpu[i].grad().values_as<double>(), cpu[i].grad().values_as<double>()) <= tol);
  }
}

}  // namespace dlcraft::test
