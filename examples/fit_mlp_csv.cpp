// An MLP on a CSV file, as the notes read a table with pandas and fit a Keras model on it:
// two numeric columns x, y and a class name per row ("upper"/"lower": two interleaving half
// circles, examples/data/moons.csv, made by scripts/make_example_csv.py). No straight line
// separates them; two hidden ReLU layers do.
//   fit_mlp_csv [FILE.csv]      (default: examples/data/moons.csv next to this source)
// Exits 1 if the validation accuracy is below 90 %.
#include <cstdio>
#include <dlcraft/dlcraft.hpp>
#include <iostream>
#include <string>

using namespace dlcraft;

#ifndef DLCRAFT_EXAMPLE_DATA
#define DLCRAFT_EXAMPLE_DATA "examples/data"
#endif

int main(int argc, char** argv) {
  try {
    const std::string path = argc > 1 ? argv[1] : DLCRAFT_EXAMPLE_DATA "/moons.csv";
    CsvOptions csv;
    csv.label_column = "class";
    const TensorDataset data = read_csv(path, csv);
    std::printf("%s: %lld rows, features", path.c_str(), (long long)data.size());
    for (const auto& f : data.feature_names) std::printf(" %s", f.c_str());
    std::printf(", classes");
    for (const auto& c : data.classes) std::printf(" %s", c.c_str());
    std::printf("\n");

    manual_seed(3);
    Sequential model{std::make_shared<Dense>(16, "relu", /*input_dim=*/2), std::make_shared<Dense>(16, "relu"),
                     std::make_shared<Dense>(int(data.num_classes()), "softmax")};
    std::cout << summary(model, {2});
    Adam adam(model.named_parameters(), {/*lr=*/0.01f});
    Trainer trainer(model, adam, "sparse_categorical_crossentropy", {"accuracy"});
    FitOptions o;
    o.epochs = 60;
    o.batch_size = 16;
    o.validation_split = 0.2;  // the last 60 rows
    o.verbose = 2;             // a line per epoch
    EarlyStopping::Options es;
    es.monitor = "val_loss";
    es.patience = 10;
    es.restore_best_weights = true;
    o.callbacks = {std::make_shared<EarlyStopping>(es)};
    const History h = trainer.fit(data, o);
    auto [train, val] = train_val_split(data, 0.2);
    const auto scores = trainer.evaluate(val);
    std::printf("fit_mlp_csv: %lld epochs, validation loss %.4f, accuracy %.3f\n", (long long)h.size(),
                scores.at("loss"), scores.at("accuracy"));
    std::cout << "probabilities of the first 3 validation rows: " << trainer.predict(narrow(val.x, 0, 0, 3)) << "\n";
    return scores.at("accuracy") >= 0.9 ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
