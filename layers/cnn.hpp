// The notes' model. BasicBlock(in, out, hidden) = conv3x3 pad 1 (in->hidden) -> ReLU ->
// conv3x3 pad 1 (hidden->out) -> ReLU -> maxpool 2x2. CNN = three blocks (3->32, 32->128,
// 128->256) on 32x32 images, flatten (256*4*4 = 4096), fc 2048 -> ReLU -> fc 256 -> ReLU ->
// fc num_classes. Parameter names match PyTorch's state_dict of the same model.
#pragma once
#include <memory>

#include "layers/layers.hpp"

namespace dlcraft {

class BasicBlock : public Module {
 public:
  BasicBlock(int in_channels, int out_channels, int hidden_dim);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BasicBlock"; }
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<MaxPool2d> pool;
};

class CNN : public Module {
 public:
  explicit CNN(int num_classes = 10);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "CNN"; }
  std::shared_ptr<BasicBlock> block1, block2, block3;
  std::shared_ptr<Linear> fc1, fc2, fc3;
};

}  // namespace dlcraft
