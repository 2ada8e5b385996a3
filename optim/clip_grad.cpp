// clip_grad_norm_ and clip_grad_value_ (optim/clip_grad.hpp) from the tensor library's ops, so
// they run where the gradients are (CPU or CUDA). The sums stay on each device; the host reads
// one number per device.
#include "optim/clip_grad.hpp"

#include <algorithm>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"

namespace dlcraft {

namespace {

std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

std::vector<Tensor> tensors_of(const std::vector<std::pair<std::string, Tensor>>& params) {
  std::vector<Tensor> out;
  for (const auto& [name, p] : params) out.push_back(p);
  return out;
}

// One running 0-d tensor per device, combined with `merge` (add for sums, maximum for inf).
struct PerDevice {
  std::vector<std::pair<Device, Tensor>> acc;
  template <class Merge>
  void add(const Tensor& part, Merge merge) {
    for (auto& [device, t] : acc)
      if (device == part.device()) {
        t = merge(t, part);
        return;
      }
    acc.emplace_back(part.device(), part);
  }
};

}  // namespace

float clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  if (!(max_norm >= 0))
    throw ArgumentError("clip_grad_norm_: max_norm must be >= 0, got " + std::to_string(max_norm));
  if (!(norm_type > 0))
    throw ArgumentError("clip_grad_norm_: norm_type must be > 0 (or INFINITY), got " + std::to_string(norm_type));
  NoGradGuard no_grad;
  const std::vector<Tensor> grads = grads_of(params);
  if (grads.empty()) return 0.0f;
  const bool inf = std::isinf(norm_type);
  PerDevice parts;
  for (const Tensor& g : grads) {
    if (inf)
      parts.add(max(abs(g)), [](const Tensor& a, const Tensor& b) { return maximum(a, b); });
    else if (norm_type == 2.0)
      parts.add(sum(g * g), [](const Tensor& a, const Tensor& b) { return a + b; });
    else if (norm_type == 1.0)
      parts.add(sum(abs(g)), [](const Tensor& a, const Tensor& b) { return a + b; });
    else
      parts.add(sum(pow(abs(g), norm_type)), [](const Tensor& a, const Tensor& b) { return a + b; });
  }
  double total = 0;
  for (const auto& [device, t] : parts.acc) {
    const double v = t.item();
    total = inf ? std::max(total, v) : total + v;
    if (std::isnan(v)) total = v;  // std::max would drop a NaN
  }
  if (!inf) total = std::pow(total, 1.0 / norm_type);
  // As torch: the factor is clamped at 1, i.e. gradients under the limit are left alone. A NaN
  // total makes a NaN factor, which is applied (the comparison is written so that NaN passes).
  const double coef = max_norm / (total + 1e-6);
  if (!(coef >= 1.0))
    for (Tensor g : grads) g.mul_(coef);
  return float(total);
}

float clip_grad_norm_(const std::vector<std::pair<std::string, Tensor>>& params, double max_norm, double norm_type) {
  return clip_grad_norm_(tensors_of(params), max_norm, norm_type);
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  if (!(clip_value >= 0))
    throw ArgumentError("clip_grad_value_: clip_value must be >= 0, got " + std::to_string(clip_value));
  NoGradGuard no_grad;
  for (Tensor g : grads_of(params)) g.copy_(clamp(g, -clip_value, clip_value));
}

void clip_grad_value_(const std::vector<std::pair<std::string, Tensor>>& params, double clip_value) {
  clip_grad_value_(tensors_of(params), clip_value);
}

}  // namespace dlcraft
