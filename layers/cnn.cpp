#include "layers/cnn.hpp"

namespace dlcraft {

BasicBlock::BasicBlock(int in_channels, int out_channels, int hidden_dim) {
  conv1 = register_module("conv1", std::make_shared<Conv2d>(in_channels, hidden_dim, 3, 1, 1));
  conv2 = register_module("conv2", std::make_shared<Conv2d>(hidden_dim, out_channels, 3, 1, 1));
  pool = register_module("pool", std::make_shared<MaxPool2d>(2, 2));
}

Tensor BasicBlock::forward(const Tensor& x) {
  // The notes' formula, unfused: pool(relu(conv2(relu(conv1(x))))). It still runs when a
  // sub-module has a forward hook (summary, extract_features), which must see each output.
  if (conv1->forward_hook() || conv2->forward_hook() || pool->forward_hook())
    return (*pool)(relu((*conv2)(relu((*conv1)(x)))));
  // Fused (docs/fused_epilogues.md): conv1's bias and ReLU in its output pass; conv2's ReLU
  // after the pooling, on a quarter of the values (max and ReLU commute), its backward mask
  // from the pool's saved argmax and output. Same parameters, same values.
  const Tensor h = conv2d_relu(x, conv1->weight, conv1->bias, conv1->stride, conv1->padding, conv1->who());
  return relu_max_pool2d(conv2->forward(h), pool->kernel, pool->stride, pool->padding, pool->who());
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
  // Unfused: fc3(relu(fc2(relu(fc1(h))))), kept where fc1 or fc2 has a forward hook.
  if (fc1->forward_hook() || fc2->forward_hook()) return (*fc3)(relu((*fc2)(relu((*fc1)(h)))));
  // Fused: bias and ReLU in fc1's and fc2's output pass (linear_relu, docs/fused_epilogues.md).
  h = linear_relu(h, fc1->weight, fc1->bias, fc1->who());
  h = linear_relu(h, fc2->weight, fc2->bias, fc2->who());
  return (*fc3)(h);
}

}  // namespace dlcraft
