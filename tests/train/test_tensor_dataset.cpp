// TensorDataset, train_val_split and TensorLoader (datasets/tensor_dataset.hpp): the checks on
// construction, subset, Keras' last-rows split and the seeded random one, and the loader's
// batches (every row once per epoch, seeded shuffles, drop_last, class labels or float values).
// Every row's features encode its index, so a batch says which rows it holds.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "datasets/tensor_dataset.hpp"

using namespace dlcraft;

namespace {

constexpr int64_t kRowFloats = 6;  // x is (n, 2, 3)

// x[i] = 8 i + j (exact in float32), y[i] a random class in [0, classes) or, with classes == 0,
// the float values (-i, i / 2).
TensorDataset make_rows(int64_t n, int64_t classes, uint64_t seed) {
  std::vector<float> x(size_t(n * kRowFloats));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < kRowFloats; ++j) x[size_t(i * kRowFloats + j)] = float(8 * i + j);
  Tensor xt = Tensor::from_vector(x, {n, 2, 3});
  if (classes == 0) {
    std::vector<float> y;
    for (int64_t i = 0; i < n; ++i) {
      y.push_back(-float(i));
      y.push_back(float(i) / 2);
    }
    return TensorDataset(xt, Tensor::from_vector(y, {n, 2}));
  }
  Generator gen(seed);
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t& c : y) c = int64_t(gen.below(uint64_t(classes)));
  return TensorDataset(xt, Tensor::from_vector(y, {n}));
}

// The row indices held by a batch of inputs from make_rows (checking each row is whole).
std::vector<int64_t> row_ids(const Tensor& inputs) {
  REQUIRE(inputs.dim() == 3);
  REQUIRE(inputs.size(1) == 2);
  REQUIRE(inputs.size(2) == 3);
  const std::vector<float> v = inputs.to_vector();
  std::vector<int64_t> ids;
  for (int64_t r = 0; r < inputs.size(0); ++r) {
    const int64_t id = int64_t(v[size_t(r * kRowFloats)]) / 8;
    for (int64_t j = 0; j < kRowFloats; ++j) REQUIRE(v[size_t(r * kRowFloats + j)] == float(8 * id + j));
    ids.push_back(id);
  }
  return ids;
}

// One epoch of a loader: the row ids in visiting order and the batch sizes.
struct Epoch {
  std::vector<int64_t> ids, sizes;
};
Epoch read_epoch(TensorLoader& loader, int64_t epoch) {
  Epoch e;
  loader.start_epoch(epoch);
  Tensor inputs;
  Targets targets;
  while (loader.next_batch_targets(Device::cpu(), inputs, targets)) {
    const std::vector<int64_t> ids = row_ids(inputs);
    REQUIRE(targets.size() == int64_t(ids.size()));
    e.ids.insert(e.ids.end(), ids.begin(), ids.end());
    e.sizes.push_back(int64_t(ids.size()));
  }
  return e;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

}  // namespace

TEST_CASE("TensorDataset: construction checks", "[tensor_dataset]") {
  const Tensor x = zeros({5, 3});
  CHECK_THROWS_AS(TensorDataset(x, Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 0}, {4})), ShapeError);
  CHECK_THROWS_WITH(TensorDataset(x, Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 0}, {4})),
                    Catch::Contains("x has 5 rows but y has 4"));
  CHECK_THROWS_AS(TensorDataset(full(Shape{}, 1.0), zeros({1})), ShapeError);
  CHECK_THROWS_AS(TensorDataset(x, full(Shape{}, 1.0)), ShapeError);
  CHECK_THROWS_AS(TensorDataset(x, zeros({5, 2}, DType::Int64)), ShapeError);  // classes are (N)
  CHECK_THROWS_AS(TensorDataset(zeros({5, 3}, DType::Int64), zeros({5})), DTypeError);
  CHECK_THROWS_WITH(TensorDataset(zeros({5, 3}, DType::Int64), zeros({5})),
                    Catch::Contains("x is int64"));
  CHECK_THROWS_AS(TensorDataset(x, zeros({5}, DType::Bool)), DTypeError);
  CHECK_THROWS_AS(TensorDataset(Tensor(), zeros({5})), ArgumentError);
  CHECK_THROWS_AS(TensorDataset(x, Tensor::from_vector(std::vector<int64_t>{0, 1, -3, 0, 2}, {5})), ArgumentError);
  CHECK_THROWS_WITH(TensorDataset(x, Tensor::from_vector(std::vector<int64_t>{0, 1, -3, 0, 2}, {5})),
                    Catch::Contains("class index -3 of row 2"));
  CHECK_THROWS_AS(TensorDataset(x, Tensor::from_vector(std::vector<int64_t>{0, 1, int64_t(1) << 31, 0, 2}, {5})),
                  ArgumentError);

  const TensorDataset classes = make_rows(13, 4, 1);
  CHECK(classes.size() == 13);
  CHECK(classes.has_classes());
  const std::vector<int64_t> y = classes.y.values_as<int64_t>();
  CHECK(classes.num_classes() == *std::max_element(y.begin(), y.end()) + 1);
  TensorDataset named = classes;
  named.classes = {"a", "b", "c", "d", "e"};  // a class no row has still counts
  CHECK(named.num_classes() == 5);
  const TensorDataset values = make_rows(7, 0, 1);
  CHECK_FALSE(values.has_classes());
  CHECK(values.num_classes() == 0);
  CHECK(TensorDataset().size() == 0);
}

