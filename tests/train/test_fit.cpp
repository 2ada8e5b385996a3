// fit / evaluate / predict and the callbacks (train/trainer.hpp, train/callbacks.hpp), on data
// the tests make: a linear regression, three Gaussian blobs, and a NaN planted in a row.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "layers/checkpoint.hpp"
#include "layers/layers.hpp"
#include "optim/lr_scheduler.hpp"
#include "train/callbacks.hpp"
#include "train/plot.hpp"
#include "train/tensorboard.hpp"
#include "train/trainer.hpp"
#include "train/training.hpp"
#include "lsan_suppressions.hpp"  // PlotCurves draws with cairo

using namespace dlcraft;
namespace fs = std::filesystem;

namespace {

// y = 2 x0 - 3 x1 + 0.5 x2 + 1 + small noise.
TensorDataset regression_data(int64_t n, uint64_t seed) {
  Generator g(seed);
  Tensor x = Tensor::normal({n, 3}, g);
  Tensor noise = Tensor::normal({n, 1}, g);
  const float* xp = x.data();
  std::vector<float> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    y[size_t(i)] = 2 * xp[3 * i] - 3 * xp[3 * i + 1] + 0.5f * xp[3 * i + 2] + 1 + 0.01f * noise.data()[i];
  return TensorDataset(x, Tensor::from_vector(y, {n, 1}));
}

// Three Gaussian blobs in 2-D, classes 0..2.
TensorDataset blobs(int64_t n, uint64_t seed) {
  Generator g(seed);
  Tensor x = Tensor::normal({n, 2}, g);
  std::vector<int64_t> labels(static_cast<size_t>(n));
  const float centers[3][2] = {{3, 0}, {-3, 2}, {0, -3}};
  float* xp = x.data();
  for (int64_t i = 0; i < n; ++i) {
    const int c = int(i % 3);
    labels[size_t(i)] = c;
    xp[2 * i] = 0.7f * xp[2 * i] + centers[c][0];
    xp[2 * i + 1] = 0.7f * xp[2 * i + 1] + centers[c][1];
  }
  return TensorDataset(x, Tensor::from_vector(labels, {n}));
}

std::shared_ptr<Sequential> mlp(int in, int hidden, int out) {
  return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
      std::make_shared<Linear>(in, hidden), std::make_shared<ReLU>(), std::make_shared<Linear>(hidden, out)});
}

std::string temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("dlcraft_test_fit_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

}  // namespace

TEST_CASE("fit learns a linear regression and History has Keras' keys") {
  manual_seed(1);
  TensorDataset data = regression_data(256, 2);
  Linear model(3, 1);
  SGD sgd(model.named_parameters(), {0.05f});
  Trainer trainer(model, sgd, "mse", {"mae"});
  FitOptions o;
  o.epochs = 30;
  o.batch_size = 16;
  o.validation_split = 0.25;
  o.verbose = 0;
  History h = trainer.fit(data, o);
  REQUIRE(h.size() == 30);
  CHECK(h.epochs().front() == 1);
  CHECK(h.epochs().back() == 30);
  CHECK(h.keys() == std::vector<std::string>{"examples_per_second", "loss", "lr", "mae", "seconds", "val_loss", "val_mae"});
  INFO("first loss " << h["loss"].front() << ", last " << h["loss"].back() << ", val " << h["val_loss"].back());
  CHECK(h["loss"].back() < 0.01 * h["loss"].front());
  CHECK(h["val_loss"].back() < 0.01);
  CHECK(h["lr"].back() == Approx(0.05));
  // The weights found are the true ones.
  const std::vector<float> w = model.weight.to_vector();
  CHECK(w[0] == Approx(2).margin(0.05));
  CHECK(w[1] == Approx(-3).margin(0.05));
  CHECK(w[2] == Approx(0.5).margin(0.05));
  CHECK(model.bias.to_vector()[0] == Approx(1).margin(0.05));
  // evaluate() on the same rows equals the last val_loss; predict() equals the model's output.
  auto [train_part, val_part] = train_val_split(data, 0.25);
  auto ev = trainer.evaluate(val_part, 7);
  CHECK(ev.at("loss") == Approx(h["val_loss"].back()).epsilon(1e-5));
  CHECK(ev.at("mae") == Approx(h["val_mae"].back()).epsilon(1e-5));
  Tensor p = trainer.predict(val_part.x, 5);
  REQUIRE(p.shape() == Shape{val_part.size(), 1});
  NoGradGuard ng;
  const std::vector<float> direct = model(val_part.x).to_vector(), batched = p.to_vector();
  for (size_t i = 0; i < direct.size(); ++i) CHECK(batched[i] == Approx(direct[i]).margin(1e-6));
}

