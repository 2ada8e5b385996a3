#include "layers/cnn.hpp"

namespace dlcraft {

BasicBlock::BasicBlock(int in_channels, int out_channels, int hidden_dim) {
  conv1 = register_module("conv1", std::make_shared<Conv2d>(in_channels, hidden_dim, 3, 1, 1));
  conv2 = register_module("conv2", std::make_shared<Conv2d>(hidden_dim, out_channels, 3, 1, 1));
  pool = register_module("pool", std::make_shared<MaxPool2d>(2, 2));
}

Tensor BasicBlock::forward(const Tensor& x) {
  return (*pool)(relu((*conv2)(relu((*conv1)(x)))));
}

CNN::CNN(int num_classes) {
  // Same construction order as the PyTorch model, so a seeded init draws in the same order.
  block1 = register_module("block1", std::make_shared<BasicBlock>(3, 32, 16));
  block2 = register_module("block2", std::make_shared<BasicBlock>(32, 128, 64));
  block3 = register_module("block3", std::make_shared<BasicBlock>(128, 256, 128));
  fc1 = register_module("fc1", std::make_shared<Linear>(4096, 2048));
  fc2 = register_module("fc2", std::make_shared<Linear>(2048, 256));
  fc3 = register_module("fc3", std::make_shared<Linear>(256, num_classes));
}

Tensor CNN::forward(const Tensor& x) {
  Tensor h = (*block3)((*block2)((*block1)(x)));
  h = flatten(h, 1);
  return (*fc3)(relu((*fc2)(relu((*fc1)(h)))));
}

}  // namespace dlcraft