TEST_CASE("TensorDataset::subset gathers rows in the given order", "[tensor_dataset]") {
  TensorDataset data = make_rows(29, 3, 2);
  data.classes = {"x", "y", "z"};
  data.feature_names = {"f"};
  const std::vector<int64_t> y = data.y.values_as<int64_t>();
  const std::vector<int64_t> pick = {17, 3, 3, 28, 0, 11};  // repeats allowed, as torch's Subset
  const TensorDataset sub = data.subset(pick);
  CHECK(sub.size() == 6);
  CHECK(sub.x.shape() == Shape{6, 2, 3});
  CHECK(row_ids(sub.x) == pick);
  const std::vector<int64_t> sy = sub.y.values_as<int64_t>();
  for (size_t i = 0; i < pick.size(); ++i) CHECK(sy[i] == y[size_t(pick[i])]);
  CHECK(sub.classes == data.classes);
  CHECK(sub.feature_names == data.feature_names);

  const TensorDataset fv = make_rows(9, 0, 0).subset({8, 2});
  CHECK(fv.y.to_vector() == std::vector<float>{-8, 4, -2, 1});

  CHECK_THROWS_AS(data.subset({1, 29}), ArgumentError);
  CHECK_THROWS_WITH(data.subset({1, 29}), Catch::Contains("index 29") && Catch::Contains("29 rows"));
  CHECK_THROWS_WITH(data.subset({-1}), Catch::Contains("index -1"));
}

TEST_CASE("train_val_split: the last rows, as Keras' validation_split", "[tensor_dataset]") {
  // Keras: split_at = floor(n * (1 - fraction)); n = 10, 0.2 -> 8 + 2; 0.3 -> 7 + 3 (10 * 0.7
  // is 7.000000000000001 in double); 37, 0.2 -> 29 + 8.
  const std::vector<std::tuple<int64_t, double, int64_t>> cases = {
      {10, 0.2, 8}, {10, 0.3, 7}, {37, 0.2, 29}, {2, 0.5, 1}, {101, 0.013, 99}};
  for (const auto& [n, fraction, n_train] : cases) {
    INFO("n " << n << ", fraction " << fraction);
    const TensorDataset data = make_rows(n, 5, uint64_t(n));
    const auto [train, val] = train_val_split(data, fraction);
    CHECK(train.size() == n_train);
    CHECK(val.size() == n - n_train);
    const std::vector<int64_t> all = iota(n);
    CHECK(row_ids(train.x) == std::vector<int64_t>(all.begin(), all.begin() + n_train));
    CHECK(row_ids(val.x) == std::vector<int64_t>(all.begin() + n_train, all.end()));
    std::vector<int64_t> y = train.y.values_as<int64_t>(), vy = val.y.values_as<int64_t>();
    y.insert(y.end(), vy.begin(), vy.end());
    CHECK(y == data.y.values_as<int64_t>());
  }
}