TEST_CASE("fit classifies blobs with cross-entropy and accuracy, on validation data") {
  manual_seed(3);
  TensorDataset train = blobs(300, 4), val = blobs(90, 5);
  auto model = mlp(2, 16, 3);
  Adam adam(model->named_parameters(), {0.01f});
  Trainer trainer(*model, adam, Loss(LossKind::CrossEntropy), {Metric(MetricKind::Accuracy)});
  FitOptions o;
  o.epochs = 10;
  o.batch_size = 20;
  o.validation_data = &val;
  o.verbose = 0;
  History h = trainer.fit(train, o);
  CHECK(h.has("accuracy"));
  CHECK(h.has("val_accuracy"));
  CHECK(h["val_accuracy"].back() > 0.95);  // chance: 1/3
  CHECK(h["loss"].back() < h["loss"].front());
  // Accuracy in evaluate() is the fraction of argmax hits.
  Tensor out = trainer.predict(val.x);
  const std::vector<int32_t> pred = argmax_rows(out);
  const std::vector<int64_t> truth = val.y.values_as<int64_t>();
  int64_t hits = 0;
  for (size_t i = 0; i < pred.size(); ++i) hits += pred[i] == truth[i];
  CHECK(trainer.evaluate(val).at("accuracy") == Approx(double(hits) / double(pred.size())));
}

