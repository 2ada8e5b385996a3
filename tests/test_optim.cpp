// Adam, AdamW and SGD against values worked out by hand (PyTorch's formulas, two steps, with
// weight decay), their state saved and restored, parameter groups and gradient clipping
// (behaviour and errors; agreement with torch: tests/ops/test_optim_golden.cpp).
#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "layers/layers.hpp"
#include "optim/clip_grad.hpp"
#include "optim/lr_scheduler.hpp"
#include "optim/optimizer.hpp"

using namespace dlcraft;

namespace {
// p = [1, -2]; first gradient [0.5, 0.25] (then [-1, 3]); lr 0.1, weight decay 0.01.
void first_step(Optimizer& opt, Tensor& p) {
  p.set_grad(Tensor::from_vector({0.5f, 0.25f}, {2}));
  opt.step();
}
}  // namespace

TEST_CASE("Adam step matches hand-computed values") {
  // Step 1: g' = g + 0.01 p; m = 0.1 g'; v = 0.001 g'^2; m^ = g', v^ = g'^2
  //         p -= 0.1 * g' / (|g'| + 1e-8)  -> p moves by 0.1 against the sign of g'.
  Tensor p = Tensor::from_vector({1.0f, -2.0f}, {2}).requires_grad_();
  Adam adam({{"p", p}}, AdamOptions{0.1f, 0.9f, 0.999f, 1e-8f, 0.01f});
  first_step(adam, p);
  CHECK(p.to_vector()[0] == Approx(0.9000000019607843).epsilon(1e-6));
  CHECK(p.to_vector()[1] == Approx(-2.099999995652174).epsilon(1e-6));
  p.set_grad(Tensor::from_vector({-1.0f, 3.0f}, {2}));
  adam.step();
  CHECK(p.to_vector()[0] == Approx(0.9355236415321513).epsilon(1e-5));
  CHECK(p.to_vector()[1] == Approx(-2.1793485082566435).epsilon(1e-5));
  CHECK(adam.steps() == 2);
}

TEST_CASE("SGD momentum matches hand-computed values") {
  // buf = g' on step 1, then 0.9 buf + g'; p -= 0.1 buf.
  Tensor p = Tensor::from_vector({1.0f, -2.0f}, {2}).requires_grad_();
  SGD sgd({{"p", p}}, SgdOptions{0.1f, 0.9f, 0.0f, 0.01f, false});
  first_step(sgd, p);
  CHECK(p.to_vector()[0] == Approx(0.949).epsilon(1e-6));
  CHECK(p.to_vector()[1] == Approx(-2.023).epsilon(1e-6));
  p.set_grad(Tensor::from_vector({-1.0f, 3.0f}, {2}));
  sgd.step();
  CHECK(p.to_vector()[0] == Approx(1.002151).epsilon(1e-6));
  CHECK(p.to_vector()[1] == Approx(-2.341677).epsilon(1e-6));
}

TEST_CASE("optimizer state round-trips") {
  // Two optimizers: one runs 3 steps straight; the other runs 1, is saved, restored into a
  // fresh optimizer, and runs 2 more. Both must end at the same parameters.
  auto grads = [](int step) { return Tensor::from_vector({0.3f * step, -0.7f, 0.1f}, {3}); };
  Tensor a = Tensor::from_vector({1, 2, 3}, {3}).requires_grad_();
  Adam straight({{"w", a}}, {0.05f});
  for (int s = 1; s <= 3; ++s) {
    a.set_grad(grads(s));
    straight.step();
  }
  Tensor b = Tensor::from_vector({1, 2, 3}, {3}).requires_grad_();
  std::map<std::string, Tensor> saved;
  {
    Adam first({{"w", b}}, {0.05f});
    b.set_grad(grads(1));
    first.step();
    for (auto& [k, v] : first.state()) saved[k] = v.clone();
  }
  CHECK(saved.count("exp_avg.w") == 1);
  CHECK(saved.count("exp_avg_sq.w") == 1);
  Adam resumed({{"w", b}}, {0.05f});
  resumed.load_state(saved);
  for (int s = 2; s <= 3; ++s) {
    b.set_grad(grads(s));
    resumed.step();
  }
  CHECK(a.to_vector() == b.to_vector());
  saved.erase("exp_avg.w");
  CHECK_THROWS_AS(resumed.load_state(saved), ArgumentError);
  CHECK_THROWS_AS(Adam({{"w", b}}, {-1.0f}), ArgumentError);
}

