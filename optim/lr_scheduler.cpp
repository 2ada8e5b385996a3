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

LRScheduler::LRScheduler(Optimizer& optimizer) : opt_(optimizer), base_lr_(optimizer.lr()) {}

void LRScheduler::start() { opt_.set_lr(float(lr_at(0))); }

void LRScheduler::step() {
  const double lr = lr_at(t_ + 1);  // may throw (OneCycleLR past its end): then nothing changes
  ++t_;
  opt_.set_lr(float(lr));
}

void LRScheduler::set_steps(int64_t t) {
  if (t < 0) throw ArgumentError("LRScheduler: steps must be >= 0, got " + std::to_string(t));
  t_ = t;
  opt_.set_lr(float(lr_at(t_)));
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1) throw ArgumentError("StepLR: step_size must be >= 1, got " + std::to_string(step_size));
  start();
}
double StepLR::lr_at(int64_t t) const { return base_lr_ * std::pow(gamma_, double(t / step_size_)); }

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  if (t_max < 1) throw ArgumentError("CosineAnnealingLR: T_max must be >= 1, got " + std::to_string(t_max));
  start();
}
double CosineAnnealingLR::lr_at(int64_t t) const {
  return eta_min_ + (base_lr_ - eta_min_) * (1.0 + std::cos(kPi * double(t) / double(t_max_))) / 2.0;
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, int64_t total_iters)
    : LRScheduler(optimizer), start_(start_factor), end_(end_factor), total_(total_iters) {
  if (!(start_factor > 0 && start_factor <= 1) || !(end_factor >= 0 && end_factor <= 1) || total_iters < 1)
    throw ArgumentError("LinearLR: need 0 < start_factor <= 1, 0 <= end_factor <= 1 and total_iters >= 1");
  start();
}
double LinearLR::lr_at(int64_t t) const {
  const double f = start_ + (end_ - start_) * double(std::min(t, total_)) / double(total_);
  return base_lr_ * f;
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
double OneCycleLR::lr_at(int64_t t) const {
  if (t > total_)
    throw ArgumentError("OneCycleLR: stepped " + std::to_string(t) + " times, more than total_steps " +
                        std::to_string(total_));
  // Two phases, as torch's: up until warm_end_, then down until total - 1 (the last phase also
  // takes the final step(), which torch allows once).
  if (double(t) <= warm_end_) return anneal_cos(initial_lr_, max_lr_, double(t) / warm_end_);
  return anneal_cos(max_lr_, min_lr_, (double(t) - warm_end_) / (double(total_ - 1) - warm_end_));
}

}  // namespace dlcraft
