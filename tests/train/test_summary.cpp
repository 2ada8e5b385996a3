// summary() (layers/summary.hpp): the classic Keras 2 table, text for text. The expected
// tables are written out by hand from Keras' layout (columns at 29 and 55 of 65, '_' between
// rows, '=' around them, "{:,}" counts); the counts are Keras' and torch's for the same layers
// (Dense(10, input_dim=2) 30 and Dense(1) 11, total 41, as Keras' model.summary() reports;
// torch.nn.Linear(784, 64) 50,240).
#include <catch2/catch.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "layers/dense.hpp"
#include "layers/layers.hpp"
#include "layers/summary.hpp"

using namespace dlcraft;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A model whose children are not all used, with torch-style names.
class Net : public Module {
 public:
  Net() {
    fc1 = register_module("fc1", std::make_shared<Linear>(4, 8));
    act = register_module("act", std::make_shared<ReLU>());
    fc2 = register_module("fc2", std::make_shared<Linear>(8, 3));
    spare = register_module("spare", std::make_shared<Linear>(2, 2));  // never called
  }
  Tensor forward(const Tensor& x) override { return (*fc2)((*act)((*fc1)(x))); }
  std::string type_name() const override { return "Net"; }
  std::shared_ptr<Linear> fc1, fc2, spare;
  std::shared_ptr<ReLU> act;
};

class VeryLongNameForALayerType : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string type_name() const override { return "VeryLongNameForALayerType"; }
};

}  // namespace

TEST_CASE("summary of the notes' XOR model is Keras' table", "[summary]") {
  manual_seed(1);
  Sequential model{std::make_shared<Dense>(10, "sigmoid", 2), std::make_shared<Dense>(1, "sigmoid")};
  const std::string expected =
      "Model: \"Sequential\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #\n"
      "=================================================================\n"
      "0 (Dense)                    (None, 10)                30\n"
      "_________________________________________________________________\n"
      "1 (Dense)                    (None, 1)                 11\n"
      "=================================================================\n"
      "Total params: 41\n"
      "Trainable params: 41\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  CHECK(summary(model, {2}) == expected);
}

TEST_CASE("summary: thousands separators, size-keeping layers, frozen layers", "[summary]") {
  manual_seed(2);
  Sequential model{std::make_shared<Dense>(64, "relu", 784), std::make_shared<Dropout>(0.2),
                   std::make_shared<Dense>(10, "softmax")};
  const std::string head =
      "Model: \"Sequential\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #\n"
      "=================================================================\n"
      "0 (Dense)                    (None, 64)                50,240\n"
      "_________________________________________________________________\n"
      "1 (Dropout)                  (None, 64)                0\n"
      "_________________________________________________________________\n"
      "2 (Dense)                    (None, 10)                650\n"
      "=================================================================\n"
      "Total params: 50,890\n";
  const std::string rule = "_________________________________________________________________\n";
  CHECK(summary(model, {784}) == head + "Trainable params: 50,890\nNon-trainable params: 0\n" + rule);
  model[0].requires_grad_(false);  // frozen: counted, but not trainable
  CHECK(summary(model, {784}) == head + "Trainable params: 650\nNon-trainable params: 50,240\n" + rule);
}

TEST_CASE("summary of a CNN built from its input shape: 4-d output shapes", "[summary]") {
  manual_seed(3);
  Sequential model{std::make_shared<Conv2d>(1, 4, 3), std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
                   std::make_shared<Flatten>(), std::make_shared<Dense>(10, "softmax")};
  CHECK_THROWS_AS(summary(model, {1, 28, 28}), ShapeError);  // the Dense has no input size yet
  model.build({1, 28, 28});
  const std::string expected =
      "Model: \"Sequential\"\n"
      "_________________________________________________________________\n"
      "Layer (type)                 Output Shape              Param #\n"
      "=================================================================\n"
      "0 (Conv2d)                   (None, 4, 26, 26)         40\n"
      "_________________________________________________________________\n"
      "1 (ReLU)                     (None, 4, 26, 26)         0\n"
      "_________________________________________________________________\n"
      "2 (MaxPool2d)                (None, 4, 13, 13)         0\n"
      "_________________________________________________________________\n"
      "3 (Flatten)                  (None, 676)               0\n"
      "_________________________________________________________________\n"
      "4 (Dense)                    (None, 10)                6,770\n"
      "=================================================================\n"
      "Total params: 6,810\n"
      "Trainable params: 6,810\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  CHECK(summary(model, {1, 28, 28}) == expected);
}