TEST_CASE("AdamW step matches hand-computed values") {
  // Step 1: p *= 1 - 0.1 * 0.01 = 0.999, then Adam's first step with the plain gradient moves p
  // by 0.1 against its sign: [0.999 - 0.1, -1.998 - 0.1].
  Tensor p = Tensor::from_vector({1.0f, -2.0f}, {2}).requires_grad_();
  AdamW adamw({{"p", p}}, AdamWOptions{0.1f, 0.9f, 0.999f, 1e-8f, 0.01f});
  first_step(adamw, p);
  CHECK(p.to_vector()[0] == Approx(0.899000002).epsilon(1e-6));
  CHECK(p.to_vector()[1] == Approx(-2.097999996).epsilon(1e-6));
  p.set_grad(Tensor::from_vector({-1.0f, 3.0f}, {2}));
  adamw.step();
  CHECK(p.to_vector()[0] == Approx(0.9347113542385653).epsilon(1e-5));
  CHECK(p.to_vector()[1] == Approx(-2.175620657993052).epsilon(1e-5));
  CHECK(adamw.steps() == 2);
  CHECK(AdamWOptions{}.weight_decay == 1e-2f);  // torch's default
  CHECK_THROWS_WITH(AdamW({{"p", p}}, AdamWOptions{0.1f, 0.9f, 0.999f, 1e-8f, -0.5f}), Catch::Contains("AdamW"));
}

TEST_CASE("AdamW without weight decay is Adam bit for bit, and with it is not Adam with L2") {
  Generator gen(5);
  const Tensor start = Tensor::normal({37}, gen);
  Tensor a = start.clone().requires_grad_(), b = start.clone().requires_grad_(), c = start.clone().requires_grad_();
  Adam adam({{"w", a}}, AdamOptions{0.03f});
  AdamW adamw({{"w", b}}, AdamWOptions{0.03f, 0.9f, 0.999f, 1e-8f, 0.0f});
  AdamW decayed({{"w", c}}, AdamWOptions{0.03f, 0.9f, 0.999f, 1e-8f, 0.1f});
  for (int s = 0; s < 5; ++s) {
    const Tensor g = Tensor::normal({37}, gen);
    a.set_grad(g);
    b.set_grad(g);
    c.set_grad(g);
    adam.step();
    adamw.step();
    decayed.step();
  }
  CHECK(a.to_vector() == b.to_vector());
  CHECK(a.to_vector() != c.to_vector());
  for (const auto& [key, t] : adam.state()) CHECK(adamw.state().at(key).to_vector() == t.to_vector());
}

