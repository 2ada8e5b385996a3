#include "layers/layers.hpp"

#include <cmath>

#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/random.hpp"

namespace dlcraft {

void init_uniform_fan_in(Tensor& t, int64_t fan_in, Generator& gen) {
  const float bound = fan_in > 0 ? 1.0f / std::sqrt(float(fan_in)) : 0.0f;
  Tensor v = Tensor::uniform(t.shape(), -bound, bound, gen, Device::cpu());
  t.copy_(v);
}

Conv2d::Conv2d(int in_channels, int out_channels, Size2 kernel_size, Size2 stride, Size2 padding,
               bool with_bias)
    : stride(stride), padding(padding) {
  weight = register_parameter(
      "weight", Tensor::empty({out_channels, in_channels, kernel_size.h, kernel_size.w}));
  const int64_t fan_in = int64_t(in_channels) * kernel_size.h * kernel_size.w;
  init_uniform_fan_in(weight, fan_in, default_generator());
  if (with_bias) {
    bias = register_parameter("bias", Tensor::empty({out_channels}));
    init_uniform_fan_in(bias, fan_in, default_generator());
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

BatchNorm::BatchNorm(int num_features, double eps, double momentum, bool affine,
                     bool track_running_stats, int input_rank_lo, int input_rank_hi)
    : eps(eps), momentum(momentum), rank_lo_(input_rank_lo), rank_hi_(input_rank_hi) {
  if (num_features < 1) throw ArgumentError("BatchNorm: num_features must be >= 1");
  if (affine) {
    weight = register_parameter("weight", ones({num_features}));
    bias = register_parameter("bias", Tensor::zeros({num_features}));
  }
  if (track_running_stats) {
    running_mean = register_buffer("running_mean", Tensor::zeros({num_features}));
    running_var = register_buffer("running_var", ones({num_features}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::Int64));
  }
}

Tensor BatchNorm::forward(const Tensor& x) {
  if (x.dim() < rank_lo_ || x.dim() > rank_hi_)
    throw ShapeError(who() + ": expected a " +
                     (rank_lo_ == rank_hi_ ? std::to_string(rank_lo_) + "-d"
                                           : std::to_string(rank_lo_) + "-d or " + std::to_string(rank_hi_) + "-d") +
                     " input, got " + to_string(x.shape()));
  // Batch statistics in training, and always when there are no running ones (torch's rule).
  const bool use_batch = is_training() || !running_mean.defined();
  Tensor y = batch_norm(x, running_mean, running_var, weight, bias, use_batch, momentum, eps, who());
  if (is_training() && num_batches_tracked.defined()) {
    // A 0-d int64 tensor like torch's, so state_dicts match; kept in host memory (Module::to).
    num_batches_tracked.data_ptr<int64_t>()[0] += 1;
    num_batches_tracked.bump_version();
  }
  return y;
}

Dropout::Dropout(double p) : p(p) {
  if (!(p >= 0.0 && p <= 1.0)) throw ArgumentError("Dropout: p must be in [0, 1], got " + std::to_string(p));
}

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (auto& m : modules) add(m);
}

Sequential& Sequential::add(std::shared_ptr<Module> m) {
  register_module(std::to_string(children().size()), std::move(m));
  return *this;
}

Module& Sequential::operator[](size_t i) const {
  if (i >= children().size())
    throw ArgumentError(who() + ": index " + std::to_string(i) + " out of range (size " +
                        std::to_string(children().size()) + ")");
  return *children()[i].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& [name, m] : children()) h = (*m)(h);
  return h;
}

}  // namespace dlcraft
