#include "layers/module.hpp"

#include <set>

#include "core/autograd.hpp"
#include "core/error.hpp"

namespace dlcraft {

Tensor Module::operator()(const Tensor& x) {
  Tensor y = forward(x);
  if (hook_) hook_(*this, y);
  return y;
}

Tensor& Module::register_parameter(const std::string& name, Tensor t) {
  t.requires_grad_(true);
  params_.emplace_back(name, std::move(t));
  return params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, std::move(t));
  return buffers_.back().second;
}

void Module::set_path(const std::string& p) {
  path_ = p;
  for (auto& [name, child] : children_) child->set_path(p.empty() ? name : p + "." + name);
}

void Module::set_child(const std::string& name, std::shared_ptr<Module> m) {
  const size_t dot = name.rfind('.');
  if (dot != std::string::npos) {  // "classifier.6": the parent replaces its child "6"
    submodule(name.substr(0, dot)).set_child(name.substr(dot + 1), std::move(m));
    return;
  }
  for (auto& [cname, child] : children_)
    if (cname == name) {
      m->set_path(path_.empty() ? name : path_ + "." + name);
      m->train(training_);
      child = std::move(m);
      return;
    }
  submodule(name);  // throws, listing the children
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : params_) out.emplace_back(name, t);
  for (const auto& [cname, child] : children_)
    for (auto& [name, t] : child->named_parameters()) out.emplace_back(cname + "." + name, t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::trainable_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, t] : named_parameters())
    if (t.requires_grad()) out.emplace_back(name, t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : buffers_) out.emplace_back(name, t);
  for (const auto& [cname, child] : children_)
    for (auto& [name, t] : child->named_buffers()) out.emplace_back(cname + "." + name, t);
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

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [cname, child] : children_)
    for (auto& [name, m] : child->named_modules())
      out.emplace_back(name.empty() ? cname : cname + "." + name, m);
  return out;
}

Module& Module::submodule(const std::string& name) {
  Module* m = this;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t dot = name.find('.', start);
    const std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    Module* next = nullptr;
    for (auto& [cname, child] : m->children_)
      if (cname == part) next = child.get();
    if (!next) {
      std::string have;
      for (auto& [cname, child] : m->children_) have += (have.empty() ? "" : ", ") + cname;
      const std::string where = m->path_.empty() ? "the model" : "'" + m->path_ + "'";
      throw ArgumentError("no module '" + name + "': " + where + " has " +
                          (have.empty() ? std::string("no children") : "children " + have));
    }
    m = next;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *m;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::requires_grad_(bool on) {
  for (Tensor& t : parameters()) {
    t.requires_grad_(on);
    if (!on) t.zero_grad();
  }
}

void Module::to(Device device) {
  auto move = [&](Tensor t) {
    if (t.device() == device) return;
    Tensor moved = t.to(device);
    t.impl()->buffer = moved.impl()->buffer;  // same handle, new memory
    if (t.requires_grad()) t.zero_grad();
  };
  for (Tensor& t : parameters()) move(t);
  // Integer buffers (BatchNorm's num_batches_tracked) are counters the host bumps every step:
  // they stay in host memory, where a GPU copy would cost a synchronisation per layer per step.
  for (auto& [name, t] : named_buffers())
    if (t.dtype() == DType::Float32) move(t);
}

Device Module::device() const {
  auto ps = parameters();
  return ps.empty() ? Device::cpu() : ps.front().device();
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_parameters()) out[name] = t;
  for (auto& [name, t] : named_buffers()) out[name] = t;
  return out;
}

namespace {
// "a, b, c and 12 more": the first few names of a list, for errors about a whole state dict.
std::string first_few(const std::vector<std::string>& names) {
  std::string s;
  const size_t shown = std::min<size_t>(names.size(), 5);
  for (size_t i = 0; i < shown; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > shown) s += " and " + std::to_string(names.size() - shown) + " more";
  return s;
}
}  // namespace

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  auto mine = named_parameters();
  for (auto& b : named_buffers()) mine.push_back(b);
  // Check everything first so a failed load changes nothing, and report every kind of mismatch.
  std::vector<std::string> missing, unexpected, wrong;
  bool shape_wrong = false;
  std::set<std::string> known;
  for (auto& [name, t] : mine) {
    known.insert(name);
    auto it = state.find(name);
    if (it == state.end()) {
      missing.push_back("'" + name + "'");
      continue;
    }
    if (it->second.dtype() != t.dtype())
      wrong.push_back("'" + name + "' is " + to_string(it->second.dtype()) + ", expected " + to_string(t.dtype()));
    else if (it->second.shape() != t.shape()) {
      shape_wrong = true;
      wrong.push_back("'" + name + "' " + to_string(it->second.shape()) + ", expected " + to_string(t.shape()));
    }
  }
  for (auto& [name, t] : state)
    if (!known.count(name)) unexpected.push_back("'" + name + "'");
  std::string problems;
  if (!wrong.empty()) problems += "; " + std::to_string(wrong.size()) + " mismatched: " + first_few(wrong);
  if (strict && !missing.empty())
    problems += "; " + std::to_string(missing.size()) + " missing: " + first_few(missing);
  if (strict && !unexpected.empty())
    problems += "; " + std::to_string(unexpected.size()) + " unexpected: " + first_few(unexpected);
  if (!problems.empty()) {
    const std::string msg = "load_state_dict: the weights do not fit this model" + problems;
    if (shape_wrong) throw ShapeError(msg);  // typically the weights of another model
    if (!wrong.empty()) throw DTypeError(msg);
    throw ArgumentError(msg);
  }
  for (auto& [name, t] : mine) {
    auto it = state.find(name);
    if (it != state.end()) t.copy_(it->second);
  }
}

Tensor extract_features(Module& model, const Tensor& x, const std::string& layer) {
  Module& target = layer.empty() ? model : model.submodule(layer);
  struct Stop {};  // thrown by the hook to leave the forward pass early
  struct HookGuard {
    Module& m;
    ~HookGuard() { m.set_forward_hook(nullptr); }
  } guard{target};
  Tensor out;
  target.set_forward_hook([&](Module&, const Tensor& y) {
    out = y;
    throw Stop{};
  });
  try {
    model(x);
  } catch (const Stop&) {
    return out;
  }
  throw ArgumentError("extract_features: module '" + layer + "' did not run in " + model.type_name() +
                      "'s forward");
}

}  // namespace dlcraft