TEST_CASE("parameter groups: each group's lr and weight decay, set_lr, errors naming the parameter") {
  Tensor a = Tensor::from_vector({1.0f, 2.0f, 3.0f}, {3}).requires_grad_();
  Tensor b = Tensor::from_vector({-1.0f, 0.5f}, {2}).requires_grad_();
  // Plain SGD: p -= lr * (g + wd * p), lr and wd from each group (-1: the options').
  SGD sgd(std::vector<ParamGroup>{{{{"backbone.w", a}}, 0.01f, 0.5f}, {{{"head.w", b}}}}, SgdOptions{0.1f, 0, 0, 0.25f});
  REQUIRE(sgd.num_groups() == 2);
  CHECK(sgd.group_lr(0) == 0.01f);
  CHECK(sgd.group_lr(1) == 0.1f);
  CHECK(sgd.group_weight_decay(0) == 0.5f);
  CHECK(sgd.group_weight_decay(1) == 0.25f);
  CHECK(sgd.lr() == 0.01f);  // group 0's
  a.set_grad(Tensor::from_vector({1.0f, -1.0f, 2.0f}, {3}));
  b.set_grad(Tensor::from_vector({4.0f, 2.0f}, {2}));
  sgd.step();
  CHECK(a.to_vector()[0] == Approx(1.0 - 0.01 * (1.0 + 0.5 * 1.0)));
  CHECK(a.to_vector()[1] == Approx(2.0 - 0.01 * (-1.0 + 0.5 * 2.0)));
  CHECK(a.to_vector()[2] == Approx(3.0 - 0.01 * (2.0 + 0.5 * 3.0)));
  CHECK(b.to_vector()[0] == Approx(-1.0 - 0.1 * (4.0 + 0.25 * -1.0)));
  CHECK(b.to_vector()[1] == Approx(0.5 - 0.1 * (2.0 + 0.25 * 0.5)));

  sgd.set_group_lr(1, 0.2f);
  CHECK(sgd.group_lr(1) == 0.2f);
  CHECK(sgd.group_lr(0) == 0.01f);
  sgd.set_lr(0.3f);
  CHECK(sgd.group_lr(0) == 0.3f);
  CHECK(sgd.group_lr(1) == 0.3f);
  CHECK_THROWS_AS(sgd.group_lr(2), ArgumentError);
  CHECK_THROWS_AS(sgd.set_group_lr(-1, 0.1f), ArgumentError);

  // A parameter twice (by name, or the same tensor under two names), no groups, a bad group lr.
  Tensor c = Tensor::zeros({4}).requires_grad_();
  CHECK_THROWS_WITH(Adam(std::vector<ParamGroup>{{{{"w", a}, {"c", c}}}, {{{"w", b}}, 0.1f}}),
                    Catch::Contains("'w'") && Catch::Contains("groups 0 and 1"));
  CHECK_THROWS_WITH(SGD(std::vector<ParamGroup>{{{{"w", a}}}, {{{"w2", a}}}}),
                    Catch::Contains("'w2'") && Catch::Contains("'w'"));
  CHECK_THROWS_AS(AdamW({{"x", c}, {"x", b}}), ArgumentError);  // one list: the same rule
  CHECK_THROWS_AS(Adam(std::vector<ParamGroup>{}), ArgumentError);
  CHECK_THROWS_WITH(Adam(std::vector<ParamGroup>{{{{"w", a}}}, {{{"c", c}}, 0.0f}}),
                    Catch::Contains("parameter group 1"));
  CHECK_THROWS_WITH(SGD(std::vector<ParamGroup>{{{{"w", a}}, NAN}}), Catch::Contains("parameter group 0"));
}

TEST_CASE("Adam with groups: each group moves by its own lr") {
  // A constant gradient: each Adam step moves a parameter by (almost exactly) its lr.
  Tensor backbone = Tensor::from_vector({1.0f, 1.0f}, {2}).requires_grad_();
  Tensor head = Tensor::from_vector({1.0f}, {1}).requires_grad_();
  std::vector<ParamGroup> groups(2);
  groups[0].params = {{"backbone", backbone}};
  groups[0].lr = 1e-3f;
  groups[1].params = {{"head", head}};
  Adam adam(groups, AdamOptions{1e-2f});
  for (int s = 0; s < 3; ++s) {
    backbone.set_grad(Tensor::from_vector({0.5f, -2.0f}, {2}));
    head.set_grad(Tensor::from_vector({0.25f}, {1}));
    adam.step();
  }
  CHECK(backbone.to_vector()[0] == Approx(1.0 - 3e-3).epsilon(1e-6));
  CHECK(backbone.to_vector()[1] == Approx(1.0 + 3e-3).epsilon(1e-6));
  CHECK(head.to_vector()[0] == Approx(1.0 - 3e-2).epsilon(1e-6));
}