TEST_CASE("Keras' notes path: sigmoid output, binary cross-entropy and binary accuracy") {
  manual_seed(7);
  // OR of two inputs, as the notes' perceptron learns it.
  Tensor x = Tensor::from_vector({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  Tensor y = Tensor::from_vector({0, 1, 1, 1}, {4, 1});
  Sequential model{std::make_shared<Linear>(2, 1)};
  SGD sgd(model.named_parameters(), {0.5f});
  // A sigmoid on the linear output: the Loss takes probabilities.
  struct WithSigmoid : Module {
    explicit WithSigmoid(Module& m) : inner(m) {}
    Tensor forward(const Tensor& t) override { return sigmoid(inner(t)); }
    std::string type_name() const override { return "WithSigmoid"; }
    Module& inner;
  } net(model);
  Trainer trainer(net, sgd, "binary_crossentropy", {"accuracy"});
  FitOptions o;
  o.epochs = 200;
  o.batch_size = 4;
  o.verbose = 0;
  History h = trainer.fit(TensorDataset(x, y), o);
  CHECK(h["accuracy"].back() == 1.0);
  CHECK(trainer.evaluate(TensorDataset(x, y)).at("accuracy") == 1.0);
}

TEST_CASE("losses and metrics by name, and targets of the wrong kind") {
  CHECK(Loss::from_name("mean_squared_error").kind() == LossKind::MeanSquaredError);
  CHECK(Loss::from_name("mae").kind() == LossKind::MeanAbsoluteError);
  CHECK(Loss::from_name("sparse_categorical_crossentropy").takes_classes());
  CHECK_THROWS_WITH(Loss::from_name("hinge"), Catch::Contains("unknown loss 'hinge'") && Catch::Contains("mse"));
  CHECK_THROWS_WITH(Metric::from_name("f1"), Catch::Contains("unknown metric 'f1'"));
  Targets classes;
  classes.labels = {0, 1};
  Tensor out = Tensor::from_vector({0.1f, 0.9f, 0.8f, 0.2f}, {2, 2});
  CHECK_THROWS_AS(Loss(LossKind::MeanSquaredError)(out, classes), ArgumentError);
  CHECK_THROWS_WITH(Loss(LossKind::MeanSquaredError)(out, classes), Catch::Contains("needs numeric targets"));
  Targets values;
  values.values = Tensor::from_vector({1, 0, 0, 1}, {2, 2});
  CHECK_THROWS_AS(Loss(LossKind::CrossEntropy)(out, values), ArgumentError);
  classes.labels = {0, 1, 1};
  CHECK_THROWS_AS(Loss(LossKind::CrossEntropy)(out, classes), ShapeError);
  // Keras' probability losses against their formulas.
  classes.labels = {1, 0};
  const double sparse = Loss(LossKind::SparseCategoricalCrossentropy)(out, classes).item();
  CHECK(sparse == Approx(-(std::log(0.9) + std::log(0.8)) / 2).epsilon(1e-5));
  values.values = Tensor::from_vector({0, 1, 1, 0}, {2, 2});
  CHECK(Loss(LossKind::CategoricalCrossentropy)(out, values).item() == Approx(sparse).epsilon(1e-5));
  Metric acc(MetricKind::Accuracy);
  acc.update(out, values);  // one-hot targets: argmax against argmax
  CHECK(acc.result() == 1.0);
  Metric mae(MetricKind::MeanAbsoluteError);
  mae.update(out, values);
  CHECK(mae.result() == Approx((0.1 + 0.1 + 0.2 + 0.2) / 4));
}

TEST_CASE("EarlyStopping stops after `patience` epochs without improvement and restores the best weights") {
  manual_seed(11);
  TensorDataset data = regression_data(64, 12);
  Linear model(3, 1);
  SGD sgd(model.named_parameters(), {0.01f});
  Trainer trainer(model, sgd, "mse");
  // A monitored value that improves for 3 epochs, then gets worse: best at epoch 3.
  const std::vector<double> score{5, 4, 3, 3.5, 3.6, 3.7, 3.8, 3.9, 4.0, 4.1};
  std::map<int64_t, std::map<std::string, Tensor>> weights_at;
  auto inject = std::make_shared<LambdaCallback>();
  inject->epoch_end = [&](Trainer& t, int64_t epoch, Logs& logs) {
    logs["score"] = score[size_t(epoch - 1)];
    for (const auto& [name, w] : t.model.state_dict()) weights_at[epoch][name] = w.clone();
  };
  EarlyStopping::Options es;
  es.monitor = "score";
  es.patience = 2;
  es.restore_best_weights = true;
  auto stopper = std::make_shared<EarlyStopping>(es);
  FitOptions o;
  o.epochs = 10;
  o.verbose = 0;
  o.callbacks = {inject, stopper};
  History h = trainer.fit(data, o);
  CHECK(h.size() == 5);  // epochs 4 and 5 did not improve on epoch 3
  CHECK(stopper->stopped_epoch() == 5);
  CHECK(stopper->best_epoch() == 3);
  CHECK(stopper->best() == 3.0);
  for (const auto& [name, w] : model.state_dict()) {
    INFO(name);
    CHECK(w.to_vector() == weights_at[3][name].to_vector());
    CHECK(w.to_vector() != weights_at[5][name].to_vector());
  }
  // A monitor that is not in the logs names what is there.
  es.monitor = "val_loss";
  o.callbacks = {std::make_shared<EarlyStopping>(es)};
  CHECK_THROWS_WITH(trainer.fit(data, o), Catch::Contains("no 'val_loss'") && Catch::Contains("loss"));
}

TEST_CASE("TerminateOnNaN stops on a NaN loss with the last good weights; without it fit throws") {
  manual_seed(13);
  TensorDataset data = regression_data(64, 14);
  data.x.data()[3 * 40] = std::numeric_limits<float>::quiet_NaN();  // row 40: batch 3 of 16 rows
  Linear model(3, 1);
  SGD sgd(model.named_parameters(), {0.01f});
  Trainer trainer(model, sgd, "mse");
  FitOptions o;
  o.epochs = 3;
  o.batch_size = 16;
  o.shuffle = false;
  o.verbose = 0;
  CHECK_THROWS_AS(trainer.fit(data, o), NonFiniteLossError);
  auto stop = std::make_shared<TerminateOnNaN>(nullptr);
  o.callbacks = {stop};
  History h = trainer.fit(data, o);
  CHECK(stop->terminated());
  CHECK(h.size() == 0);  // the first epoch did not finish
  for (float w : model.weight.to_vector()) CHECK(std::isfinite(w));
}

TEST_CASE("the LR scheduler callback steps per epoch and History records each epoch's lr") {
  manual_seed(15);
  TensorDataset data = regression_data(32, 16);
  Linear model(3, 1);
  SGD sgd(model.named_parameters(), {0.1f});
  Trainer trainer(model, sgd, "mse");
  FitOptions o;
  o.epochs = 5;
  o.verbose = 0;
  o.callbacks = {std::make_shared<LearningRateScheduler>(std::make_shared<StepLR>(sgd, 2, 0.5))};
  History h = trainer.fit(data, o);
  const std::vector<double> expected{0.1, 0.1, 0.05, 0.05, 0.025};
  for (size_t i = 0; i < expected.size(); ++i) CHECK(h["lr"][i] == Approx(expected[i]).epsilon(1e-6));
}

TEST_CASE("CSV and JSONL loggers write every epoch and continue a resumed run's rows") {
  const std::string dir = temp_dir("loggers");
  manual_seed(17);
  TensorDataset data = regression_data(32, 18);
  Linear model(3, 1);
  SGD sgd(model.named_parameters(), {0.05f});
  Trainer trainer(model, sgd, "mse", {"mae"});
  FitOptions o;
  o.epochs = 3;
  o.verbose = 0;
  o.callbacks = {CSVLogger(dir + "/log.csv"), JsonlLogger(dir + "/log.jsonl")};
  History h = trainer.fit(data, o);
  std::ifstream csv(dir + "/log.csv");
  std::string header, line;
  std::getline(csv, header);
  CHECK(header == "epoch,examples_per_second,loss,lr,mae,seconds");
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  CHECK(rows == 3);
  History back = History::read_jsonl(dir + "/log.jsonl");
  REQUIRE(back.size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(back["loss"][i] == h["loss"][i]);
  // Resuming after epoch 2: epoch 3's old row is replaced, epochs 1-2 kept.
  o.initial_epoch = 2;
  o.epochs = 4;
  o.callbacks = {CSVLogger(dir + "/log.csv", 2), JsonlLogger(dir + "/log.jsonl", 2)};
  History h2 = trainer.fit(data, o);
  History resumed = History::read_jsonl(dir + "/log.jsonl");
  CHECK(resumed.epochs() == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(resumed["loss"][1] == h["loss"][1]);
  CHECK(resumed["loss"][2] == h2["loss"][0]);
  std::ifstream csv2(dir + "/log.csv");
  rows = -1;
  while (std::getline(csv2, line)) ++rows;
  CHECK(rows == 4);
  // No temp files are left beside them.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 2);
  fs::remove_all(dir);
}

TEST_CASE("ModelCheckpoint saves every epoch, or the best only") {
  const std::string dir = temp_dir("ckpt");
  manual_seed(19);
  TensorDataset data = regression_data(64, 20);
  {
    Linear model(3, 1);
    Adam adam(model.named_parameters(), {0.01f});
    Trainer trainer(model, adam, "mse");
    ModelCheckpoint::Options best;
    best.monitor = "val_loss";
    best.save_best_only = true;
    auto keep_best = std::make_shared<ModelCheckpoint>(dir + "/best.safetensors", best);
    auto every = std::make_shared<ModelCheckpoint>(dir + "/e{epoch}.safetensors", ModelCheckpoint::Options{});
    FitOptions o;
    o.epochs = 4;
    o.verbose = 0;
    o.validation_split = 0.25;
    o.callbacks = {keep_best, every};
    History h = trainer.fit(data, o);
    for (int e = 1; e <= 4; ++e) CHECK(file_exists(dir + "/e" + std::to_string(e) + ".safetensors"));
    Linear loaded(3, 1);
    const Metadata m = load_weights(dir + "/best.safetensors", loaded);
    // The file holds the epoch with the lowest val_loss.
    const auto& vl = h["val_loss"];
    const int64_t best_epoch = 1 + int64_t(std::min_element(vl.begin(), vl.end()) - vl.begin());
    CHECK(m.at("epoch") == std::to_string(best_epoch));
    CHECK(keep_best->last_saved_epoch() == best_epoch);
  }
  fs::remove_all(dir);
}

// The child of the kill test: fits "for ever", saving a checkpoint every epoch to the path in
// DLCRAFT_FIT_CHILD_PATH. Hidden ([.]): it runs only when named, in a fresh process.
TEST_CASE("fit child: saves checkpoints until killed", "[.]") {
  const char* path = std::getenv("DLCRAFT_FIT_CHILD_PATH");
  if (!path) return;
  manual_seed(21);
  TensorDataset data = regression_data(64, 20);
  Sequential model{std::make_shared<Linear>(3, 256), std::make_shared<ReLU>(), std::make_shared<Linear>(256, 1)};
  Adam adam(model.named_parameters(), {1e-3f});
  Trainer trainer(model, adam, "mse");
  FitOptions o;
  o.epochs = 100000;
  o.verbose = 0;
  o.callbacks = {std::make_shared<ModelCheckpoint>(path, ModelCheckpoint::Options{})};
  trainer.fit(data, o);
}

TEST_CASE("ModelCheckpoint: a kill mid-run leaves a loadable checkpoint") {
  const std::string dir = temp_dir("kill");
  // A child process (this program again, running the hidden case above: exec'd, so no thread
  // pool is inherited across fork) fits for a long time, saving every epoch; it is killed with
  // SIGKILL at a few moments; each time the checkpoint pair on disk loads.
  const std::string path = dir + "/run.safetensors";
  for (int kill_round = 0; kill_round < 3; ++kill_round) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::setenv("DLCRAFT_FIT_CHILD_PATH", path.c_str(), 1);
      ::execl("/proc/self/exe", "test_fit", "fit child: saves checkpoints until killed", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait for a first save (at most 60 s), then kill at a moment that differs per round.
    const auto t0 = std::chrono::steady_clock::now();
    while (!file_exists(path) && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(37 * kill_round + 11));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status));
    recover_checkpoint(path);
    Sequential model{std::make_shared<Linear>(3, 256), std::make_shared<ReLU>(), std::make_shared<Linear>(256, 1)};
    Adam adam(model.named_parameters(), {1e-3f});
    Metadata m;
    REQUIRE_NOTHROW(m = load_weights(path, model));
    REQUIRE_NOTHROW(load_optimizer_state(path, adam, m));
    CHECK(std::stoll(m.at("epoch")) >= 1);
  }
  fs::remove_all(dir);
}

TEST_CASE("PlotCurves draws the curves after every epoch") {
  if (!plotting_available()) {
    WARN("built without cairo: PlotCurves not tested");
    return;
  }
  const std::string dir = temp_dir("plot");
  manual_seed(23);
  TensorDataset data = regression_data(32, 24);
  Linear model(3, 1);
  SGD sgd(model.named_parameters(), {0.05f});
  Trainer trainer(model, sgd, "mse", {"mae"});
  FitOptions o;
  o.epochs = 2;
  o.verbose = 0;
  o.validation_split = 0.25;
  o.callbacks = {std::make_shared<PlotCurves>(dir + "/curves.png")};
  trainer.fit(data, o);
  REQUIRE(file_exists(dir + "/curves.png"));
  CHECK(fs::file_size(dir + "/curves.png") > 1000);
  fs::remove_all(dir);
}

TEST_CASE("fit's arguments are checked") {
  TensorDataset data = regression_data(8, 25);
  Linear model(3, 1);
  SGD sgd(model.named_parameters(), {0.05f});
  Trainer trainer(model, sgd, "mse");
  FitOptions o;
  o.verbose = 0;
  o.epochs = 0;
  CHECK_THROWS_AS(trainer.fit(data, o), ArgumentError);
  o.epochs = 1;
  o.validation_split = 0.5;
  o.validation_data = &data;
  CHECK_THROWS_WITH(trainer.fit(data, o), Catch::Contains("not both"));
  CHECK_THROWS_AS(trainer.predict(Tensor::from_vector({1, 2, 3}, {3}), 0), ArgumentError);
  Trainer wrong(model, sgd, "cross_entropy");
  o.validation_data = nullptr;
  o.validation_split = 0;
  CHECK_THROWS_WITH(wrong.fit(data, o), Catch::Contains("needs class indices"));
}

TEST_CASE("fit's clip_grad_norm bounds each step of plain SGD to lr * max_norm") {
  manual_seed(27);
  TensorDataset data = regression_data(16, 28);
  for (double clip : {0.0, 0.5}) {
    Linear model(3, 1);
    // Far from the solution, so the unclipped gradient's norm is well above 0.5.
    model.weight.data()[0] = 40.0f;
    SGD sgd(model.named_parameters(), {0.1f});
    Trainer trainer(model, sgd, "mse");
    std::vector<float> before = model.weight.to_vector();
    before.push_back(model.bias.to_vector()[0]);
    FitOptions o;
    o.epochs = 1;
    o.batch_size = 16;  // one step
    o.verbose = 0;
    o.clip_grad_norm = clip;
    trainer.fit(data, o);
    std::vector<float> after = model.weight.to_vector();
    after.push_back(model.bias.to_vector()[0]);
    double moved = 0;
    for (size_t i = 0; i < after.size(); ++i) moved += double(after[i] - before[i]) * (after[i] - before[i]);
    moved = std::sqrt(moved);
    INFO("clip " << clip << ": the step moved the parameters by " << moved);
    if (clip > 0)
      CHECK(moved == Approx(0.1 * clip).epsilon(1e-3));
    else
      CHECK(moved > 1.0);
  }
}

TEST_CASE("optimizers by name, as Keras' compile takes them") {
  Linear model(3, 2);
  auto sgd = make_optimizer("sgd", model.named_parameters());
  CHECK(dynamic_cast<SGD*>(sgd.get()) != nullptr);
  CHECK(sgd->lr() == Approx(0.01));
  auto adam = make_optimizer("adam", model.named_parameters(), 0.5f);
  CHECK(dynamic_cast<Adam*>(adam.get()) != nullptr);
  CHECK(adam->lr() == Approx(0.5));
  auto adamw = make_optimizer("AdamW", model.named_parameters());
  CHECK(dynamic_cast<AdamW*>(adamw.get()) != nullptr);
  CHECK(adamw->lr() == Approx(1e-3));
  CHECK_THROWS_WITH(make_optimizer("rmsprop", model.named_parameters()), Catch::Contains("unknown optimizer 'rmsprop'"));
  CHECK_THROWS_AS(make_optimizer("sgd", model.named_parameters(), -1.0f), ArgumentError);
}

TEST_CASE("TensorBoardLogger writes an event file that grows every epoch") {
  if (!tensorboard_available()) {
    WARN("built without protobuf: TensorBoardLogger not tested");
    return;
  }
  const std::string dir = temp_dir("tb");
  TensorDataset data = regression_data(16, 29);
  Linear model(3, 1);
  SGD sgd(model.named_parameters(), {0.05f});
  Trainer trainer(model, sgd, "mse");
  auto tb = std::make_shared<TensorBoardLogger>(dir + "/logs");
  std::vector<uintmax_t> sizes;
  auto size_after = std::make_shared<LambdaCallback>();
  size_after->epoch_end = [&](Trainer&, int64_t, Logs&) { sizes.push_back(fs::file_size(tb->path())); };
  FitOptions o;
  o.epochs = 3;
  o.verbose = 0;
  o.callbacks = {tb, size_after};  // the logger writes (and flushes) before the size is read
  trainer.fit(data, o);
  REQUIRE(sizes.size() == 3);
  CHECK(fs::path(tb->path()).filename().string().rfind("events.out.tfevents.", 0) == 0);
  CHECK(sizes[0] > 0);
  CHECK(sizes[1] > sizes[0]);
  CHECK(sizes[2] > sizes[1]);
  fs::remove_all(dir);
}
