#include "layers/layers.hpp"

#include <cmath>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "layers/dense.hpp"
#include "train/training.hpp"

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

namespace {
// The number of features `m` puts out when its layer alone tells (Dense, Linear), -1 when it
// keeps its input's size (activations, Dropout, BatchNorm1d, Identity), 0 when it is not known.
constexpr int64_t kKeepsSize = -1;
int64_t features_out(Module& m) {
  if (auto* d = dynamic_cast<Dense*>(&m)) return d->units;
  if (auto* l = dynamic_cast<Linear*>(&m)) return l->weight.size(0);
  if (dynamic_cast<Activation*>(&m) || dynamic_cast<ReLU*>(&m) || dynamic_cast<Dropout*>(&m) ||
      dynamic_cast<BatchNorm1d*>(&m) || dynamic_cast<Identity*>(&m))
    return kKeepsSize;
  return 0;  // Flatten, Conv2d, a model of the user's: only a forward pass knows
}
}  // namespace

Sequential& Sequential::add(std::shared_ptr<Module> m) {
  // Keras' Sequential.add: a Dense without an input size takes the output size of the layers
  // before it, walking back over those that keep the size (Dense -> Dropout -> Dense).
  if (auto* dense = dynamic_cast<Dense*>(m.get()); dense && !dense->built()) {
    int64_t n = 0;
    for (size_t i = children().size(); i-- > 0;) {
      n = features_out(*children()[i].second);
      if (n != kKeepsSize) break;
    }
    if (n > 0) dense->build(int(n));  // else build() or the first forward's error will say
  }
  register_module(std::to_string(children().size()), std::move(m));
  return *this;
}

namespace {
// One example through the layers of `seq`, building each unbuilt Dense from the features that
// reach it (nested Sequentials too).
Tensor build_through(Sequential& seq, Tensor x) {
  for (auto& [name, m] : seq.children()) {
    if (auto* inner = dynamic_cast<Sequential*>(m.get())) {
      x = build_through(*inner, x);
      continue;
    }
    if (auto* dense = dynamic_cast<Dense*>(m.get()); dense && !dense->built()) {
      if (x.dim() < 2)
        throw ShapeError(dense->who() + ": cannot build from an input " + to_string(x.shape()) +
                         " (expected (N, ..., features))");
      dense->build(int(x.size(-1)));
      if (x.device() != Device::cpu()) dense->to(x.device());  // beside the layers before it
    }
    x = (*m)(x);
  }
  return x;
}
}  // namespace

void Sequential::build(const Shape& input_shape) {
  for (int64_t d : input_shape)
    if (d < 1)
      throw ArgumentError(who() + ": build: input_shape " + to_string(input_shape) +
                          " has a dimension < 1 (give one example's shape, without the batch)");
  // Eval mode (BatchNorm's running statistics, no dropout) and no graph: an inference pass
  // that changes nothing but the new weights; each module's mode comes back afterwards.
  EvalModeGuard eval_mode(*this);
  NoGradGuard no_grad;
  Shape shape{1};
  shape.insert(shape.end(), input_shape.begin(), input_shape.end());
  build_through(*this, zeros(shape, device()));
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