TEST_CASE("state with groups: same names as one list, and a round trip resumes exactly") {
  Generator gen(8);
  const Tensor w0 = Tensor::normal({3, 5}, gen), b0 = Tensor::normal({7}, gen);
  std::vector<Tensor> grads;
  for (int s = 0; s < 6; ++s) grads.push_back(Tensor::normal({22}, gen));
  auto set = [&](Tensor& w, Tensor& b, int s) {
    const std::vector<float> g = grads[size_t(s)].to_vector();
    w.set_grad(Tensor::from_vector(std::vector<float>(g.begin(), g.begin() + 15), {3, 5}));
    b.set_grad(Tensor::from_vector(std::vector<float>(g.begin() + 15, g.end()), {7}));
  };
  auto groups = [](Tensor& w, Tensor& b) {
    return std::vector<ParamGroup>{{{{"fc.weight", w}}, 1e-3f, 0.0f}, {{{"fc.bias", b}}}};
  };
  Tensor w1 = w0.clone().requires_grad_(), b1 = b0.clone().requires_grad_();
  AdamW straight(groups(w1, b1), AdamWOptions{1e-2f});
  for (int s = 0; s < 3; ++s) {
    set(w1, b1, s);
    straight.step();
  }
  Tensor w2 = w0.clone().requires_grad_(), b2 = b0.clone().requires_grad_();
  std::map<std::string, Tensor> saved;
  {
    AdamW first(groups(w2, b2), AdamWOptions{1e-2f});
    set(w2, b2, 0);
    first.step();
    for (auto& [k, v] : first.state()) saved[k] = v.clone();
  }
  // The names do not depend on the grouping: a one-list AdamW has the same keys.
  Tensor w3 = w0.clone().requires_grad_(), b3 = b0.clone().requires_grad_();
  AdamW flat({{"fc.weight", w3}, {"fc.bias", b3}});
  std::vector<std::string> flat_keys, grouped_keys;
  for (const auto& [k, v] : flat.state()) flat_keys.push_back(k);
  for (const auto& [k, v] : saved) grouped_keys.push_back(k);
  CHECK(flat_keys == grouped_keys);
  CHECK_NOTHROW(flat.load_state(saved));

  AdamW resumed(groups(w2, b2), AdamWOptions{1e-2f});
  resumed.load_state(saved);
  CHECK(resumed.steps() == 1);
  for (int s = 1; s < 3; ++s) {
    set(w2, b2, s);
    resumed.step();
  }
  CHECK(w1.to_vector() == w2.to_vector());
  CHECK(b1.to_vector() == b2.to_vector());

  // SGD the same way (momentum buffers).
  Tensor w4 = w0.clone().requires_grad_(), b4 = b0.clone().requires_grad_();
  SGD sgd(groups(w4, b4), SgdOptions{0.1f, 0.9f, 0.0f, 0.0f, true});
  set(w4, b4, 0);
  sgd.step();
  const auto st = sgd.state();
  CHECK(st.count("momentum_buffer.fc.weight") == 1);
  CHECK(st.count("momentum_buffer.fc.bias") == 1);
  SGD sgd2(groups(w4, b4), SgdOptions{0.1f, 0.9f, 0.0f, 0.0f, true});
  sgd2.load_state(st);
  CHECK(sgd2.state().at("momentum_buffer.fc.bias").to_vector() == st.at("momentum_buffer.fc.bias").to_vector());
}

