// Adam and AdamW, as torch.optim.Adam / torch.optim.AdamW. The update per element is in
// kernels/cpu/optimizers.cpp (kernels/cuda/optimizers.cu on the GPU). Note: docs/adam.md.
#include "core/error.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "optim/optimizer.hpp"
#include "optim/state_io.hpp"

namespace dlcraft {

Adam::Adam(std::vector<std::pair<std::string, Tensor>> params, AdamOptions options)
    : Optimizer(std::move(params)), opt_(options) {
  init("Adam");
}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options) : Optimizer(std::move(groups)), opt_(options) {
  init("Adam");
}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options, bool decoupled_weight_decay, const char* who)
    : Optimizer(std::move(groups)), opt_(options), decoupled_(decoupled_weight_decay) {
  init(who);
}

void Adam::init(const char* who) {
  const AdamOptions& o = opt_;
  if (!(o.lr > 0.0f) || !(o.eps > 0.0f) || !(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1) ||
      !(o.weight_decay >= 0))
    throw ArgumentError(std::string(who) + ": invalid options (lr " + std::to_string(o.lr) + ", betas " +
                        std::to_string(o.beta1) + "/" + std::to_string(o.beta2) + ", eps " +
                        std::to_string(o.eps) + ", weight decay " + std::to_string(o.weight_decay) + ")");
  resolve_group_options(o.lr, o.weight_decay, who);
  for (auto& [name, p] : params_) {
    exp_avg_.push_back(Tensor::zeros(p.shape(), p.device()));
    exp_avg_sq_.push_back(Tensor::zeros(p.shape(), p.device()));
  }
}

void Adam::step() {
  ++step_;
  for (const Group& gr : groups_) {
    const AdamStep h{gr.lr, opt_.beta1, opt_.beta2, opt_.eps, gr.weight_decay, step_, decoupled_};
    for (size_t i = gr.begin; i < gr.end; ++i) {
      Tensor& p = params_[i].second;
      Tensor g = p.grad();
      if (!g.defined() || p.device().is_cuda()) continue;  // no gradient: took no part in this step
      adam_step_cpu(h, p.numel(), p.data(), g.data(), exp_avg_[i].data(), exp_avg_sq_[i].data());
    }
    // The group's GPU parameters: one fused launch for all of them.
    for_each_cuda_table(params_, gr.begin, gr.end, exp_avg_, &exp_avg_sq_,
                        [&](const ParamSlices& t) { adam_step_cuda(h, t); });
  }
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

namespace {
AdamOptions as_adam(const AdamWOptions& o) { return {o.lr, o.beta1, o.beta2, o.eps, o.weight_decay}; }
}  // namespace

AdamW::AdamW(std::vector<std::pair<std::string, Tensor>> params, AdamWOptions options)
    : Adam(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, as_adam(options), true, "AdamW") {}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions options)
    : Adam(std::move(groups), as_adam(options), true, "AdamW") {}

}  // namespace dlcraft
