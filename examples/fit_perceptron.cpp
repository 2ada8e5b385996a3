// The notes' perceptron (퍼셉트론) the Keras way: one Dense unit with a sigmoid,
//   model = Sequential([Dense(1, input_dim=2, activation='sigmoid')])
//   model.compile(loss='mean_squared_error', optimizer=SGD(lr=2)); model.fit(X, Y, epochs=2000)
// on the truth tables of AND and OR. examples/perceptron.cpp writes the same loop by hand.
// Exits 1 if AND or OR is not learnt.
#include <cstdio>
#include <dlcraft/dlcraft.hpp>
#include <string>
#include <vector>

using namespace dlcraft;

// Fits a fresh perceptron to one gate; returns its accuracy on the four inputs.
double fit_gate(const std::string& name, const std::vector<float>& targets) {
  manual_seed(42);
  Tensor x = Tensor::from_vector({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  Tensor y = Tensor::from_vector(targets, {4, 1});
  Sequential model{std::make_shared<Dense>(1, "sigmoid", /*input_dim=*/2)};
  SGD sgd(model.named_parameters(), {/*lr=*/2.0f});
  Trainer trainer(model, sgd, "mean_squared_error", {"accuracy"});
  FitOptions o;
  o.epochs = 2000;
  o.batch_size = 4;  // the whole table each step, as the notes do
  o.verbose = 0;
  const History h = trainer.fit(TensorDataset(x, y), o);
  const std::vector<float> out = trainer.predict(x).to_vector();
  std::printf("%s: loss %.4f, outputs %.3f %.3f %.3f %.3f, accuracy %.2f\n", name.c_str(), h["loss"].back(),
              out[0], out[1], out[2], out[3], h["accuracy"].back());
  return trainer.evaluate(TensorDataset(x, y)).at("accuracy");
}

int main() {
  try {
    const double and_acc = fit_gate("AND", {0, 0, 0, 1});
    const double or_acc = fit_gate("OR", {0, 1, 1, 1});
    if (and_acc < 1.0 || or_acc < 1.0) {
      std::fprintf(stderr, "fit_perceptron: AND or OR not learnt\n");
      return 1;
    }
    std::printf("fit_perceptron: AND and OR learnt\n");
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
