// The optimizers against PyTorch 2.15: tests/golden/optim/*.json, made by
// scripts/make_optim_golden.py (torch's parameters after each of 4 steps from the same random
// parameters and gradients, its state after the last one; clip_grad_norm_ / clip_grad_value_ on
// random gradients; the LR schedulers' lrs with two parameter groups).
//
// Tolerance: |ours - torch| <= tol * max(|torch|, 1), as golden_test_util.hpp. Each step is a
// few float32 operations per element done in another order than torch's (torch's lerp and
// division by sqrt(bc2) against our multiply by 1/sqrt(bc2)), so the differences are a few ulps
// of the values, and they do not grow much over 4 steps: 1e-6 for the optimizers, 1e-6 relative
// for the clipping (sums of 69 squares), and 1e-6 relative for the lrs (ours are float32).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "optim/clip_grad.hpp"
#include "optim/lr_scheduler.hpp"
#include "optim/optimizer.hpp"

using namespace dlcraft;
using json = nlohmann::json;

namespace {

#ifndef DLCRAFT_GOLDEN_DIR
#define DLCRAFT_GOLDEN_DIR "tests/golden"
#endif

json load(const std::string& file) {
  const std::string path = std::string(DLCRAFT_GOLDEN_DIR) + "/optim/" + file;
  std::ifstream in(path);
  if (!in) throw IOError("cannot open golden file " + path);
  json j = json::parse(in);
  REQUIRE(j.at("cases").size() > 0);
  return j;
}

Tensor tensor_from(const json& values, const Shape& shape) {
  return Tensor::from_vector(values.get<std::vector<float>>(), shape);
}

// The largest |a - b| / max(|b|, 1) (NaN counts as infinite).
double worst_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double e = std::fabs(double(a[i]) - double(b[i])) / std::max(std::fabs(double(b[i])), 1.0);
    worst = std::isnan(e) ? INFINITY : std::max(worst, e);
  }
  return worst;
}

float option(const json& o, const char* key) { return o.at(key).get<float>(); }
float or_default(const json& v) { return v.is_null() ? -1.0f : v.get<float>(); }

std::unique_ptr<Optimizer> make_optimizer(const json& c, const std::map<std::string, Tensor>& params) {
  std::vector<ParamGroup> groups;
  for (const json& g : c.at("groups")) {
    ParamGroup group;
    for (const json& n : g.at("params")) group.params.emplace_back(n.get<std::string>(), params.at(n.get<std::string>()));
    group.lr = or_default(g.at("lr"));
    group.weight_decay = or_default(g.at("weight_decay"));
    groups.push_back(group);
  }
  const json& o = c.at("options");
  const std::string kind = c.at("optimizer").get<std::string>();
  if (kind == "adam")
    return std::make_unique<Adam>(groups, AdamOptions{option(o, "lr"), option(o, "beta1"), option(o, "beta2"),
                                                      option(o, "eps"), option(o, "weight_decay")});
  if (kind == "adamw")
    return std::make_unique<AdamW>(groups, AdamWOptions{option(o, "lr"), option(o, "beta1"), option(o, "beta2"),
                                                        option(o, "eps"), option(o, "weight_decay")});
  REQUIRE(kind == "sgd");
  return std::make_unique<SGD>(groups, SgdOptions{option(o, "lr"), option(o, "momentum"), option(o, "dampening"),
                                                  option(o, "weight_decay"), o.at("nesterov").get<bool>()});
}

}  // namespace

TEST_CASE("AdamW, Adam and SGD (Nesterov, parameter groups) agree with PyTorch", "[golden][optim]") {
  const json file = load("optimizers.json");
  INFO("made with torch " << file.at("torch_version").get<std::string>());
  int cases = 0;
  for (const json& c : file.at("cases")) {
    INFO("case " << c.at("name").get<std::string>());
    std::map<std::string, Tensor> params;
    std::vector<std::string> order;
    for (const json& p : c.at("params")) {
      const std::string name = p.at("name").get<std::string>();
      params[name] = tensor_from(p.at("values"), p.at("shape").get<Shape>()).requires_grad_();
      order.push_back(name);
    }
    auto opt = make_optimizer(c, params);
    const json& grads = c.at("grads");
    for (size_t step = 0; step < grads.size(); ++step) {
      for (size_t i = 0; i < order.size(); ++i) {
        Tensor& p = params[order[i]];
        p.set_grad(tensor_from(grads[step][i], p.shape()));
      }
      opt->step();
      for (size_t i = 0; i < order.size(); ++i) {
        INFO("after step " << step + 1 << ", parameter " << order[i]);
        CHECK(worst_error(params[order[i]].to_vector(), c.at("after")[step][i].get<std::vector<float>>()) <= 1e-6);
      }
    }
    // torch's state under the same names (its SGD keeps no step count; ours does).
    const auto ours = opt->state();
    for (const auto& [key, values] : c.at("state").items()) {
      INFO("state " << key);
      REQUIRE(ours.count(key) == 1);
      CHECK(worst_error(ours.at(key).to_vector(), values.get<std::vector<float>>()) <= 1e-6);
    }
    ++cases;
  }
  CHECK(cases == 10);
}

