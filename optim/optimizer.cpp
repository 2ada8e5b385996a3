#include "optim/optimizer.hpp"

#include <set>

#include "core/error.hpp"

namespace dlcraft {

Optimizer::Optimizer(std::vector<std::pair<std::string, Tensor>> params)
    : Optimizer(std::vector<ParamGroup>{ParamGroup{std::move(params)}}) {}

Optimizer::Optimizer(std::vector<ParamGroup> groups) {
  if (groups.empty()) throw ArgumentError("optimizer: no parameter groups given");
  // A parameter twice would be updated twice per step, and its state names would collide.
  std::map<std::string, size_t> group_of_name;
  std::map<const TensorImpl*, std::string> name_of_tensor;
  for (size_t g = 0; g < groups.size(); ++g) {
    const size_t begin = params_.size();
    for (auto& [name, p] : groups[g].params) {
      auto [it, fresh] = group_of_name.emplace(name, g);
      if (!fresh)
        throw ArgumentError("optimizer: parameter '" + name + "' appears twice (groups " +
                            std::to_string(it->second) + " and " + std::to_string(g) + ")");
      if (p.defined()) {
        auto [at, new_tensor] = name_of_tensor.emplace(p.impl().get(), name);
        if (!new_tensor)
          throw ArgumentError("optimizer: parameter '" + name + "' is the same tensor as '" + at->second + "'");
      }
      params_.emplace_back(name, p);
    }
    groups_.push_back({begin, params_.size(), groups[g].lr, groups[g].weight_decay});
  }
}

void Optimizer::resolve_group_options(float lr, float weight_decay, const char* who) {
  for (size_t g = 0; g < groups_.size(); ++g) {
    Group& gr = groups_[g];
    if (gr.lr < 0) gr.lr = lr;
    if (gr.weight_decay < 0) gr.weight_decay = weight_decay;
    // NaN is not < 0, so it lands here too.
    if (!(gr.lr > 0.0f) || !(gr.weight_decay >= 0.0f))
      throw ArgumentError(std::string(who) + ": parameter group " + std::to_string(g) + " has lr " +
                          std::to_string(gr.lr) + " and weight decay " + std::to_string(gr.weight_decay) +
                          " (need lr > 0, weight decay >= 0)");
  }
}

const Optimizer::Group& Optimizer::group(int64_t g) const {
  if (g < 0 || g >= num_groups())
    throw ArgumentError("optimizer: no parameter group " + std::to_string(g) + " (it has " +
                        std::to_string(num_groups()) + ")");
  return groups_[size_t(g)];
}

void Optimizer::set_lr(float lr) {
  for (Group& g : groups_) g.lr = lr;
}

float Optimizer::group_lr(int64_t g) const { return group(g).lr; }

void Optimizer::set_group_lr(int64_t g, float lr) {
  group(g);  // checks the index
  groups_[size_t(g)].lr = lr;
}

float Optimizer::group_weight_decay(int64_t g) const { return group(g).weight_decay; }

void Optimizer::zero_grad() {
  for (auto& [name, p] : params_) p.zero_grad();
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name,
                                          std::vector<std::pair<std::string, Tensor>> params, float lr) {
  if (lr < 0 || !(lr == lr)) throw ArgumentError("make_optimizer: lr must be >= 0 (0: the default), got " + std::to_string(lr));
  if (name == "sgd" || name == "SGD") return std::make_unique<SGD>(std::move(params), SgdOptions{lr > 0 ? lr : 0.01f});
  if (name == "adam" || name == "Adam") return std::make_unique<Adam>(std::move(params), AdamOptions{lr > 0 ? lr : 1e-3f});
  if (name == "adamw" || name == "AdamW") {
    AdamWOptions o;
    if (lr > 0) o.lr = lr;
    return std::make_unique<AdamW>(std::move(params), o);
  }
  throw ArgumentError("unknown optimizer '" + name + "' (known: sgd, adam, adamw)");
}

}  // namespace dlcraft
