#include "layers/module.hpp"

#include <set>

#include "core/autograd.hpp"
#include "core/error.hpp"

namespace dlcraft {

Tensor& Module::register_parameter(const std::string& name, Tensor t) {
  t.requires_grad_(true);
  params_.emplace_back(name, std::move(t));
  return params_.back().second;
}

void Module::set_path(const std::string& p) {
  path_ = p;
  for (auto& [name, child] : children_) child->set_path(p + "." + name);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : params_) out.emplace_back(name, t);
  for (const auto& [cname, child] : children_)
    for (auto& [name, t] : child->named_parameters()) out.emplace_back(cname + "." + name, t);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

void Module::to(Device device) {
  for (Tensor& t : parameters()) {
    if (t.device() == device) continue;
    Tensor moved = t.to(device);
    t.impl()->buffer = moved.impl()->buffer;  // same handle, new memory
    t.zero_grad();
  }
}

Device Module::device() const {
  auto ps = parameters();
  return ps.empty() ? Device::cpu() : ps.front().device();
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_parameters()) out[name] = t;
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  std::set<std::string> used;
  for (auto& [name, t] : named_parameters()) {
    auto it = state.find(name);
    if (it == state.end()) {
      if (strict) throw ArgumentError("load_state_dict: missing parameter '" + name + "'");
      continue;
    }
    // A checkpoint may hold int64/bool tensors now (safetensors I64/BOOL); parameters are float32.
    if (it->second.dtype() != t.dtype())
      throw DTypeError("load_state_dict: '" + name + "' is " + to_string(it->second.dtype()) +
                       ", the model expects " + to_string(t.dtype()));
    if (it->second.shape() != t.shape())
      throw ShapeError("load_state_dict: '" + name + "' has shape " +
                       to_string(it->second.shape()) + ", the model expects " +
                       to_string(t.shape()));
    t.copy_(it->second);
    used.insert(name);
  }
  if (strict)
    for (auto& [name, t] : state)
      if (!used.count(name))
        throw ArgumentError("load_state_dict: unexpected parameter '" + name + "'");
}

}  // namespace dlcraft
