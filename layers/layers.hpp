// The building blocks: Conv2d, Linear, ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d/2d,
// Dropout, Flatten, Identity, Sequential.
// Parameter names and default initialisation follow torch.nn.
#pragma once
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/ops.hpp"
#include "layers/module.hpp"

namespace dlcraft {

class Generator;

// PyTorch's default init for conv and linear: weight and bias ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in))
// (kaiming_uniform_ with a = sqrt(5) gives exactly that bound for the weight).
void init_uniform_fan_in(Tensor& t, int64_t fan_in, Generator& gen);

class Conv2d : public Module {
 public:
  Conv2d(int in_channels, int out_channels, Size2 kernel_size, Size2 stride = 1, Size2 padding = 0,
         bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2d"; }
  Tensor weight, bias;  // (out, in, kh, kw), (out) or undefined when bias = false
  Size2 stride, padding;
};

class Linear : public Module {
 public:
  Linear(int in_features, int out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Linear"; }
  Tensor weight, bias;  // (out, in), (out)
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
  std::string type_name() const override { return "ReLU"; }
};

// stride 0 means stride = kernel (torch's stride=None).
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel, Size2 stride = 0, Size2 padding = 0)
      : kernel(kernel), stride(stride), padding(padding) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, kernel, stride, padding, who()); }
  std::string type_name() const override { return "MaxPool2d"; }
  Size2 kernel, stride, padding;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel, Size2 stride = 0, Size2 padding = 0)
      : kernel(kernel), stride(stride), padding(padding) {}
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, kernel, stride, padding, who()); }
  std::string type_name() const override { return "AvgPool2d"; }
  Size2 kernel, stride, padding;
};

// Any input size -> output_size (ResNet's (1,1) before the head, VGG's (7,7)).
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size) : output_size(output_size) {}
  Tensor forward(const Tensor& x) override { return adaptive_avg_pool2d(x, output_size, who()); }
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  Size2 output_size;
};

// BatchNorm over the channels (dim 1), as torch.nn.BatchNorm1d/2d: parameters weight (ones) and
// bias (zeros) when affine; buffers running_mean (zeros), running_var (ones) and
// num_batches_tracked (int64 0-d) when track_running_stats. train(): batch statistics, and the
// running ones updated (momentum; num_batches_tracked += 1); eval(): running statistics.
class BatchNorm : public Module {
 public:
  BatchNorm(int num_features, double eps, double momentum, bool affine, bool track_running_stats,
            int input_rank_lo, int input_rank_hi);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  double eps, momentum;

 private:
  int rank_lo_, rank_hi_;  // the input ranks this layer takes: 2..3 for 1d, 4..4 for 2d
};
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true)
      : BatchNorm(num_features, eps, momentum, affine, track_running_stats, 4, 4) {}
  std::string type_name() const override { return "BatchNorm2d"; }
};
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true)
      : BatchNorm(num_features, eps, momentum, affine, track_running_stats, 2, 3) {}
  std::string type_name() const override { return "BatchNorm1d"; }
};

// Zeroes elements with probability p in training (scaling the rest by 1/(1-p)); identity in eval.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override { return dropout(x, p, is_training(), nullptr, who()); }
  std::string type_name() const override { return "Dropout"; }
  double p;
};

// Returns its input: a placeholder where a layer was removed (a headless backbone's fc).
class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "Identity"; }
};

class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override { return flatten(x, 1); }
  std::string type_name() const override { return "Flatten"; }
};

// Runs its modules in order; they are named "0", "1", ... as in torch.nn.Sequential.
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  // Appends m (named by its position). A Dense without an input size (layers/dense.hpp) gets
  // the output size of the layers before it when that is known (Dense, Linear, and layers that
  // keep the size: activations, Dropout, BatchNorm1d, Identity).
  Sequential& add(std::shared_ptr<Module> m);
  // Keras' model.build: runs one example of `input_shape` (no batch dimension) through the
  // layers in eval mode without gradients, building each Dense still without an input size
  // from what reaches it. Call it before making the optimizer.
  void build(const Shape& input_shape);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }
  size_t size() const { return children().size(); }
  Module& operator[](size_t i) const;  // ArgumentError when out of range
};

}  // namespace dlcraft