TEST_CASE("train_val_split: a seeded random choice", "[tensor_dataset]") {
  Generator gen(11);
  for (int trial = 0; trial < 5; ++trial) {
    const int64_t n = 20 + int64_t(gen.below(200));
    const double fraction = 0.05 + 0.5 * gen.uniform(0, 1);
    INFO("n " << n << ", fraction " << fraction);
    const TensorDataset data = make_rows(n, 0, 0);
    const auto [train, val] = train_val_split(data, fraction, true, 42);
    const int64_t n_train = int64_t(std::floor(double(n) * (1.0 - fraction)));
    CHECK(train.size() == n_train);
    CHECK(val.size() == n - n_train);
    const std::vector<int64_t> a = row_ids(train.x), b = row_ids(val.x);
    CHECK(std::is_sorted(a.begin(), a.end()));  // each part in file order
    CHECK(std::is_sorted(b.begin(), b.end()));
    std::set<int64_t> all(a.begin(), a.end());
    all.insert(b.begin(), b.end());
    CHECK(all.size() == size_t(n));  // disjoint and covering
    CHECK(*all.rbegin() == n - 1);
    const std::vector<int64_t> rows = iota(n);
    CHECK(b != std::vector<int64_t>(rows.begin() + n_train, rows.end()));  // not the last rows
    // the targets travel with their rows
    const std::vector<float> vy = val.y.to_vector();
    for (size_t i = 0; i < b.size(); ++i) CHECK(vy[2 * i] == -float(b[i]));
    // the same seed, the same split; another seed, another
    CHECK(row_ids(train_val_split(data, fraction, true, 42).second.x) == b);
    CHECK(row_ids(train_val_split(data, fraction, true, 43).second.x) != b);
  }
}

TEST_CASE("train_val_split: bad fractions and empty parts", "[tensor_dataset]") {
  const TensorDataset data = make_rows(10, 2, 3);
  for (double f : {0.0, 1.0, -0.2, 1.5, std::nan("")}) {
    CHECK_THROWS_AS(train_val_split(data, f), ArgumentError);
    CHECK_THROWS_WITH(train_val_split(data, f), Catch::Contains("in (0, 1)"));
  }
  CHECK_THROWS_WITH(train_val_split(data, 0.95), Catch::Contains("0 for training"));
  CHECK_THROWS_AS(train_val_split(make_rows(1, 2, 3), 0.5, true), ArgumentError);
}

TEST_CASE("TensorLoader: every row once per epoch, seeded shuffles", "[tensor_dataset]") {
  Generator gen(5);
  for (int trial = 0; trial < 4; ++trial) {
    const int64_t n = 1 + int64_t(gen.below(90)), batch = 1 + int64_t(gen.below(17));
    INFO("n " << n << ", batch " << batch);
    const TensorDataset data = make_rows(n, 3, uint64_t(trial));
    TensorLoaderOptions opt;
    opt.batch_size = batch;
    opt.seed = 9;
    TensorLoader loader(data, opt);
    CHECK(loader.batches_per_epoch() == (n + batch - 1) / batch);
    CHECK(loader.dataset().size() == n);
    const Epoch e0 = read_epoch(loader, 0), e1 = read_epoch(loader, 1);
    for (const Epoch* e : {&e0, &e1}) {
      CHECK(int64_t(e->sizes.size()) == loader.batches_per_epoch());
      for (size_t b = 0; b + 1 < e->sizes.size(); ++b) CHECK(e->sizes[b] == batch);
      CHECK(e->sizes.back() == n - batch * (int64_t(e->sizes.size()) - 1));  // the partial last batch
      std::vector<int64_t> sorted = e->ids;
      std::sort(sorted.begin(), sorted.end());
      CHECK(sorted == iota(n));
    }
    CHECK(e0.ids == epoch_order(n, 9, 0, true));  // the image loaders' order
    CHECK(e1.ids == epoch_order(n, 9, 1, true));
    if (n > 5) CHECK(e0.ids != e1.ids);
    TensorLoader again(data, opt);  // the same seed repeats
    CHECK(read_epoch(again, 1).ids == e1.ids);
    CHECK(read_epoch(again, 0).ids == e0.ids);
    opt.seed = 10;
    TensorLoader other(data, opt);
    if (n > 5) CHECK(read_epoch(other, 0).ids != e0.ids);
    opt.shuffle = false;
    TensorLoader in_order(data, opt);
    CHECK(read_epoch(in_order, 3).ids == iota(n));
  }
}

