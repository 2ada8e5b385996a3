// Keras' Dense and Activation layers: Dense(units, activation) is a Linear layer followed by an
// activation chosen by name or enum. The input size may be left out; Sequential::add fills it
// in from the layer before (as Keras infers it), or Sequential::build(input_shape) does.
// Parameters are named and laid out as torch's Linear ("weight" (units, in), "bias" (units)),
// so a state_dict loads into torch.nn.Linear; initialised as Keras does (Glorot uniform weight,
// zero bias). Note: docs/dense.md.
#pragma once
#include <string>

#include "layers/module.hpp"

namespace dlcraft {

enum class Act { Linear, ReLU, Sigmoid, Tanh, Softmax, GELU, LeakyReLU };
// "linear" (or ""), "relu", "sigmoid", "tanh", "softmax" (over the last dim), "gelu",
// "leaky_relu" (slope 0.01); ArgumentError listing them otherwise.
Act activation_from_name(const std::string& name);
std::string activation_name(Act a);
Tensor apply_activation(const Tensor& x, Act a);

class Activation : public Module {
 public:
  explicit Activation(Act a) : act(a) {}
  explicit Activation(const std::string& name) : act(activation_from_name(name)) {}
  Tensor forward(const Tensor& x) override { return apply_activation(x, act); }
  std::string type_name() const override { return "Activation"; }
  Act act;
};

class Dense : public Module {
 public:
  // input_dim 0: set later by build() (Sequential::add or Sequential::build do it).
  explicit Dense(int units, Act activation = Act::Linear, int input_dim = 0);
  Dense(int units, const std::string& activation, int input_dim = 0);
  // Creates weight and bias for inputs of `input_dim` features; ArgumentError if already
  // built with another size.
  void build(int input_dim);
  bool built() const { return weight.defined(); }
  // (N, in) or (N, ..., in) -> (..., units). ShapeError naming the layer when not built or the
  // last dimension is not input_dim.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dense"; }
  Tensor weight, bias;
  int units;
  Act activation;
};

}  // namespace dlcraft
