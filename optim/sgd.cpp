// SGD with momentum, as torch.optim.SGD. Per-element update: kernels/cpu/optimizers.cpp.
#include "core/error.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "optim/optimizer.hpp"
#include "optim/state_io.hpp"

namespace dlcraft {

SGD::SGD(std::vector<std::pair<std::string, Tensor>> params, SgdOptions options)
    : Optimizer(std::move(params)), opt_(options) {
  if (!(options.lr > 0.0f) || options.momentum < 0 || options.weight_decay < 0 ||
      (options.nesterov && (options.momentum <= 0 || options.dampening != 0)))
    throw ArgumentError("SGD: invalid options (lr " + std::to_string(options.lr) + ", momentum " +
                        std::to_string(options.momentum) + ")");
  lr_ = options.lr;
  for (auto& [name, p] : params_) momentum_.push_back(Tensor::zeros(p.shape(), p.device()));
}

void SGD::step() {
  ++step_;
  SgdStep h{lr_, opt_.momentum, opt_.dampening, opt_.weight_decay, opt_.nesterov, step_ == 1};
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i].second;
    Tensor g = p.grad();
    if (!g.defined() || p.device().is_cuda()) continue;
    sgd_step_cpu(h, p.numel(), p.data(), g.data(), momentum_[i].data());
  }
  for_each_cuda_table(params_, momentum_, nullptr, [&](const ParamSlices& t) { sgd_step_cuda(h, t); });
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
