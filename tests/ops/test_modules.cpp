// Module machinery for the model zoo: train/eval, buffers in the state dict, named_modules and
// submodule lookup, freezing, replacing a layer, forward hooks and extract_features; and the
// ResNet/VGG structures (parameter counts equal torchvision's).
#include <catch2/catch.hpp>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "layers/models.hpp"

using namespace dlcraft;

namespace {
// Counts its forward calls: shows which modules ran.
class Counter : public Module {
 public:
  int calls = 0;
  Tensor forward(const Tensor& x) override {
    ++calls;
    return x * 2.0f;
  }
  std::string type_name() const override { return "Counter"; }
};

class Net : public Module {
 public:
  Net() {
    body = register_module("body", std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
                                        std::make_shared<Linear>(3, 4), std::make_shared<BatchNorm1d>(4),
                                        std::make_shared<ReLU>()}));
    mid = register_module("mid", std::make_shared<Counter>());
    head = register_module("head", std::make_shared<Linear>(4, 2));
  }
  Tensor forward(const Tensor& x) override { return (*head)((*mid)((*body)(x))); }
  std::string type_name() const override { return "Net"; }
  std::shared_ptr<Sequential> body;
  std::shared_ptr<Counter> mid;
  std::shared_ptr<Linear> head;
};

std::vector<std::string> names_of(Module& m) {
  std::vector<std::string> out;
  for (auto& [n, mod] : m.named_modules()) out.push_back(n);
  return out;
}
}  // namespace

TEST_CASE("named_modules, submodule and paths follow torch's naming") {
  Net net;
  CHECK(names_of(net) == std::vector<std::string>{"", "body", "body.0", "body.1", "body.2", "mid", "head"});
  CHECK(net.submodule("body.1").type_name() == "BatchNorm1d");
  CHECK(net.submodule("body.1").path() == "body.1");
  CHECK(&net.submodule("head") == net.head.get());
  CHECK_THROWS_WITH(net.submodule("body.7"), Catch::Contains("'body.7'") && Catch::Contains("children 0, 1, 2"));
  CHECK_THROWS_AS(net.submodule("tail"), ArgumentError);
  CHECK(net.body->size() == 3);
  CHECK((*net.body)[2].type_name() == "ReLU");
  CHECK_THROWS_AS((*net.body)[3], ArgumentError);
}

TEST_CASE("state_dict holds parameters and buffers; BatchNorm's buffers are torch's") {
  Net net;
  auto sd = net.state_dict();
  for (const char* k : {"body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias", "body.1.running_mean",
                        "body.1.running_var", "body.1.num_batches_tracked", "head.weight", "head.bias"})
    CHECK(sd.count(k) == 1);
  CHECK(sd.size() == 9);
  CHECK(sd["body.1.num_batches_tracked"].dtype() == DType::Int64);
  CHECK(sd["body.1.num_batches_tracked"].dim() == 0);
  CHECK(sd["body.1.running_var"].values_as<float>() == std::vector<float>(4, 1.0f));
  CHECK(net.named_buffers().size() == 3);
  CHECK(net.named_parameters().size() == 6);  // buffers are not parameters
}

TEST_CASE("load_state_dict lists the first mismatches and changes nothing when it fails") {
  Net a, b;
  auto sd = a.state_dict();
  const std::vector<float> before = b.head->weight.values_as<float>();
  auto bad = sd;
  bad["head.weight"] = zeros({3, 4});
  bad.erase("body.1.running_mean");
  bad["extra.weight"] = zeros({1});
  try {
    b.load_state_dict(bad);
    FAIL("no error");
  } catch (const ShapeError& e) {
    const std::string m = e.what();
    CHECK_THAT(m, Catch::Contains("1 mismatched: 'head.weight' [3,4], expected [2,4]"));
    CHECK_THAT(m, Catch::Contains("1 missing: 'body.1.running_mean'"));
    CHECK_THAT(m, Catch::Contains("1 unexpected: 'extra.weight'"));
  }
  CHECK(b.head->weight.values_as<float>() == before);
  // Not strict: missing and extra names are fine, common ones are copied.
  auto partial = sd;
  partial.erase("body.0.weight");
  partial["other"] = zeros({2});
  b.load_state_dict(partial, false);
  CHECK(b.head->weight.values_as<float>() == a.head->weight.values_as<float>());
  // Buffers load too.
  a.state_dict()["body.1.num_batches_tracked"].fill_(7.0f);
  b.load_state_dict(a.state_dict());
  CHECK(b.state_dict()["body.1.num_batches_tracked"].item<int64_t>() == 7);
}

TEST_CASE("train()/eval() reach every child") {
  Net net;
  CHECK(net.is_training());
  net.eval();
  for (auto& [n, m] : net.named_modules()) CHECK_FALSE(m->is_training());
  net.body->train();
  CHECK(net.submodule("body.1").is_training());
  CHECK_FALSE(net.head->is_training());
  // A module added to a model in eval mode joins it in eval mode.
  net.eval();
  net.body->add(std::make_shared<Dropout>(0.5));
  CHECK_FALSE(net.submodule("body.3").is_training());
}

TEST_CASE("freezing a sub-tree: requires_grad off, trainable_parameters skips it") {
  Net net;
  net.body->requires_grad_(false);
  auto trainable = net.trainable_parameters();
  REQUIRE(trainable.size() == 2);
  CHECK(trainable[0].first == "head.weight");
  CHECK(trainable[1].first == "head.bias");
  CHECK_FALSE(net.body->named_parameters()[0].second.requires_grad());
  net.body->requires_grad_(true);
  CHECK(net.trainable_parameters().size() == 6);
}

