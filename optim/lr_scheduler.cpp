#include "optim/lr_scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"

namespace dlcraft {

namespace {
constexpr double kPi = 3.14159265358979323846;
// Cosine from `from` (pct 0) to `to` (pct 1), torch's _annealing_cos.
double anneal_cos(double from, double to, double pct) { return to + (from - to) / 2.0 * (std::cos(kPi * pct) + 1.0); }
}  // namespace

LRScheduler::LRScheduler(Optimizer& optimizer) : opt_(optimizer) {
  for (int64_t g = 0; g < optimizer.num_groups(); ++g) base_lrs_.push_back(optimizer.group_lr(g));
}

void LRScheduler::apply(int64_t t) {
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(lr_at(t, base));  // may throw (OneCycleLR past its end)
  for (size_t g = 0; g < lrs.size(); ++g) opt_.set_group_lr(int64_t(g), float(lrs[g]));
}

void LRScheduler::start() { apply(0); }

void LRScheduler::step() {
  apply(t_ + 1);  // on a throw nothing changes
  ++t_;
}

void LRScheduler::set_steps(int64_t t) {
  if (t < 0) throw ArgumentError("LRScheduler: steps must be >= 0, got " + std::to_string(t));
  apply(t);
  t_ = t;
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1) throw ArgumentError("StepLR: step_size must be >= 1, got " + std::to_string(step_size));
  start();
}
double StepLR::lr_at(int64_t t, double base_lr) const { return base_lr * std::pow(gamma_, double(t / step_size_)); }

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  if (t_max < 1) throw ArgumentError("CosineAnnealingLR: T_max must be >= 1, got " + std::to_string(t_max));
  start();
}
double CosineAnnealingLR::lr_at(int64_t t, double base_lr) const {
  return eta_min_ + (base_lr - eta_min_) * (1.0 + std::cos(kPi * double(t) / double(t_max_))) / 2.0;
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, int64_t total_iters)
    : LRScheduler(optimizer), start_(start_factor), end_(end_factor), total_(total_iters) {
  if (!(start_factor > 0 && start_factor <= 1) || !(end_factor >= 0 && end_factor <= 1) || total_iters < 1)
    throw ArgumentError("LinearLR: need 0 < start_factor <= 1, 0 <= end_factor <= 1 and total_iters >= 1");
  start();
}
double LinearLR::lr_at(int64_t t, double base_lr) const {
  const double f = start_ + (end_ - start_) * double(std::min(t, total_)) / double(total_);
  return base_lr * f;
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps, double pct_start,
                       double div_factor, double final_div_factor)
    : LRScheduler(optimizer), max_lr_(max_lr), initial_lr_(max_lr / div_factor),
      min_lr_(max_lr / div_factor / final_div_factor), warm_end_(pct_start * double(total_steps) - 1.0),
      total_(total_steps) {
  if (!(max_lr > 0) || total_steps < 2 || !(pct_start > 0 && pct_start < 1) || !(div_factor > 0) ||
      !(final_div_factor > 0))
    throw ArgumentError("OneCycleLR: need max_lr > 0, total_steps >= 2, 0 < pct_start < 1, positive factors");
  if (warm_end_ <= 0) throw ArgumentError("OneCycleLR: pct_start * total_steps must be more than 1 step");
  start();
}
double OneCycleLR::lr_at(int64_t t, double /*base_lr: the same for every group*/) const {
  if (t > total_)
    throw ArgumentError("OneCycleLR: stepped " + std::to_string(t) + " times, more than total_steps " +
                        std::to_string(total_));
  // Two phases, as torch's: up until warm_end_, then down until total - 1 (the last phase also
  // takes the final step(), which torch allows once).
  if (double(t) <= warm_end_) return anneal_cos(initial_lr_, max_lr_, double(t) / warm_end_);
  return anneal_cos(max_lr_, min_lr_, (double(t) - warm_end_) / (double(total_ - 1) - warm_end_));
}

}  // namespace dlcraft
