// An MLP separates two interleaved spirals: 2 inputs -> 32 -> 32 tanh units -> 1 logit,
// trained with binary cross-entropy on the logits (binary_cross_entropy_with_logits) and
// Adam, in mini-batches (배치) over several epochs (에폭). The spirals are generated here:
// class c, point i at radius a/3π + 0.05 and angle a + πc, a = 3π·i/n, plus noise: two arms of
// 1.5 turns, one turned by half a circle.
// Exits 1 if the training accuracy stays below 95%.
#include <cmath>
#include <cstdio>
#include <dlcraft/dlcraft.hpp>
#include <vector>

using namespace dlcraft;

class Mlp : public Module {
 public:
  Mlp() {
    fc1 = register_module("fc1", std::make_shared<Linear>(2, 32));
    fc2 = register_module("fc2", std::make_shared<Linear>(32, 32));
    fc3 = register_module("fc3", std::make_shared<Linear>(32, 1));
  }
  Tensor forward(const Tensor& x) override {
    return fc3->forward(tanh(fc2->forward(tanh(fc1->forward(x)))));
  }
  std::string type_name() const override { return "Mlp"; }
  std::shared_ptr<Linear> fc1, fc2, fc3;
};

int main() {
  try {
    manual_seed(0);
    Generator gen(3);
    const int per_class = 200, n = 2 * per_class;
    std::vector<float> xs, ts;
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i < per_class; ++i) {
        // The same arm for both classes, the second turned by half a circle.
        const float a = 3.0f * float(M_PI) * float(i) / per_class;
        const float r = a / (3.0f * float(M_PI)) + 0.05f, angle = a + float(M_PI) * c;
        xs.push_back(r * std::cos(angle) + 0.02f * gen.normal());
        xs.push_back(r * std::sin(angle) + 0.02f * gen.normal());
        ts.push_back(float(c));
      }
    Tensor x = Tensor::from_vector(xs, {n, 2}), t = Tensor::from_vector(ts, {n, 1});

    Mlp net;
    Adam adam(net.named_parameters(), {/*lr=*/0.01f});
    const int batch = 50;
    double accuracy = 0;
    for (int epoch = 1; epoch <= 300; ++epoch) {
      // A new order of the points every epoch; batches are index_select'ed rows.
      std::vector<int64_t> idx(n);
      for (int i = 0; i < n; ++i) idx[i] = i;
      for (int i = n - 1; i > 0; --i) std::swap(idx[i], idx[gen.below(uint64_t(i + 1))]);
      Tensor order = Tensor::from_vector(idx, {n});
      double total = 0;
      for (int start = 0; start < n; start += batch) {
        Tensor rows = narrow(order, 0, start, batch);
        adam.zero_grad();
        Tensor loss = binary_cross_entropy_with_logits(net(index_select(x, 0, rows)),
                                                       index_select(t, 0, rows));
        loss.backward();
        adam.step();
        total += loss.item() * batch;
      }
      if (epoch % 50 == 0) {
        NoGradGuard no_grad;
        Tensor predicted = cast(gt(net(x), 0.0), DType::Float32);
        accuracy = mean(cast(eq(predicted, t), DType::Float32)).item();
        std::printf("epoch %3d loss %.4f accuracy %.3f\n", epoch, total / n, accuracy);
      }
    }
    std::printf("mlp_spiral: training accuracy %.3f\n", accuracy);
    return accuracy >= 0.95 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
