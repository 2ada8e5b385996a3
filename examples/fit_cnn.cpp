// A CNN (합성곱 신경망) through fit: convolution, pooling, Flatten, then a Dense layer whose input
// size build() finds, on 12x12 images the program draws itself: a horizontal bar, a vertical
// bar or a diagonal, at a random place, with noise. Prints the summary, trains with Adam and
// early stopping, and reports the validation accuracy. Exits 1 below 90 %.
#include <cstdio>
#include <dlcraft/dlcraft.hpp>
#include <iostream>
#include <random>
#include <vector>

using namespace dlcraft;

// n images (n, 1, 12, 12) and their classes: 0 horizontal, 1 vertical, 2 diagonal.
TensorDataset draw_bars(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::uniform_int_distribution<int> at(1, 10);
  std::vector<float> px(size_t(n) * 144);
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    float* img = px.data() + i * 144;
    for (int k = 0; k < 144; ++k) img[k] = noise(rng);
    const int cls = int(i % 3), p = at(rng);
    for (int k = 1; k < 11; ++k) {
      if (cls == 0) img[p * 12 + k] += 1.0f;
      if (cls == 1) img[k * 12 + p] += 1.0f;
      if (cls == 2) img[k * 12 + k] += 1.0f;
    }
    labels[size_t(i)] = cls;
  }
  return TensorDataset(Tensor::from_vector(px, {n, 1, 12, 12}), Tensor::from_vector(labels, {n}));
}

int main() {
  try {
    manual_seed(5);
    const TensorDataset train = draw_bars(600, 1), val = draw_bars(150, 2);
    Sequential model{std::make_shared<Conv2d>(1, 8, 3, 1, 1), std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
                     std::make_shared<Conv2d>(8, 16, 3, 1, 1), std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
                     std::make_shared<Flatten>(), std::make_shared<Dense>(3)};
    model.build({1, 12, 12});  // the Dense after Flatten gets its 16*3*3 inputs here
    std::cout << summary(model, {1, 12, 12});
    Adam adam(model.named_parameters(), {/*lr=*/3e-3f});
    Trainer trainer(model, adam, "cross_entropy", {"accuracy"});  // logits, as torch's loss takes them
    FitOptions o;
    o.epochs = 8;
    o.batch_size = 32;
    o.validation_data = &val;
    o.verbose = 2;
    EarlyStopping::Options es;
    es.monitor = "val_accuracy";
    es.patience = 3;
    o.callbacks = {std::make_shared<EarlyStopping>(es)};
    trainer.fit(train, o);
    const double acc = trainer.evaluate(val).at("accuracy");
    std::printf("fit_cnn: validation accuracy %.3f\n", acc);
    return acc >= 0.9 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
