// One gradient checker for every op (after Caffe's): the analytic gradient from backward()
// against central finite differences of L = sum(w * f(inputs)) with a fixed random w.
// Error is scaled by max(|analytic|, |numeric|, 1). An element where the left and right
// one-sided differences disagree sits on a kink (ReLU at 0, a max-pool tie) and is skipped;
// at most a tenth of the elements may be skipped.
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/random.hpp"
#include "core/tensor.hpp"

namespace dlcraft::test {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

inline double weighted_sum(const Tensor& y, const std::vector<float>& w) {
  std::vector<float> v = y.to_vector();
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += double(v[i]) * w[i];
  return s;
}

inline void check_gradients(const std::string& what, const Fn& f, std::vector<Tensor> inputs,
                            float eps = 1e-2f, double tol = 1e-2) {
  INFO(what);
  for (Tensor& t : inputs) t.requires_grad_(true);
  Tensor y = f(inputs);
  Generator gen(99);
  std::vector<float> w(y.numel());
  for (float& v : w) v = gen.normal();
  y.backward(Tensor::from_vector(w, y.shape(), y.device()));

  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor& x = inputs[i];
    REQUIRE(x.grad().defined());
    std::vector<float> analytic = x.grad().to_vector();
    std::vector<float> values = x.to_vector();
    int64_t kinks = 0;
    for (int64_t j = 0; j < x.numel(); ++j) {
      auto eval = [&](float delta) {
        std::vector<float> v = values;
        v[j] += delta;
        x.copy_from_host(v.data(), x.numel());
        return weighted_sum(f(inputs), w);
      };
      const double lp = eval(eps), lm = eval(-eps), l0 = eval(0);
      const double numeric = (lp - lm) / (2 * eps);
      const double left = (l0 - lm) / eps, right = (lp - l0) / eps;
      const double scale = std::max({std::fabs(double(analytic[j])), std::fabs(numeric), 1.0});
      if (std::fabs(left - right) > tol * scale * 10) {
        ++kinks;
        continue;
      }
      INFO("input " << i << " element " << j << ": analytic " << analytic[j] << " numeric " << numeric);
      CHECK(std::fabs(analytic[j] - numeric) / scale < tol);
    }
    x.copy_from_host(values.data(), x.numel());
    CHECK(kinks * 10 <= x.numel());
  }
}

}  // namespace dlcraft::test
