// Module: a piece of a model with named parameters and named sub-modules, like torch.nn.Module.
// Names join with '.', so a parameter's full name matches PyTorch's state_dict
// ("block1.conv1.weight"); the same path names the module in shape errors.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace dlcraft {

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // "Linear", "Conv2d"...: used with the path in error messages.
  virtual std::string type_name() const = 0;
  // Where this module sits in the model ("block1.conv1"); empty for the root.
  const std::string& path() const { return path_; }
  // "fc1 (Linear)": how ops name this module in errors.
  std::string who() const { return (path_.empty() ? std::string("model") : path_) + " (" + type_name() + ")"; }

  // All parameters, depth first in registration order, with their full names.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t parameter_count() const;

  // Moves every parameter to `device` in place (existing handles see the new memory).
  void to(Device device);
  Device device() const;

  // name -> tensor (a copy-free view of the parameters).
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in; every parameter must be present with its shape unless strict is false.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

 protected:
  Tensor& register_parameter(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    m->set_path(path_.empty() ? name : path_ + "." + name);
    children_.emplace_back(name, m);
    return m;
  }

 private:
  void set_path(const std::string& p);
  std::string path_;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace dlcraft
