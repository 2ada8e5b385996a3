// Learning-rate schedules, as torch.optim.lr_scheduler: call step() once per epoch (or per
// batch for OneCycleLR), after optimizer.step(); the optimizer's lr is set to the schedule's
// value for the number of step() calls so far. With several parameter groups each group follows
// the schedule from its own base lr (its lr when the scheduler was made: torch's base_lrs).
// Each schedule is its closed form lr_at(t, base_lr) (torch computes most of them recursively;
// the values agree to float rounding, see tests/ops/test_lr_scheduler.cpp for torch's own
// sequences).
#pragma once
#include <cstdint>
#include <vector>

#include "optim/optimizer.hpp"

namespace dlcraft {

class LRScheduler {
 public:
  // The base lrs are the groups' lrs now; the constructor sets lr_at(0) (torch does the same).
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler() = default;
  void step();
  int64_t steps() const { return t_; }
  // The lr after t calls of step(): of group 0, and of a group whose base lr is base_lr.
  double lr_at(int64_t t) const { return lr_at(t, base_lrs_.front()); }
  virtual double lr_at(int64_t t, double base_lr) const = 0;
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  // For resuming: jump to t calls of step().
  void set_steps(int64_t t);

 protected:
  void start();  // derived constructors call it once their fields are set
  void apply(int64_t t);  // every group's lr for t steps (computed first: a throw changes nothing)
  Optimizer& opt_;
  std::vector<double> base_lrs_;  // one per parameter group
  int64_t t_ = 0;
};

// lr = base * gamma^floor(t / step_size).
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
  using LRScheduler::lr_at;
  double lr_at(int64_t t, double base_lr) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr = eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2: half a cosine from base down
// to eta_min over T_max steps (and back up after, as torch's).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0.0);
  using LRScheduler::lr_at;
  double lr_at(int64_t t, double base_lr) const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

// Linear warm-up: the factor goes from start_factor to end_factor over total_iters steps.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0, int64_t total_iters = 5);
  using LRScheduler::lr_at;
  double lr_at(int64_t t, double base_lr) const override;

 private:
  double start_, end_;
  int64_t total_;
};

// One cycle (Smith 2018), stepped once per batch: cosine from max_lr/div_factor up to max_lr
// over the first pct_start of total_steps, then down to max_lr/(div_factor*final_div_factor).
// The lr only (torch also cycles momentum by default: cycle_momentum=False matches this).
// Every parameter group gets the same lrs (as torch with a float max_lr): base lrs are unused.
class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, double pct_start = 0.3,
             double div_factor = 25.0, double final_div_factor = 1e4);
  using LRScheduler::lr_at;
  double lr_at(int64_t t, double base_lr) const override;

 private:
  double max_lr_, initial_lr_, min_lr_, warm_end_;
  int64_t total_;
};

}  // namespace dlcraft