TEST_CASE("replace_module swaps a layer in place, nested paths included") {
  Net net;
  auto lin = net.replace_module("body.0", std::make_shared<Linear>(3, 4, false));
  CHECK(lin->path() == "body.0");
  CHECK(&net.submodule("body.0") == lin.get());
  CHECK(net.state_dict().count("body.0.bias") == 0);
  CHECK(names_of(net)[2] == "body.0");  // same place in the order
  CHECK_THROWS_AS(net.replace_module("body.9", std::make_shared<Identity>()), ArgumentError);
}

TEST_CASE("extract_features returns a module's output and stops the forward there") {
  Net net;
  net.eval();  // BatchNorm1d on running stats: batch of 1 allowed
  Tensor x = Tensor::from_vector({0.5f, -1.0f, 2.0f}, {1, 3});
  const int before = net.mid->calls;
  Tensor body_out = extract_features(net, x, "body");
  CHECK(body_out.shape() == Shape{1, 4});
  CHECK(net.mid->calls == before);  // stopped before mid ran
  Tensor mid_out = extract_features(net, x, "mid");
  CHECK(net.mid->calls == before + 1);
  CHECK(mid_out.values_as<float>() == (body_out * 2.0f).values_as<float>());
  // The hook is gone afterwards: a normal forward runs everything.
  Tensor y = net(x);
  CHECK(y.shape() == Shape{1, 2});
  CHECK(net.mid->calls == before + 2);
  CHECK_THROWS_WITH(extract_features(net, x, "neck"), Catch::Contains("'neck'"));
}

TEST_CASE("ResNet and VGG have torchvision's parameter counts and names") {
  // torchvision's sum(p.numel() for p in model.parameters()) for each model.
  const std::vector<std::pair<std::string, int64_t>> counts = {
      {"resnet18", 11689512}, {"resnet34", 21797672}, {"resnet50", 25557032},
      {"resnet101", 44549160}, {"resnet152", 60192808}, {"vgg16", 138357544}, {"vgg16_bn", 138365992}};
  for (auto& [name, count] : counts) {
    INFO(name);
    auto m = make_model(name);
    CHECK(m->parameter_count() == count);
  }
  auto r = resnet50(10);
  auto sd = r->state_dict();
  CHECK(sd.at("layer1.0.downsample.0.weight").shape() == Shape{256, 64, 1, 1});
  CHECK(sd.at("layer4.2.bn3.running_var").shape() == Shape{2048});
  CHECK(sd.at("fc.weight").shape() == Shape{10, 2048});
  CHECK(sd.count("layer1.1.downsample.0.weight") == 0);
  CHECK(r->submodule("layer3.5.conv2").who() == "layer3.5.conv2 (Conv2d)");
  r->reset_classifier(5);
  CHECK(r->state_dict().at("fc.weight").shape() == Shape{5, 2048});
  auto v = vgg16(7);
  CHECK(v->submodule("features.23").type_name() == "MaxPool2d");  // the notes' block4_pool
  CHECK(v->state_dict().at("classifier.6.weight").shape() == Shape{7, 4096});
  reset_classifier(*v, 3);
  CHECK(v->state_dict().at("classifier.6.weight").shape() == Shape{3, 4096});
  reset_classifier(*v, 0);
  CHECK(v->state_dict().count("classifier.6.weight") == 0);
  CHECK_THROWS_WITH(make_model("resnet19"), Catch::Contains("resnet19") && Catch::Contains("resnet18"));
}

TEST_CASE("ResNet-18/50 stage shapes at 224x224 (the table in docs/resnet.md)") {
  const std::vector<std::pair<std::string, std::vector<Shape>>> expected = {
      {"resnet18", {{1, 64, 112, 112}, {1, 64, 56, 56}, {1, 64, 56, 56}, {1, 128, 28, 28}, {1, 256, 14, 14},
                    {1, 512, 7, 7}, {1, 512, 1, 1}, {1, 1000}}},
      {"resnet50", {{1, 64, 112, 112}, {1, 64, 56, 56}, {1, 256, 56, 56}, {1, 512, 28, 28}, {1, 1024, 14, 14},
                    {1, 2048, 7, 7}, {1, 2048, 1, 1}, {1, 1000}}}};
  const std::vector<std::string> stages = {"conv1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"};
  for (auto& [name, shapes] : expected) {
    INFO(name);
    auto model = make_model(name);
    model->eval();
    std::map<std::string, Shape> seen;
    for (const std::string& s : stages)
      model->submodule(s).set_forward_hook([&seen, s](Module&, const Tensor& y) { seen[s] = y.shape(); });
    NoGradGuard no_grad;
    Generator gen(5);
    (*model)(Tensor::normal({1, 3, 224, 224}, gen));
    for (size_t i = 0; i < stages.size(); ++i) CHECK(seen[stages[i]] == shapes[i]);
  }
}

TEST_CASE("VGG16's features.23 is block4_pool: 512 x 14 x 14 at 224 (tiny widths keep it cheap)") {
  VGG vgg(false, 10, 0.5, /*width=*/4, /*hidden=*/16);
  vgg.eval();
  NoGradGuard no_grad;
  Generator gen(6);
  Tensor x = Tensor::normal({2, 3, 224, 224}, gen);
  CHECK(extract_features(vgg, x, "features.23").shape() == Shape{2, 32, 14, 14});  // 8 * width channels
  CHECK(extract_features(vgg, x, "features.30").shape() == Shape{2, 32, 7, 7});
  CHECK(vgg(x).shape() == Shape{2, 10});
  // Other sizes: the adaptive pool makes the classifier's input 7x7 whatever comes in.
  CHECK(vgg(Tensor::normal({1, 3, 64, 80}, gen)).shape() == Shape{1, 10});
}
