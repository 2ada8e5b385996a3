// The notes' multi-layer perceptron (다층 퍼셉트론) on XOR, the Keras way:
//   model = Sequential([Dense(10, input_dim=2, activation='sigmoid'), Dense(1, activation='sigmoid')])
//   model.compile(loss='mean_squared_error', optimizer='SGD', metrics=['accuracy'])
//   model.fit(X, Y, epochs=1000, batch_size=4); model.evaluate(X, Y); model.predict(X)
// examples/mlp_xor.cpp writes the same loop by hand. Exits 1 if XOR is not learnt.
#include <cstdio>
#include <dlcraft/dlcraft.hpp>
#include <iostream>

using namespace dlcraft;

int main() {
  try {
    manual_seed(1);
    Tensor x = Tensor::from_vector({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
    Tensor y = Tensor::from_vector({0, 1, 1, 0}, {4, 1});
    // The second Dense's 10 inputs are inferred from the first, as in Keras.
    Sequential model{std::make_shared<Dense>(10, "sigmoid", /*input_dim=*/2),
                     std::make_shared<Dense>(1, "sigmoid")};
    std::cout << summary(model, {2});
    SGD sgd(model.named_parameters(), {/*lr=*/1.0f, /*momentum=*/0.9f});
    Trainer trainer(model, sgd, "mean_squared_error", {"accuracy"});
    FitOptions o;
    o.epochs = 1000;
    o.batch_size = 4;
    o.verbose = 0;
    // A line every 250 epochs instead of the bar (1000 one-step epochs).
    auto every_250 = std::make_shared<LambdaCallback>();
    every_250->epoch_end = [](Trainer&, int64_t epoch, Logs& logs) {
      if (epoch % 250 == 0) std::printf("epoch %4lld loss %.5f accuracy %.2f\n", (long long)epoch, logs["loss"], logs["accuracy"]);
    };
    o.callbacks = {every_250};
    trainer.fit(TensorDataset(x, y), o);
    const auto scores = trainer.evaluate(TensorDataset(x, y));
    std::cout << "predict: " << trainer.predict(x) << "\n";
    std::printf("mlp_xor (fit): loss %.5f, accuracy %.2f\n", scores.at("loss"), scores.at("accuracy"));
    return scores.at("accuracy") == 1.0 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