TEST_CASE("summary of nested modules, depth 1 and 2; buffers are not parameters", "[summary]") {
  manual_seed(4);
  auto inner = std::make_shared<Sequential>(
      std::initializer_list<std::shared_ptr<Module>>{std::make_shared<Dense>(5, "relu", 3), std::make_shared<BatchNorm1d>(5)});
  Sequential model{inner, std::make_shared<Dense>(2, "linear", 5)};
  const std::string rule = "_________________________________________________________________\n";
  const std::string top =
      "Model: \"Sequential\"\n" + rule +
      "Layer (type)                 Output Shape              Param #\n"
      "=================================================================\n";
  const std::string totals =
      "=================================================================\n"
      "Total params: 42\n"
      "Trainable params: 42\n"
      "Non-trainable params: 0\n" + rule;
  CHECK(summary(model, {3}) == top +
                                   "0 (Sequential)               (None, 5)                 30\n" + rule +
                                   "1 (Dense)                    (None, 2)                 12\n" + totals);
  CHECK(summary(model, {3}, 2) == top +
                                      "0 (Sequential)               (None, 5)                 30\n" + rule +
                                      "0.0 (Dense)                  (None, 5)                 20\n" + rule +
                                      "0.1 (BatchNorm1d)            (None, 5)                 10\n" + rule +
                                      "1 (Dense)                    (None, 2)                 12\n" + totals);
  CHECK(summary(model, {3}, 5) == summary(model, {3}, 2));  // nothing deeper
  CHECK_THROWS_AS(summary(model, {3}, 0), ArgumentError);
  CHECK_THROWS_AS(summary(model, {0}), ArgumentError);
}

TEST_CASE("summary of a custom model: torch-style names, a layer that did not run", "[summary]") {
  manual_seed(5);
  Net net;
  const std::vector<std::string> lines = lines_of(summary(net, {4}));
  REQUIRE(lines.size() == 16);
  CHECK(lines[0] == "Model: \"Net\"");
  CHECK(lines[4] == "fc1 (Linear)                 (None, 8)                 40");
  CHECK(lines[6] == "act (ReLU)                   (None, 8)                 0");
  CHECK(lines[8] == "fc2 (Linear)                 (None, 3)                 27");
  CHECK(lines[10] == "spare (Linear)               ?                         6");
  CHECK(lines[12] == "Total params: 73");
}

TEST_CASE("summary: a layer used on two shapes says 'multiple'; long names widen the table", "[summary]") {
  manual_seed(6);
  auto shared = std::make_shared<Activation>("tanh");
  Sequential model{std::make_shared<Dense>(6, "relu", 4), shared, std::make_shared<Dense>(3), shared,
                   std::make_shared<VeryLongNameForALayerType>()};
  const std::vector<std::string> lines = lines_of(summary(model, {4}));
  REQUIRE(lines.size() == 18);
  CHECK(lines[6] == "1 (Activation)                multiple                  0");
  CHECK(lines[10] == "3 (Activation)                multiple                  0");
  // "4 (VeryLongNameForALayerType)" is 29 characters, Keras' whole first column: it takes 30 to
  // keep a space before the next column, and every rule is 66 long.
  CHECK(lines[12] == "4 (VeryLongNameForALayerType) (None, 3)                 0");
  CHECK(lines[1] == std::string(66, '_'));
  CHECK(lines[3] == std::string(66, '='));
  CHECK(lines[4] == "0 (Dense)                     (None, 6)                 30");
  CHECK(lines[8] == "2 (Dense)                     (None, 3)                 21");
  CHECK(lines[17] == std::string(66, '_'));
}

TEST_CASE("summary keeps the model's hooks and modes, also when the input shape does not fit", "[summary]") {
  manual_seed(7);
  Sequential model{std::make_shared<Dense>(4, "relu", 3), std::make_shared<Dropout>(0.5), std::make_shared<Dense>(2)};
  model[1].eval();  // a mix of modes
  int root_calls = 0, first_calls = 0;
  model.set_forward_hook([&](Module&, const Tensor&) { ++root_calls; });
  model[0].set_forward_hook([&](Module&, const Tensor& y) {
    ++first_calls;
    CHECK(y.shape().back() == 4);
  });

  const std::string text = summary(model, {3});
  CHECK(text.find("0 (Dense)                    (None, 4)                 16") != std::string::npos);
  CHECK(root_calls == 0);  // the made-up input does not reach the model's own hooks
  CHECK(first_calls == 0);
  CHECK(model.is_training());
  CHECK_FALSE(model[1].is_training());
  CHECK(model[2].is_training());

  CHECK_THROWS_AS(summary(model, {5}), ShapeError);
  CHECK_THROWS_WITH(summary(model, {5}), Catch::Contains("0 (Dense)") && Catch::Contains("[1,5]"));
  CHECK(model.is_training());
  CHECK_FALSE(model[1].is_training());
  CHECK(model[2].is_training());
  CHECK_FALSE(model[2].forward_hook());  // none before, none after

  model(randn({2, 3}));  // the hooks are back
  CHECK(root_calls == 1);
  CHECK(first_calls == 1);
}