TEST_CASE("SGD Nesterov's first two steps by hand") {
  // buf = g' (step 1), then 0.9 buf + g'; the step uses g' + 0.9 buf. lr 0.1, wd 0.01.
  // Step 1: g' = [0.51, 0.23]; p -= 0.1 * 1.9 g'            -> [0.9031, -2.0437]
  // Step 2: g' = [-1 + 0.009031, 3 - 0.020437] = [-0.990969, 2.979563]
  //         buf = 0.9 [0.51, 0.23] + g' = [-0.531969, 3.186563]
  //         p -= 0.1 (g' + 0.9 buf)                          -> [1.050074, -2.628447]
  Tensor p = Tensor::from_vector({1.0f, -2.0f}, {2}).requires_grad_();
  SGD sgd({{"p", p}}, SgdOptions{0.1f, 0.9f, 0.0f, 0.01f, true});
  first_step(sgd, p);
  CHECK(p.to_vector()[0] == Approx(0.9031).epsilon(1e-6));
  CHECK(p.to_vector()[1] == Approx(-2.0437).epsilon(1e-6));
  p.set_grad(Tensor::from_vector({-1.0f, 3.0f}, {2}));
  sgd.step();
  CHECK(p.to_vector()[0] == Approx(0.9031 + 0.1 * (0.990969 + 0.9 * 0.531969)).epsilon(1e-6));
  CHECK(p.to_vector()[1] == Approx(-2.0437 - 0.1 * (2.979563 + 0.9 * 3.186563)).epsilon(1e-6));
  CHECK_THROWS_AS(SGD({{"p", p}}, SgdOptions{0.1f, 0.0f, 0.0f, 0.0f, true}), ArgumentError);  // needs momentum
  CHECK_THROWS_AS(SGD({{"p", p}}, SgdOptions{0.1f, 0.9f, 0.1f, 0.0f, true}), ArgumentError);  // and no dampening
}

TEST_CASE("clip_grad_norm_ by hand: 2-norm, inf-norm, no clipping below the limit") {
  Tensor a = Tensor::zeros({2}).requires_grad_(), b = Tensor::zeros({1}).requires_grad_();
  Tensor none = Tensor::zeros({3}).requires_grad_();  // no gradient: skipped
  auto reset = [&] {
    a.set_grad(Tensor::from_vector({3.0f, 0.0f}, {2}));
    b.set_grad(Tensor::from_vector({-4.0f}, {1}));
  };
  reset();
  // |(3, 0, -4)| = 5; factor 1 / (5 + 1e-6).
  CHECK(clip_grad_norm_({a, b, none}, 1.0) == Approx(5.0));
  CHECK(a.grad().to_vector()[0] == Approx(3.0 / (5.0 + 1e-6)).epsilon(1e-6));
  CHECK(b.grad().to_vector()[0] == Approx(-4.0 / (5.0 + 1e-6)).epsilon(1e-6));
  CHECK_FALSE(none.grad().defined());
  reset();
  CHECK(clip_grad_norm_({a, b}, 2.0, INFINITY) == Approx(4.0));  // the largest |g|
  CHECK(b.grad().to_vector()[0] == Approx(-4.0 * 2.0 / (4.0 + 1e-6)).epsilon(1e-6));
  reset();
  CHECK(clip_grad_norm_({a, b}, 10.0, 1.0) == Approx(7.0));  // under the limit: unchanged
  CHECK(a.grad().to_vector() == std::vector<float>{3.0f, 0.0f});
  CHECK(b.grad().to_vector() == std::vector<float>{-4.0f});
  CHECK(clip_grad_norm_({none}, 1.0) == 0.0f);  // no gradients at all
}

TEST_CASE("clip_grad_norm_ leaves random gradients with the norm max_norm") {
  Generator gen(9);
  std::vector<Tensor> params;
  for (const Shape& s : {Shape{5, 3}, Shape{17}, Shape{2, 3, 4}}) {
    Tensor p = Tensor::zeros(s).requires_grad_();
    p.set_grad(Tensor::normal(s, gen));
    params.push_back(p);
  }
  for (double norm_type : {2.0, 3.0, double(INFINITY)}) {
    INFO("norm_type " << norm_type);
    const double before = clip_grad_norm_(params, 0.75, norm_type);
    CHECK(before > 0.75);
    // The norm now: what the second call reports (and then leaves alone).
    const double after = clip_grad_norm_(params, 1e9, norm_type);
    CHECK(after == Approx(0.75 * before / (before + 1e-6)).epsilon(1e-5));
    for (Tensor& p : params) p.set_grad(Tensor::normal(p.shape(), gen));
  }
}

