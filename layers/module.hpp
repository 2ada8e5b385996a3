// Module: a piece of a model with named parameters and named sub-modules, like torch.nn.Module.
// Names join with '.', so a parameter's full name matches PyTorch's state_dict
// ("block1.conv1.weight"); the same path names the module in shape errors.
#pragma once
#include <functional>
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
  // Runs forward, then the forward hook if one is set (feature extraction uses it). Models call
  // their children through this, never through forward() directly, so hooks always fire.
  Tensor operator()(const Tensor& x);

  // "Linear", "Conv2d"...: used with the path in error messages.
  virtual std::string type_name() const = 0;
  // Where this module sits in the model ("block1.conv1"); empty for the root.
  const std::string& path() const { return path_; }
  // "fc1 (Linear)": how ops name this module in errors.
  std::string who() const { return (path_.empty() ? std::string("model") : path_) + " (" + type_name() + ")"; }

  // All parameters, depth first in registration order, with their full names.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  // Only those that require grad (what an optimizer should get once part is frozen).
  std::vector<std::pair<std::string, Tensor>> trainable_parameters() const;
  int64_t parameter_count() const;
  // Buffers: state that is saved but not trained (BatchNorm's running_mean, running_var and
  // num_batches_tracked), with their full names, depth first.
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  // Every module of the tree with its full name, depth first, the root first as "" (torch's
  // named_modules()).
  std::vector<std::pair<std::string, Module*>> named_modules();
  // The module at a dotted path ("layer4.1.conv2"); ArgumentError listing what exists if none.
  Module& submodule(const std::string& name);
  // The direct children, in registration order.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

  // train(true) / eval(): sets training mode here and in every child (BatchNorm, Dropout).
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // This module's flag alone, children untouched (to restore a saved mix of modes).
  void set_training_flag(bool on) { training_ = on; }
  // Freezing: requires_grad of every parameter in this sub-tree (false = frozen).
  void requires_grad_(bool on);

  // Moves every parameter and float buffer to `device` in place (existing handles see the new
  // memory); integer buffers (counters) stay in host memory.
  void to(Device device);
  Device device() const;

  // name -> tensor: parameters and buffers (copy-free views), as torch's state_dict().
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in. strict: every parameter and buffer present with its shape and dtype, no
  // extra names; the error lists the first few of each kind of mismatch. Not strict: only the
  // names both have are copied (shapes must still match).
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  // Puts `m` where the module `name` was (a dotted path: "fc", "classifier.6"; same place in
  // the order) and returns it. A model that keeps the old one in a member must update it too
  // (the models' reset_classifier() do), as with LibTorch's replace_module.
  template <class M>
  std::shared_ptr<M> replace_module(const std::string& name, std::shared_ptr<M> m) {
    set_child(name, m);
    return m;
  }

  // Called with (module, output) after forward; one per module, empty to remove.
  using ForwardHook = std::function<void(Module&, const Tensor&)>;
  void set_forward_hook(ForwardHook hook) { hook_ = std::move(hook); }
  const ForwardHook& forward_hook() const { return hook_; }

 protected:
  Tensor& register_parameter(const std::string& name, Tensor t);
  Tensor& register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    m->set_path(path_.empty() ? name : path_ + "." + name);
    m->train(training_);
    children_.emplace_back(name, m);
    return m;
  }
 private:
  void set_path(const std::string& p);
  void set_child(const std::string& name, std::shared_ptr<Module> m);
  std::string path_;
  bool training_ = true;
  ForwardHook hook_;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// Runs `model` on x and returns the output of the module named `layer` (a name from
// named_modules(), e.g. "layer3" or "features.23"), stopping there: the rest of the model does
// not run (torchvision's create_feature_extractor, Keras' Model(inputs, layer.output)).
// ArgumentError naming the layer when there is no such module or it never ran.
Tensor extract_features(Module& model, const Tensor& x, const std::string& layer);

}  // namespace dlcraft
