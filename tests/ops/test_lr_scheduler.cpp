// LR schedulers against PyTorch 2.15's own sequences: torch.optim.SGD(lr=0.1) with each
// scheduler, param_groups[0]['lr'] before the first step and after each of 12 step() calls
// (the script that printed them: the comment above each case). Tolerance: 1e-6 relative, since
// torch computes most schedules recursively in double and we use the closed form.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "core/creation.hpp"
#include "core/error.hpp"
#include "optim/lr_scheduler.hpp"

using namespace dlcraft;

namespace {
std::vector<double> run(const std::function<std::unique_ptr<LRScheduler>(Optimizer&)>& make, int steps = 12) {
  Tensor p = zeros({1});
  p.requires_grad_(true);
  SGD opt({{"p", p}}, {0.1f});
  auto sched = make(opt);
  std::vector<double> out{opt.lr()};
  for (int i = 0; i < steps; ++i) {
    sched->step();
    out.push_back(opt.lr());
    CHECK(float(sched->lr_at(sched->steps())) == opt.lr());
  }
  return out;
}

void check_same(const std::vector<double>& got, const std::vector<double>& torch_values) {
  REQUIRE(got.size() == torch_values.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("after " << i << " steps");
    CHECK(got[i] == Approx(torch_values[i]).epsilon(1e-6).margin(1e-12));
  }
}
}  // namespace

TEST_CASE("StepLR equals torch's") {
  // torch.optim.lr_scheduler.StepLR(opt, 3, 0.5)
  check_same(run([](Optimizer& o) { return std::make_unique<StepLR>(o, 3, 0.5); }),
             {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.00625});
}

TEST_CASE("CosineAnnealingLR equals torch's, past T_max too") {
  // torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10, 0.001)
  check_same(run([](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 10, 0.001); }),
             {0.1, 0.09757729755661011, 0.0905463412215599, 0.07959536998847742, 0.0657963412215599, 0.0505,
              0.03520365877844011, 0.02140463001152259, 0.010453658778440109, 0.0034227024433899004, 0.001,
              0.0034227024433899004, 0.01045365877844014});
}

TEST_CASE("LinearLR warm-up equals torch's") {
  // torch.optim.lr_scheduler.LinearLR(opt, 0.25, 1.0, 4)
  check_same(run([](Optimizer& o) { return std::make_unique<LinearLR>(o, 0.25, 1.0, 4); }),
             {0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1});
}

TEST_CASE("OneCycleLR equals torch's (cycle_momentum=False)") {
  // torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=13, pct_start=0.3, cycle_momentum=False)
  check_same(run([](Optimizer& o) { return std::make_unique<OneCycleLR>(o, 0.1, 13, 0.3); }),
             {0.0040000000000000036, 0.029516394846410082, 0.07893697913739435, 0.09997020714672541,
              0.0964378262550171, 0.08742558770640542, 0.07399697791049374, 0.057736635793647115,
              0.04056335797487326, 0.0245036717670141, 0.011452695450885978, 0.0029505054314122557, 4e-07});
}

TEST_CASE("schedulers: resuming with set_steps, and bad arguments") {
  Tensor p = zeros({1});
  p.requires_grad_(true);
  SGD opt({{"p", p}}, {0.1f});
  StepLR s(opt, 2, 0.5);
  s.set_steps(5);
  CHECK(opt.lr() == Approx(0.025));
  s.step();
  CHECK(opt.lr() == Approx(0.0125));
  CHECK_THROWS_AS(StepLR(opt, 0), ArgumentError);
  CHECK_THROWS_AS(CosineAnnealingLR(opt, 0), ArgumentError);
  CHECK_THROWS_AS(LinearLR(opt, 0.0), ArgumentError);
  CHECK_THROWS_AS(OneCycleLR(opt, 0.1, 1), ArgumentError);
  OneCycleLR one(opt, 0.1, 10);
  one.set_steps(9);  // the last step: the lowest lr
  CHECK(opt.lr() == Approx(0.1 / 25 / 1e4));
  one.step();  // torch allows one step more (its lr lies past the cosine's end)
  const float lr = opt.lr();
  CHECK_THROWS_WITH(one.step(), Catch::Contains("more than total_steps 10"));
  CHECK(one.steps() == 10);  // a refused step changes nothing
  CHECK(opt.lr() == lr);
}

TEST_CASE("schedulers with parameter groups: each group from its own base lr") {
  // torch's base_lrs: each group's lr when the scheduler is made (the two-group sequences
  // against torch: tests/ops/test_optim_golden.cpp).
  Tensor a = zeros({2}), b = zeros({3});
  a.requires_grad_(true);
  b.requires_grad_(true);
  SGD opt(std::vector<ParamGroup>{{{{"backbone", a}}, 0.01f}, {{{"head", b}}}}, {0.1f});
  StepLR s(opt, 2, 0.5);
  REQUIRE(s.base_lrs().size() == 2);
  CHECK(s.base_lrs()[0] == Approx(0.01));
  CHECK(s.base_lrs()[1] == Approx(0.1));
  s.set_steps(4);  // two halvings, in every group
  CHECK(opt.group_lr(0) == Approx(0.0025));
  CHECK(opt.group_lr(1) == Approx(0.025));
  s.step();
  CHECK(opt.group_lr(0) == Approx(0.0025));
  s.step();
  CHECK(opt.group_lr(0) == Approx(0.00125));
  CHECK(opt.group_lr(1) == Approx(0.0125));
  CHECK(float(s.lr_at(6)) == opt.lr());
  CHECK(float(s.lr_at(6, 0.1)) == opt.group_lr(1));

  // OneCycleLR: one max_lr for all groups, as torch with a float max_lr.
  OneCycleLR one(opt, 0.2, 10);
  CHECK(opt.group_lr(0) == opt.group_lr(1));
  CHECK(opt.group_lr(0) == Approx(0.2 / 25));
  one.set_steps(9);
  CHECK(opt.group_lr(1) == Approx(0.2 / 25 / 1e4));
}
