#include "layers/layers.hpp"

#include <cmath>

#include "core/random.hpp"

namespace dlcraft {

void init_uniform_fan_in(Tensor& t, int64_t fan_in, Generator& gen) {
  const float bound = fan_in > 0 ? 1.0f / std::sqrt(float(fan_in)) : 0.0f;
  Tensor v = Tensor::uniform(t.shape(), -bound, bound, gen, Device::cpu());
  t.copy_(v);
}

Conv2d::Conv2d(int in_channels, int out_channels, int kernel_size, int stride, int padding,
               bool with_bias)
    : stride(stride), padding(padding) {
  weight = register_parameter(
      "weight", Tensor::empty({out_channels, in_channels, kernel_size, kernel_size}));
  init_uniform_fan_in(weight, int64_t(in_channels) * kernel_size * kernel_size,
                      default_generator());
  if (with_bias) {
    bias = register_parameter("bias", Tensor::empty({out_channels}));
    init_uniform_fan_in(bias, int64_t(in_channels) * kernel_size * kernel_size,
                        default_generator());
  }
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, stride, padding, who()); }

Linear::Linear(int in_features, int out_features, bool with_bias) {
  weight = register_parameter("weight", Tensor::empty({out_features, in_features}));
  init_uniform_fan_in(weight, in_features, default_generator());
  if (with_bias) {
    bias = register_parameter("bias", Tensor::empty({out_features}));
    init_uniform_fan_in(bias, in_features, default_generator());
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias, who()); }

Sequential& Sequential::add(std::shared_ptr<Module> m) {
  modules_.push_back(register_module(std::to_string(modules_.size()), std::move(m)));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& m : modules_) h = m->forward(h);
  return h;
}

}  // namespace dlcraft
