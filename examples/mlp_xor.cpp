// The notes' multi-layer perceptron (다층 퍼셉트론) learns XOR, which one perceptron cannot
// (examples/perceptron.cpp): a hidden layer of 4 sigmoid units bends the decision boundary.
//   h = sigmoid(x W1ᵀ + b1),  y = sigmoid(h W2ᵀ + b2),  loss = mean((y - t)²)
// Exits 1 if XOR is not learnt.
#include <cstdio>
#include <dlcraft/dlcraft.hpp>
#include <iostream>
#include <vector>

using namespace dlcraft;

class Mlp : public Module {
 public:
  Mlp() {
    hidden = register_module("hidden", std::make_shared<Linear>(2, 4));
    output = register_module("output", std::make_shared<Linear>(4, 1));
  }
  Tensor forward(const Tensor& x) override {
    return sigmoid(output->forward(sigmoid(hidden->forward(x))));
  }
  std::string type_name() const override { return "Mlp"; }
  std::shared_ptr<Linear> hidden, output;
};

int main() {
  try {
    manual_seed(1);
    Mlp net;
    Tensor x = Tensor::from_vector({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
    Tensor t = Tensor::from_vector({0, 1, 1, 0}, {4, 1});
    SGD sgd(net.named_parameters(), {/*lr=*/1.0f, /*momentum=*/0.9f});
    Tensor y;
    for (int epoch = 1; epoch <= 3000; ++epoch) {
      sgd.zero_grad();
      y = net(x);
      Tensor loss = mse_loss(y, t);
      loss.backward();
      sgd.step();
      if (epoch % 500 == 0) std::printf("epoch %4d loss %.5f\n", epoch, loss.item());
    }
    NoGradGuard no_grad;
    std::cout << "outputs: " << y << "\n";
    const int correct = int(sum(cast(eq(cast(gt(y, 0.5), DType::Float32), t), DType::Float32)).item());
    std::printf("mlp_xor: %d of 4 right\n", correct);
    return correct == 4 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
