// Optimizers update parameters from their .grad. Their state (moments, step count) can be
// saved and restored by name, so a checkpoint resumes training exactly.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace dlcraft {

class Optimizer {
 public:
  // Named parameters (use module.named_parameters()); the names key the saved state.
  explicit Optimizer(std::vector<std::pair<std::string, Tensor>> params);
  virtual ~Optimizer() = default;
  void zero_grad();
  virtual void step() = 0;

  // Tensors named "<kind>.<param name>" (e.g. "exp_avg.fc1.weight") and scalars such as the
  // step count; load_state accepts what state() produced.
  virtual std::map<std::string, Tensor> state() const = 0;
  virtual void load_state(const std::map<std::string, Tensor>& state) = 0;
  float lr() const { return lr_; }
  void set_lr(float lr) { lr_ = lr; }

 protected:
  std::vector<std::pair<std::string, Tensor>> params_;
  float lr_ = 1e-3f;
};

struct AdamOptions {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<std::pair<std::string, Tensor>> params, AdamOptions options = {});
  void step() override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;
  int64_t steps() const { return step_; }

 private:
  AdamOptions opt_;
  int64_t step_ = 0;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;  // m and v, one per parameter
};

struct SgdOptions {
  float lr = 1e-2f, momentum = 0.0f, dampening = 0.0f, weight_decay = 0.0f;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<std::pair<std::string, Tensor>> params, SgdOptions options = {});
  void step() override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& state) override;

 private:
  SgdOptions opt_;
  int64_t step_ = 0;
  std::vector<Tensor> momentum_;
};

}  // namespace dlcraft
