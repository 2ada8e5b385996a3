// Keras' Dense and Activation layers on top of the existing ops (linear, sigmoid, softmax...),
// so their backward and GPU paths are those ops'. Note: docs/dense.md.
#include "layers/dense.hpp"

#include <cmath>

#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"

namespace dlcraft {

namespace {
const struct {
  Act act;
  const char* name;
} kActivations[] = {{Act::Linear, "linear"}, {Act::ReLU, "relu"},       {Act::Sigmoid, "sigmoid"},
                    {Act::Tanh, "tanh"},     {Act::Softmax, "softmax"}, {Act::GELU, "gelu"},
                    {Act::LeakyReLU, "leaky_relu"}};
}  // namespace

Act activation_from_name(const std::string& name) {
  if (name.empty()) return Act::Linear;  // Keras' activation=None
  std::string known;
  for (const auto& a : kActivations) {
    if (name == a.name) return a.act;
    known += (known.empty() ? "" : ", ") + std::string(a.name);
  }
  throw ArgumentError("unknown activation '" + name + "' (known: " + known + ")");
}

std::string activation_name(Act a) {
  for (const auto& k : kActivations)
    if (k.act == a) return k.name;
  throw ArgumentError("activation_name: not an Act value (" + std::to_string(int(a)) + ")");
}

Tensor apply_activation(const Tensor& x, Act a) {
  switch (a) {
    case Act::Linear: return x;
    case Act::ReLU: return relu(x);
    case Act::Sigmoid: return sigmoid(x);
    case Act::Tanh: return tanh(x);
    case Act::Softmax: return softmax(x, -1);  // Keras: over the last axis (the units)
    case Act::GELU: return gelu(x);            // the exact erf form, Keras' and torch's default
    case Act::LeakyReLU: return leaky_relu(x, 0.01);
  }
  throw ArgumentError("apply_activation: not an Act value (" + std::to_string(int(a)) + ")");
}

Dense::Dense(int units, Act activation, int input_dim) : units(units), activation(activation) {
  if (units < 1) throw ArgumentError("Dense: units must be >= 1, got " + std::to_string(units));
  if (input_dim < 0) throw ArgumentError("Dense: input_dim must be >= 1 (or 0: later), got " + std::to_string(input_dim));
  if (input_dim > 0) build(input_dim);
}

Dense::Dense(int units, const std::string& activation, int input_dim)
    : Dense(units, activation_from_name(activation), input_dim) {}

void Dense::build(int input_dim) {
  if (input_dim < 1) throw ArgumentError(who() + ": input_dim must be >= 1, got " + std::to_string(input_dim));
  if (built()) {
    if (weight.size(1) != input_dim)
      throw ArgumentError(who() + ": already built for " + std::to_string(weight.size(1)) +
                          " input features, not " + std::to_string(input_dim));
    return;
  }
  // Glorot (Xavier) uniform, Keras' default: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)),
  // so that the variance 2 / (fan_in + fan_out) keeps both the forward signal and the backward
  // gradient at about the same scale from layer to layer (Glorot & Bengio 2010).
  const float a = std::sqrt(6.0f / float(input_dim + units));
  weight = register_parameter("weight", Tensor::uniform({units, input_dim}, -a, a, default_generator()));
  bias = register_parameter("bias", Tensor::zeros({units}));
}

Tensor Dense::forward(const Tensor& x) {
  if (!built())
    throw ShapeError(who() + ": the input size is not known yet: give input_dim (Dense(" +
                     std::to_string(units) + ", activation, input_dim)) or call build() "
                     "(Sequential::build(input_shape) runs an example through the model)");
  if (x.dim() < 2 || x.size(-1) != weight.size(1))
    throw ShapeError(who() + ": expected an input (N, ..., " + std::to_string(weight.size(1)) +
                     "), got " + to_string(x.shape()));
  if (x.dim() == 2) return apply_activation(linear(x, weight, bias, who()), activation);
  // (N, ..., in): the same weights on every position of the middle dimensions, as Keras.
  Shape out_shape = x.shape();
  out_shape.back() = units;
  Tensor y = linear(reshape(x, {-1, weight.size(1)}), weight, bias, who());
  return apply_activation(reshape(y, out_shape), activation);
}

}  // namespace dlcraft