TEST_CASE("clip_grad_value_ clamps, and bad arguments and non-finite gradients") {
  Tensor a = Tensor::zeros({5}).requires_grad_();
  a.set_grad(Tensor::from_vector({-3.0f, -0.2f, 0.0f, 0.7f, 9.0f}, {5}));
  clip_grad_value_({{"a", a}}, 0.5);
  CHECK(a.grad().to_vector() == std::vector<float>{-0.5f, -0.2f, 0.0f, 0.5f, 0.5f});

  CHECK_THROWS_WITH(clip_grad_norm_({a}, -1.0), Catch::Contains("max_norm") && Catch::Contains("-1"));
  CHECK_THROWS_AS(clip_grad_norm_({a}, NAN), ArgumentError);
  CHECK_THROWS_WITH(clip_grad_norm_({a}, 1.0, 0.0), Catch::Contains("norm_type"));
  CHECK_THROWS_AS(clip_grad_norm_({a}, 1.0, -2.0), ArgumentError);
  CHECK_THROWS_WITH(clip_grad_value_({a}, -0.1), Catch::Contains("clip_value"));

  // As torch: an infinite norm is returned (the caller can skip the step), and the factor
  // max_norm / inf = 0 is applied.
  a.set_grad(Tensor::from_vector({1.0f, INFINITY, 2.0f, 0.0f, -1.0f}, {5}));
  CHECK(std::isinf(clip_grad_norm_({a}, 1.0)));
  CHECK(a.grad().to_vector()[0] == 0.0f);
}

TEST_CASE("docs/adam.md: the parameter-group example (backbone at lr/10, clipping, a schedule)") {
  Sequential model{std::make_shared<Linear>(4, 6), std::make_shared<ReLU>(), std::make_shared<Linear>(6, 3)};
  std::map<std::string, std::vector<float>> before;
  for (auto& [name, p] : model.named_parameters()) before[name] = p.to_vector();
  // As the doc, with the head's parameters named "2.*" (the last Linear of the Sequential).
  std::vector<std::pair<std::string, Tensor>> backbone, head;
  for (auto& [name, p] : model.named_parameters()) (name.rfind("2.", 0) == 0 ? head : backbone).emplace_back(name, p);
  REQUIRE(backbone.size() == 2);
  REQUIRE(head.size() == 2);
  const float lr = 1e-3f;
  std::vector<ParamGroup> groups(2);
  groups[0].params = backbone;
  groups[0].lr = lr / 10;
  groups[1].params = head;
  AdamW opt(groups, AdamWOptions{lr, 0.9f, 0.999f, 1e-8f, 0.05f});
  CosineAnnealingLR sched(opt, /*T_max=*/4);

  Generator gen(10);
  Tensor x = Tensor::normal({5, 4}, gen), y = Tensor::normal({5, 3}, gen);
  mse_loss(model.forward(x), y).backward();
  const float norm = clip_grad_norm_(model.named_parameters(), 1.0);
  REQUIRE(std::isfinite(norm));
  opt.step();
  sched.step();
  // AdamW's first step: the decay theta *= 1 - group_lr * 0.05, then a move of group_lr against
  // the gradient's sign (less where a ReLU left the gradient near 0).
  for (auto& [name, p] : model.named_parameters()) {
    INFO(name);
    const double group_lr = name.rfind("2.", 0) == 0 ? lr : lr / 10;
    const std::vector<float> now = p.to_vector();
    double largest = 0;
    for (size_t i = 0; i < now.size(); ++i)
      largest = std::max(largest, std::fabs(double(now[i]) - double(before[name][i]) * (1 - group_lr * 0.05)));
    CHECK(largest == Approx(group_lr).epsilon(1e-3));
  }
  CHECK(opt.group_lr(1) / opt.group_lr(0) == Approx(10.0).epsilon(1e-5));  // the schedule keeps the ratio
  CHECK(opt.group_lr(1) < lr);
}
