// AdamW, parameter groups and gradient clipping on the GPU against the CPU: the same random
// parameters and gradients on both devices, 3 steps (at step 2 some parameters have no
// gradient), then every parameter and every state tensor compared. Group 0 holds 35 tensors,
// more than one ParamSlices table (32): each group is its own launch, split in two here.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/random.hpp"
#include "core/tensor.hpp"
#include "optim/clip_grad.hpp"
#include "optim/optimizer.hpp"

using namespace dlcraft;

namespace {
using Named = std::vector<std::pair<std::string, Tensor>>;

// max|got - ref| / max(max|ref|, 1e-3); infinite for a size mismatch or a non-finite value.
double max_rel_err(const Tensor& got_t, const Tensor& ref_t) {
  const std::vector<float> got = got_t.to_vector(), ref = ref_t.to_vector();
  if (got.size() != ref.size()) return INFINITY;
  double err = 0, scale = 1e-3;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    err = std::max(err, std::fabs(double(got[i]) - double(ref[i])));
    scale = std::max(scale, std::fabs(double(ref[i])));
  }
  return err / scale;
}

// 40 parameters of odd sizes (one of 70001, so blocks stride), the same on both devices.
void make_params(Generator& g, Named& cpu, Named& gpu) {
  for (int i = 0; i < 40; ++i) {
    const int64_t n = i == 0 ? 1 : i == 1 ? 70001 : int64_t(1 + g.below(2000));
    Tensor p = Tensor::normal({n}, g).requires_grad_();
    cpu.emplace_back("p" + std::to_string(i), p);
    gpu.emplace_back("p" + std::to_string(i), p.to(Device::cuda()).requires_grad_());
  }
}

// Group 0: p0..p34 ("backbone", lr / 10 and its own weight decay); group 1: p35..p39, the
// optimizer's options.
std::vector<ParamGroup> two_groups(const Named& params, float lr) {
  std::vector<ParamGroup> groups(2);
  groups[0].lr = lr / 10;
  groups[0].weight_decay = 0.05f;
  for (size_t i = 0; i < params.size(); ++i) groups[i < 35 ? 0 : 1].params.push_back(params[i]);
  return groups;
}

void set_grads(Generator& g, const Named& cpu, const Named& gpu, int step) {
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (step == 2 && i % 7 == 3) {  // took no part in this step: must be left alone
      cpu[i].second.zero_grad();
      gpu[i].second.zero_grad();
      continue;
    }
    Tensor grad = Tensor::normal(cpu[i].second.shape(), g);
    cpu[i].second.set_grad(grad);
    gpu[i].second.set_grad(grad.to(Device::cuda()));
  }
}

// Makes one optimizer per device, takes 3 steps with both, compares parameters and state.
void run_both(const std::string& what, const std::function<std::unique_ptr<Optimizer>(const Named&)>& make,
              uint64_t seed) {
  INFO(what);
  Generator g(seed);
  Named cpu, gpu;
  make_params(g, cpu, gpu);
  auto on_cpu = make(cpu), on_gpu = make(gpu);
  for (int step = 1; step <= 3; ++step) {
    set_grads(g, cpu, gpu, step);
    on_cpu->step();
    on_gpu->step();
  }
  for (size_t i = 0; i < cpu.size(); ++i) {
    INFO(cpu[i].first);
    CHECK(max_rel_err(gpu[i].second, cpu[i].second) < 1e-6);
  }
  const auto a = on_cpu->state(), b = on_gpu->state();
  CHECK(a.size() == b.size());
  for (const auto& [name, t] : a) {
    INFO("optimizer state " << name);
    REQUIRE(b.count(name) == 1);
    CHECK(max_rel_err(b.at(name), t) < 1e-6);
  }
}
}  // namespace

TEST_CASE("AdamW and grouped Adam/SGD on the GPU match the CPU", "[optim][memcheck]") {
  run_both("AdamW, one list, default weight decay",
           [](const Named& p) { return std::make_unique<AdamW>(p, AdamWOptions{1e-2f}); }, 31);
  run_both("AdamW, two groups", [](const Named& p) {
    return std::make_unique<AdamW>(two_groups(p, 2e-2f), AdamWOptions{2e-2f, 0.8f, 0.99f, 1e-6f, 0.1f});
  }, 32);
  run_both("Adam (L2), two groups", [](const Named& p) {
    return std::make_unique<Adam>(two_groups(p, 1e-2f), AdamOptions{1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f});
  }, 33);
  run_both("SGD Nesterov, two groups", [](const Named& p) {
    return std::make_unique<SGD>(two_groups(p, 0.05f), SgdOptions{0.05f, 0.9f, 0.0f, 1e-3f, true});
  }, 34);
  run_both("SGD momentum and dampening, two groups", [](const Named& p) {
    return std::make_unique<SGD>(two_groups(p, 0.1f), SgdOptions{0.1f, 0.9f, 0.1f, 0.0f, false});
  }, 35);
}

TEST_CASE("clip_grad_norm_ and clip_grad_value_ on the GPU match the CPU", "[optim][memcheck]") {
  struct Config {
    double max_norm, norm_type;
  };
  // Clipped (2, inf, 1, 3) and not clipped (a max_norm above the norm).
  const Config configs[] = {{1.0, 2.0}, {0.5, INFINITY}, {3.0, 1.0}, {0.2, 3.0}, {1e6, 2.0}, {1e6, INFINITY}};
  Generator g(36);
  for (const Config& c : configs) {
    INFO("max_norm " << c.max_norm << ", norm_type " << c.norm_type);
    Named cpu, gpu;
    make_params(g, cpu, gpu);
    set_grads(g, cpu, gpu, 2);  // some without gradient: skipped
    // A third copy, half on each device: each device sums its own part.
    Named mixed;
    for (size_t i = 0; i < cpu.size(); ++i) {
      Tensor p = (i % 2 ? cpu[i].second.clone() : gpu[i].second.clone()).requires_grad_();
      if (cpu[i].second.grad().defined()) p.set_grad(i % 2 ? cpu[i].second.grad().clone() : gpu[i].second.grad().clone());
      mixed.emplace_back(cpu[i].first, p);
    }
    const float total_cpu = clip_grad_norm_(cpu, c.max_norm, c.norm_type);
    const float total_gpu = clip_grad_norm_(gpu, c.max_norm, c.norm_type);
    const float total_mixed = clip_grad_norm_(mixed, c.max_norm, c.norm_type);
    CHECK(total_gpu == Approx(total_cpu).epsilon(1e-5));
    CHECK(total_mixed == Approx(total_cpu).epsilon(1e-5));
    for (size_t i = 0; i < cpu.size(); ++i) {
      INFO(cpu[i].first);
      REQUIRE(cpu[i].second.grad().defined() == gpu[i].second.grad().defined());
      if (!cpu[i].second.grad().defined()) continue;
      CHECK(gpu[i].second.grad().device().is_cuda());
      CHECK(max_rel_err(gpu[i].second.grad(), cpu[i].second.grad()) < 1e-5);
      CHECK(max_rel_err(mixed[i].second.grad(), cpu[i].second.grad()) < 1e-5);
    }
  }
  Named cpu, gpu;
  make_params(g, cpu, gpu);
  set_grads(g, cpu, gpu, 1);
  clip_grad_value_(cpu, 0.3);
  clip_grad_value_(gpu, 0.3);
  for (size_t i = 0; i < cpu.size(); ++i) {
    INFO(cpu[i].first);
    CHECK(gpu[i].second.grad().to_vector() == cpu[i].second.grad().to_vector());  // exact: a clamp
  }
}
