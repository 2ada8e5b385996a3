// The building blocks: Conv2d, Linear, ReLU, MaxPool2d, AvgPool2d, Flatten, Sequential.
// Parameter names and default initialisation follow torch.nn.
#pragma once
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
  Conv2d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0,
         bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2d"; }
  Tensor weight, bias;  // (out, in, k, k), (out)
  int stride, padding;
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

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int kernel, int stride = 0) : kernel(kernel), stride(stride) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, kernel, stride, who()); }
  std::string type_name() const override { return "MaxPool2d"; }
  int kernel, stride;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int kernel, int stride = 0) : kernel(kernel), stride(stride) {}
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, kernel, stride, who()); }
  std::string type_name() const override { return "AvgPool2d"; }
  int kernel, stride;
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
  Sequential& add(std::shared_ptr<Module> m);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace dlcraft