TEST_CASE("TensorLoader: drop_last, and an epoch read without start_epoch", "[tensor_dataset]") {
  const TensorDataset data = make_rows(23, 4, 7);
  TensorLoaderOptions opt;
  opt.batch_size = 5;
  opt.drop_last = true;
  opt.seed = 2;
  TensorLoader loader(data, opt);
  CHECK(loader.batches_per_epoch() == 4);
  Tensor inputs;
  std::vector<int32_t> labels;
  std::vector<int64_t> seen;
  while (loader.next_batch(Device::cpu(), inputs, labels)) {  // epoch 0 without start_epoch
    CHECK(inputs.size(0) == 5);
    CHECK(labels.size() == 5);
    const std::vector<int64_t> ids = row_ids(inputs);
    seen.insert(seen.end(), ids.begin(), ids.end());
  }
  const std::vector<int64_t> order = epoch_order(23, 2, 0, true);
  CHECK(seen == std::vector<int64_t>(order.begin(), order.begin() + 20));  // the 3 last left out
  CHECK_FALSE(loader.next_batch(Device::cpu(), inputs, labels));  // stays at the end
  CHECK(read_epoch(loader, 1).sizes == std::vector<int64_t>{5, 5, 5, 5});
}

TEST_CASE("TensorLoader: class labels or float values as targets", "[tensor_dataset]") {
  const TensorDataset classes = make_rows(31, 6, 4);
  const std::vector<int64_t> y = classes.y.values_as<int64_t>();
  TensorLoaderOptions opt;
  opt.batch_size = 7;
  opt.seed = 1;
  TensorLoader loader(classes, opt);
  Tensor inputs;
  std::vector<int32_t> labels;
  Targets targets;
  int64_t rows = 0;
  while (loader.next_batch(Device::cpu(), inputs, labels)) {
    const std::vector<int64_t> ids = row_ids(inputs);
    REQUIRE(labels.size() == ids.size());
    for (size_t i = 0; i < ids.size(); ++i) CHECK(labels[i] == int32_t(y[size_t(ids[i])]));
    rows += int64_t(ids.size());
  }
  CHECK(rows == 31);
  loader.start_epoch(1);
  REQUIRE(loader.next_batch_targets(Device::cpu(), inputs, targets));
  CHECK(targets.are_classes());
  CHECK(targets.size() == 7);
  const std::vector<int64_t> ids = row_ids(inputs);
  for (size_t i = 0; i < ids.size(); ++i) CHECK(targets.labels[i] == int32_t(y[size_t(ids[i])]));

  TensorLoader values(make_rows(19, 0, 0), opt);
  targets.labels = {1, 2, 3};  // left over from a class batch: must be cleared
  rows = 0;
  while (values.next_batch_targets(Device::cpu(), inputs, targets)) {
    CHECK_FALSE(targets.are_classes());
    CHECK(targets.labels.empty());
    REQUIRE(targets.values.shape() == Shape{inputs.size(0), 2});
    CHECK(targets.values.dtype() == DType::Float32);
    const std::vector<int64_t> vids = row_ids(inputs);
    const std::vector<float> v = targets.values.to_vector();
    for (size_t i = 0; i < vids.size(); ++i) {
      CHECK(v[2 * i] == -float(vids[i]));
      CHECK(v[2 * i + 1] == float(vids[i]) / 2);
    }
    rows += inputs.size(0);
  }
  CHECK(rows == 19);
  values.start_epoch(0);
  CHECK_THROWS_AS(values.next_batch(Device::cpu(), inputs, labels), DTypeError);
  CHECK_THROWS_WITH(values.next_batch(Device::cpu(), inputs, labels), Catch::Contains("next_batch_targets"));
}

TEST_CASE("TensorLoader: bad options and data", "[tensor_dataset]") {
  const TensorDataset data = make_rows(6, 2, 1);
  TensorLoaderOptions opt;
  opt.batch_size = 0;
  CHECK_THROWS_AS(TensorLoader(data, opt), ArgumentError);
  CHECK_THROWS_WITH(TensorLoader(data, opt), Catch::Contains("batch size must be >= 1, got 0"));
  opt.batch_size = 7;
  opt.drop_last = true;
  CHECK_THROWS_WITH(TensorLoader(data, opt), Catch::Contains("leaves no batch"));
  CHECK_THROWS_AS(TensorLoader(TensorDataset()), ArgumentError);
  CHECK_THROWS_AS(TensorLoader(data.subset({})), ArgumentError);
  TensorDataset bad = data;  // fields assigned directly are checked too
  bad.y = Tensor::from_vector(std::vector<int64_t>{0, 1, 0, 1, 1, 0}, {6});
  bad.classes = {"only one"};
  CHECK_THROWS_AS(TensorLoader(bad), ArgumentError);
  bad = data;
  bad.y = zeros({5});
  CHECK_THROWS_AS(TensorLoader(bad), ShapeError);
}