TEST_CASE("clip_grad_norm_ and clip_grad_value_ agree with PyTorch", "[golden][optim]") {
  const json file = load("clip_grad.json");
  for (const json& c : file.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    INFO("case " << name);
    std::vector<Tensor> params;
    for (size_t i = 0; i < c.at("shapes").size(); ++i) {
      const Shape shape = c.at("shapes")[i].get<Shape>();
      Tensor p = Tensor::zeros(shape).requires_grad_();
      if (!c.at("grads")[i].is_null()) p.set_grad(tensor_from(c.at("grads")[i], shape));
      params.push_back(p);
    }
    if (c.at("fn") == "norm") {
      const double norm_type = c.at("norm_type") == "inf" ? INFINITY : c.at("norm_type").get<double>();
      const double torch_total = c.at("total_norm").get<double>();
      float total;
      if (name == "norm2_clipped") {  // the named-parameter form, once
        std::vector<std::pair<std::string, Tensor>> named;
        for (size_t i = 0; i < params.size(); ++i) named.emplace_back("p" + std::to_string(i), params[i]);
        total = clip_grad_norm_(named, c.at("max_norm").get<double>(), norm_type);
      } else {
        total = clip_grad_norm_(params, c.at("max_norm").get<double>(), norm_type);
      }
      CHECK(total == Approx(torch_total).epsilon(1e-6));
    } else {
      clip_grad_value_(params, c.at("clip_value").get<double>());
    }
    for (size_t i = 0; i < params.size(); ++i) {
      INFO("gradient " << i);
      const json& ref = c.at("clipped")[i];
      if (ref.is_null()) {
        CHECK_FALSE(params[i].grad().defined());
        continue;
      }
      CHECK(worst_error(params[i].grad().to_vector(), ref.get<std::vector<float>>()) <= 1e-6);
    }
  }
}

TEST_CASE("LR schedulers with two parameter groups agree with PyTorch", "[golden][optim]") {
  const json file = load("schedulers.json");
  for (const json& c : file.at("cases")) {
    const std::string kind = c.at("scheduler").get<std::string>();
    INFO("scheduler " << kind);
    const json& a = c.at("args");
    std::vector<ParamGroup> groups;
    std::vector<Tensor> keep;
    for (const json& lr : c.at("group_lrs")) {
      Tensor p = Tensor::zeros({1}).requires_grad_();
      groups.push_back({{{"p" + std::to_string(groups.size()), p}}, lr.get<float>()});
    }
    SGD opt(groups, {0.5f});
    std::unique_ptr<LRScheduler> sched;
    if (kind == "StepLR")
      sched = std::make_unique<StepLR>(opt, a.at("step_size").get<int64_t>(), a.at("gamma").get<double>());
    else if (kind == "CosineAnnealingLR")
      sched = std::make_unique<CosineAnnealingLR>(opt, a.at("T_max").get<int64_t>(), a.at("eta_min").get<double>());
    else if (kind == "LinearLR")
      sched = std::make_unique<LinearLR>(opt, a.at("start_factor").get<double>(), a.at("end_factor").get<double>(),
                                         a.at("total_iters").get<int64_t>());
    else if (kind == "OneCycleLR")
      sched = std::make_unique<OneCycleLR>(opt, a.at("max_lr").get<double>(), a.at("total_steps").get<int64_t>(),
                                           a.at("pct_start").get<double>());
    REQUIRE(sched);
    const json& lrs = c.at("lrs");
    REQUIRE(opt.num_groups() == int64_t(lrs[0].size()));
    for (size_t t = 0; t < lrs.size(); ++t) {
      if (t > 0) sched->step();
      for (int64_t g = 0; g < opt.num_groups(); ++g) {
        INFO("after " << t << " steps, group " << g);
        CHECK(opt.group_lr(g) == Approx(lrs[t][g].get<double>()).epsilon(1e-6).margin(1e-12));
      }
      CHECK(opt.lr() == opt.group_lr(0));
    }
  }
}
