// A residual network written with dlcraft from the outside: y = relu(conv(relu(conv(x))) + x),
// trained to tell whether the bright half of an image is on the left or the right.
// Build: see examples/CMakeLists.txt. Exits 1 if it fails to learn.
#include <cstdio>
#include <dlcraft/dlcraft.hpp>

using namespace dlcraft;

// A module of our own: two 3x3 convolutions with a skip connection around them.
class ResidualBlock : public Module {
 public:
  explicit ResidualBlock(int channels) {
    conv1 = register_module("conv1", std::make_shared<Conv2d>(channels, channels, 3, 1, 1));
    conv2 = register_module("conv2", std::make_shared<Conv2d>(channels, channels, 3, 1, 1));
  }
  Tensor forward(const Tensor& x) override { return relu(conv2->forward(relu(conv1->forward(x))) + x); }
  std::string type_name() const override { return "ResidualBlock"; }
  std::shared_ptr<Conv2d> conv1, conv2;
};

class Net : public Module {
 public:
  Net() {
    stem = register_module("stem", std::make_shared<Conv2d>(1, 4, 3, 1, 1));
    block = register_module("block", std::make_shared<ResidualBlock>(4));
    fc = register_module("fc", std::make_shared<Linear>(4 * 4 * 4, 2));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = block->forward(relu(stem->forward(x)));
    return fc->forward(flatten(avg_pool2d(h, 2), 1));
  }
  std::string type_name() const override { return "Net"; }
  std::shared_ptr<Conv2d> stem;
  std::shared_ptr<ResidualBlock> block;
  std::shared_ptr<Linear> fc;
};

int main() {
  try {
    std::printf("%s\n", DLCRAFT_VERSION);
    manual_seed(0);
    Net net;
    Adam adam(net.named_parameters(), {1e-2f});
    Generator gen(1);
    const int n = 32;
    double accuracy = 0;
    for (int step = 1; step <= 60; ++step) {
      // n 8x8 images: label 1 when the right half is brighter.
      std::vector<float> x(n * 64);
      std::vector<int32_t> labels(n);
      for (int i = 0; i < n; ++i) {
        labels[i] = int32_t(gen.below(2));
        for (int p = 0; p < 64; ++p) {
          bool right = p % 8 >= 4;
          x[i * 64 + p] = gen.uniform(0, 1) + ((right == (labels[i] == 1)) ? 0.5f : 0.0f);
        }
      }
      adam.zero_grad();
      Tensor logits = net(Tensor::from_vector(x, {n, 1, 8, 8}));
      Tensor loss = cross_entropy(logits, labels);
      loss.backward();
      adam.step();
      accuracy = double(count_correct(logits, labels)) / n;
      if (step % 20 == 0) std::printf("step %d loss %.4f accuracy %.2f\n", step, loss.item(), accuracy);
    }
    return accuracy >= 0.9 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
