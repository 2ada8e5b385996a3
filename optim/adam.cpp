// Adam, as torch.optim.Adam. The update per element is in kernels/cpu/optimizers.cpp
// (kernels/cuda/optimizers.cu on the GPU). Note: docs/adam.md.
#include "core/error.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "optim/optimizer.hpp"
#include "optim/state_io.hpp"

namespace dlcraft {

Adam::Adam(std::vector<std::pair<std::string, Tensor>> params, AdamOptions options)
    : Optimizer(std::move(params)), opt_(options) {
  if (!(options.lr > 0.0f) || !(options.eps > 0.0f) || options.beta1 < 0 || options.beta1 >= 1 ||
      options.beta2 < 0 || options.beta2 >= 1 || options.weight_decay < 0)
    throw ArgumentError("Adam: invalid options (lr " + std::to_string(options.lr) + ", betas " +
                        std::to_string(options.beta1) + "/" + std::to_string(options.beta2) +
                        ", eps " + std::to_string(options.eps) + ")");
  lr_ = options.lr;
  for (auto& [name, p] : params_) {
    exp_avg_.push_back(Tensor::zeros(p.shape(), p.device()));
    exp_avg_sq_.push_back(Tensor::zeros(p.shape(), p.device()));
  }
}

void Adam::step() {
  ++step_;
  AdamStep h{lr_, opt_.beta1, opt_.beta2, opt_.eps, opt_.weight_decay, step_};
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    Tensor g = p.grad();
    if (!g.defined() || p.device().is_cuda()) continue;  // no gradient: took no part in this step
    adam_step_cpu(h, p.numel(), p.data(), g.data(), exp_avg_[i].data(), exp_avg_sq_[i].data());
  }
  // GPU parameters: one fused launch for all of them.
  for_each_cuda_table(params_, exp_avg_, &exp_avg_sq_, [&](const ParamSlices& t) { adam_step_cuda(h, t); });
  // Parameters changed in place: a graph that saved them can no longer be backpropagated.
  for (auto& [name, p] : params_)
    if (p.grad().defined()) p.bump_version();
}

std::map<std::string, Tensor> Adam::state() const {
  std::map<std::string, Tensor> out{{"step", step_tensor(step_)}};
  for (size_t i = 0; i < params_.size(); ++i) {
    out["exp_avg." + params_[i].first] = exp_avg_[i];
    out["exp_avg_sq." + params_[i].first] = exp_avg_sq_[i];
  }
  return out;
}

void Adam::load_state(const std::map<std::string, Tensor>& state) {
  step_ = load_step(state);
  for (size_t i = 0; i < params_.size(); ++i) {
    load_named(state, "exp_avg." + params_[i].first, exp_avg_[i]);
    load_named(state, "exp_avg_sq." + params_[i].first, exp_avg_sq_[i]);
  }
}

}  // namespace dlcraft
