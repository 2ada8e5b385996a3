// SGD with momentum (and Nesterov), as torch.optim.SGD. Per-element update:
// kernels/cpu/optimizers.cpp.
#include "core/error.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "optim/optimizer.hpp"
#include "optim/state_io.hpp"

namespace dlcraft {

SGD::SGD(std::vector<std::pair<std::string, Tensor>> params, SgdOptions options)
    : Optimizer(std::move(params)), opt_(options) {
  init();
}

SGD::SGD(std::vector<ParamGroup> groups, SgdOptions options) : Optimizer(std::move(groups)), opt_(options) {
  init();
}

void SGD::init() {
  const SgdOptions& o = opt_;
  if (!(o.lr > 0.0f) || !(o.momentum >= 0) || !(o.weight_decay >= 0) ||
      (o.nesterov && (o.momentum <= 0 || o.dampening != 0)))
    throw ArgumentError("SGD: invalid options (lr " + std::to_string(o.lr) + ", momentum " +
                        std::to_string(o.momentum) + ", dampening " + std::to_string(o.dampening) +
                        ", weight decay " + std::to_string(o.weight_decay) +
                        (o.nesterov ? ", nesterov: needs momentum > 0 and dampening 0)" : ")"));
  resolve_group_options(o.lr, o.weight_decay, "SGD");
  for (auto& [name, p] : params_) momentum_.push_back(Tensor::zeros(p.shape(), p.device()));
}

void SGD::step() {
  ++step_;
  for (const Group& gr : groups_) {
    const SgdStep h{gr.lr, opt_.momentum, opt_.dampening, gr.weight_decay, opt_.nesterov, step_ == 1};
    for (size_t i = gr.begin; i < gr.end; ++i) {
      Tensor& p = params_[i].second;
      Tensor g = p.grad();
      if (!g.defined() || p.device().is_cuda()) continue;
      sgd_step_cpu(h, p.numel(), p.data(), g.data(), momentum_[i].data());
    }
    for_each_cuda_table(params_, gr.begin, gr.end, momentum_, nullptr,
                        [&](const ParamSlices& t) { sgd_step_cuda(h, t); });
  }
  // Parameters changed in place: a graph that saved them can no longer be backpropagated.
  for (auto& [name, p] : params_)
    if (p.grad().defined()) p.bump_version();
}

std::map<std::string, Tensor> SGD::state() const {
  std::map<std::string, Tensor> out{{"step", step_tensor(step_)}};
  for (size_t i = 0; i < params_.size(); ++i) out["momentum_buffer." + params_[i].first] = momentum_[i];
  return out;
}

void SGD::load_state(const std::map<std::string, Tensor>& state) {
  step_ = load_step(state);
  for (size_t i = 0; i < params_.size(); ++i)
    load_named(state, "momentum_buffer." + params_[i].first, momentum_[i]);
}

}  // namespace dlcraft
