// Optimizers update parameters from their .grad. Their state (moments, step count) can be
// saved and restored by name, so a checkpoint resumes training exactly.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace dlcraft {

// A set of parameters that shares its lr and weight decay (torch's param_groups), e.g. a
// pretrained backbone at a tenth of the head's lr. A value below 0 means: the optimizer's
// option (AdamOptions::lr, ...).
struct ParamGroup {
  std::vector<std::pair<std::string, Tensor>> params;
  float lr = -1;
  float weight_decay = -1;
};

class Optimizer {
 public:
  // Named parameters (use module.named_parameters()); the names key the saved state. One group.
  explicit Optimizer(std::vector<std::pair<std::string, Tensor>> params);
  // Several groups (at least one). A parameter (by name or by tensor) may appear only once in
  // all of them: ArgumentError naming it. The saved state does not depend on the grouping.
  explicit Optimizer(std::vector<ParamGroup> groups);
  virtual ~Optimizer() = default;
  void zero_grad();
  virtual void step() = 0;

  // Tensors named "<kind>.<param name>" (e.g. "exp_avg.fc1.weight") and scalars such as the
  // step count; load_state accepts what state() produced.
  virtual std::map<std::string, Tensor> state() const = 0;
  virtual void load_state(const std::map<std::string, Tensor>& state) = 0;

  // Learning rates: lr() is group 0's; set_lr sets every group's (a scheduler sets each
  // group from its own base lr with set_group_lr).
  float lr() const { return groups_.front().lr; }
  void set_lr(float lr);
  int64_t num_groups() const { return int64_t(groups_.size()); }
  float group_lr(int64_t group) const;
  void set_group_lr(int64_t group, float lr);
  float group_weight_decay(int64_t group) const;

 protected:
  // Parameters of group g are params_[groups_[g].begin, groups_[g].end): the groups are laid
  // end to end, so code that walks every parameter simply walks params_.
  struct Group {
    size_t begin, end;
    float lr, weight_decay;  // < 0 until resolve_group_options()
  };
  // Derived constructors call this with their options: fills the groups' lr and weight decay
  // left at -1, and checks them (lr > 0, weight decay >= 0) with `who` in the message.
  void resolve_group_options(float lr, float weight_decay, const char* who);
  const Group& group(int64_t g) const;

  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<Group> groups_;
};

struct AdamOptions {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<std::pair<std::string, Tensor>> params, AdamOptions options = {});
  Adam(std::vector<ParamGroup> groups, AdamOptions options = {});
  void step() override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;
  int64_t steps() const { return step_; }

 protected:
  // AdamW: the same state and step, with decoupled weight decay.
  Adam(std::vector<ParamGroup> groups, AdamOptions options, bool decoupled_weight_decay, const char* who);

 private:
  void init(const char* who);
  AdamOptions opt_;
  bool decoupled_ = false;
  int64_t step_ = 0;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;  // m and v, one per parameter
};

// As torch.optim.AdamW; weight decay defaults to 1e-2 there, as here.
struct AdamWOptions {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 1e-2f;
};

// Adam with decoupled weight decay (Loshchilov & Hutter): each step first shrinks the weights,
// p *= 1 - lr * weight_decay, then takes Adam's step with the plain gradient. State names are
// Adam's (exp_avg.<param>, exp_avg_sq.<param>, step). docs/adam.md.
class AdamW : public Adam {
 public:
  AdamW(std::vector<std::pair<std::string, Tensor>> params, AdamWOptions options = {});
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options = {});
};

struct SgdOptions {
  float lr = 1e-2f, momentum = 0.0f, dampening = 0.0f, weight_decay = 0.0f;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<std::pair<std::string, Tensor>> params, SgdOptions options = {});
  SGD(std::vector<ParamGroup> groups, SgdOptions options = {});
  void step() override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;

 private:
  void init();
  SgdOptions opt_;
  int64_t step_ = 0;
  std::vector<Tensor> momentum_;
};

// Keras' compile(optimizer="sgd"): an optimizer by name — "sgd", "adam", "adamw" — with the
// lr given, or Keras' default when lr is 0 (SGD 0.01, Adam/AdamW 0.001). ArgumentError listing
// the names otherwise. #include <memory> users: the caller owns the result.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name,
                                          std::vector<std::pair<std::string, Tensor>> params, float lr = 0.0f);

}  // namespace dlcraft
