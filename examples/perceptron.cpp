// The notes' perceptron (퍼셉트론): y = sigmoid(w0 + w1*x1 + w2*x2), trained by gradient
// descent (경사하강법) on the mean squared error (평균 제곱 오차) of the four inputs of a logic
// gate. It learns AND and OR; it cannot learn XOR, whose two classes no straight line separates
// — the reason the notes move on to the multi-layer perceptron (examples/mlp_xor.cpp).
// Exits 1 if AND or OR is not learnt, or if XOR is (that would be a bug).
#include <cstdio>
#include <dlcraft/dlcraft.hpp>
#include <string>
#include <vector>

using namespace dlcraft;

// Trains a perceptron on one gate's truth table; returns how many of the 4 inputs it gets right.
int train_gate(const std::string& name, const std::vector<float>& targets) {
  // The four inputs (x1, x2) and the gate's outputs, as (4,2) and (4,1) tensors.
  Tensor x = Tensor::from_vector({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  Tensor t = Tensor::from_vector(targets, {4, 1});
  // Weights w1, w2 and bias w0 (가중치/편향), small random values to start.
  Generator gen(42);
  Tensor w = mul(randn({2, 1}, gen), 0.1).requires_grad_();
  Tensor w0 = zeros({1}, TensorOptions().with_requires_grad());
  SGD sgd({{"w", w}, {"w0", w0}}, {/*lr=*/2.0f});
  Tensor y;
  for (int epoch = 1; epoch <= 2000; ++epoch) {
    sgd.zero_grad();
    y = sigmoid(matmul(x, w) + w0);  // 순전파: (4,2)x(2,1) + (1) broadcast -> (4,1)
    Tensor loss = mse_loss(y, t);
    loss.backward();                 // 역전파: dL/dw, dL/dw0
    sgd.step();                      // w <- w - lr * dL/dw
    if (epoch % 500 == 0) std::printf("%s epoch %4d loss %.4f\n", name.c_str(), epoch, loss.item());
  }
  NoGradGuard no_grad;
  Tensor predicted = cast(gt(y, 0.5), DType::Float32);
  const int correct = int(sum(cast(eq(predicted, t), DType::Float32)).item());
  std::vector<float> out = y.to_vector();
  std::printf("%s: outputs %.3f %.3f %.3f %.3f, %d of 4 right\n", name.c_str(), out[0], out[1],
              out[2], out[3], correct);
  return correct;
}

int main() {
  try {
    const int and_ok = train_gate("AND", {0, 0, 0, 1});
    const int or_ok = train_gate("OR", {0, 1, 1, 1});
    const int xor_ok = train_gate("XOR", {0, 1, 1, 0});
    if (and_ok != 4 || or_ok != 4) {
      std::fprintf(stderr, "perceptron: AND or OR not learnt\n");
      return 1;
    }
    if (xor_ok == 4) {
      std::fprintf(stderr, "perceptron: a single perceptron cannot learn XOR, yet it did\n");
      return 1;
    }
    std::printf("perceptron: AND and OR learnt, XOR not (as the notes say)\n");
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
