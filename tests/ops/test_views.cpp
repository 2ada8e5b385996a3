// Views and indexing: transpose/permute, view/flatten/squeeze/unsqueeze/contiguous, cat/stack,
// narrow/slice/select, index_select/gather. Values against index-by-index loops, Python's
// slicing rules, int64 and bool tensors through the data movement, gradients by finite
// differences, and the errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "gradcheck.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {
// 0, 1, 2, ... in the given shape (float32 unless told).
Tensor iota(const Shape& shape, DType dtype = DType::Float32) {
  return reshape(arange(double(numel(shape)), dtype), shape);
}
// A bool tensor (Tensor::to(DType) is another section's op, not needed here).
Tensor bools(const std::vector<uint8_t>& v, const Shape& shape) {
  Tensor t = Tensor::empty(shape, DType::Bool);
  std::copy(v.begin(), v.end(), t.data_ptr<uint8_t>());
  return t;
}
Tensor ids(std::vector<int64_t> v) {
  const int64_t n = int64_t(v.size());
  return Tensor::from_vector(v, {n});
}
}  // namespace

TEST_CASE("permute and transpose move every element to its permuted index", "[views]") {
  Tensor x = iota({2, 3, 4});
  Tensor y = permute(x, {2, 0, 1});
  REQUIRE(y.shape() == Shape{4, 2, 3});
  const std::vector<float> xv = x.to_vector(), yv = y.to_vector();
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 3; ++k) CHECK(yv[(i * 2 + j) * 3 + k] == xv[(j * 3 + k) * 4 + i]);
  Tensor t = transpose(x, 0, -1);  // [4,3,2]: t[i][j][k] = x[k][j][i]
  REQUIRE(t.shape() == Shape{4, 3, 2});
  const std::vector<float> tv = t.to_vector();
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 2; ++k) CHECK(tv[(i * 3 + j) * 2 + k] == xv[(k * 3 + j) * 4 + i]);
  // A copy, not a view: tensors stay contiguous.
  CHECK(transpose(x, 1, 1).raw_data() != x.raw_data());
  CHECK(transpose(Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}), 0, 1).to_vector() ==
        std::vector<float>{1, 4, 2, 5, 3, 6});

  // int64 and bool go through the same kernel.
  Tensor xi = iota({2, 3, 4}, DType::Int64);
  Tensor yi = permute(xi, {2, 0, 1});
  CHECK(yi.dtype() == DType::Int64);
  CHECK(yi.values_as<int64_t>() == y.values_as<int64_t>());
  Tensor mask = bools({1, 0, 0, 1, 1, 0}, {2, 3});
  CHECK(transpose(mask, 0, 1).values_as<int64_t>() == std::vector<int64_t>{1, 1, 0, 1, 0, 0});
  CHECK(transpose(mask, 0, 1).dtype() == DType::Bool);

  CHECK_THROWS_AS(permute(x, {0, 1}), ShapeError);
  CHECK_THROWS_WITH(permute(x, {0, 1, 1}), Catch::Contains("permute") && Catch::Contains("twice"));
  CHECK_THROWS_AS(permute(x, {0, 1, 3}), ShapeError);
  CHECK_THROWS_WITH(transpose(x, 0, 3), Catch::Contains("transpose"));
}

TEST_CASE("permute and transpose backpropagate the inverse permutation", "[views][grad]") {
  Generator gen(3);
  check_gradients("permute", [](const std::vector<Tensor>& in) { return permute(in[0], {1, 3, 0, 2}); },
                  {uniform_tensor({2, 3, 5, 4}, gen)});
  check_gradients("transpose", [](const std::vector<Tensor>& in) { return transpose(in[0], -1, 0); },
                  {uniform_tensor({3, 1, 7}, gen)});
  // Composed with matmul: x [3,5] -> xᵀ x.
  check_gradients("transpose then matmul",
                  [](const std::vector<Tensor>& in) { return matmul(transpose(in[0], 0, 1), in[0]); },
                  {uniform_tensor({3, 5}, gen)});
}

TEST_CASE("view, flatten, squeeze and unsqueeze share memory; contiguous is the tensor itself",
          "[views]") {
  Tensor x = iota({2, 1, 3, 1, 4});
  CHECK(view(x, {6, -1}).shape() == Shape{6, 4});
  CHECK(view(x, {6, -1}).raw_data() == x.raw_data());
  CHECK(flatten(x, 2, 4).shape() == Shape{2, 1, 12});
  CHECK(flatten(x, 0, -1).shape() == Shape{24});
  CHECK(flatten(x, 1, 1).shape() == x.shape());
  CHECK(flatten(x, -3, -2).shape() == Shape{2, 1, 3, 4});
  CHECK(flatten(x, 1).shape() == Shape{2, 12});  // the old overload still works
  CHECK(flatten(full({}, 5), 0, -1).shape() == Shape{1});
  CHECK(squeeze(x).shape() == Shape{2, 3, 4});
  CHECK(squeeze(x, 1).shape() == Shape{2, 3, 1, 4});
  CHECK(squeeze(x, -2).shape() == Shape{2, 1, 3, 4});
  CHECK(squeeze(x, 0).shape() == x.shape());  // not size 1: unchanged
  CHECK(squeeze(x).raw_data() == x.raw_data());
  CHECK(unsqueeze(x, 0).shape() == Shape{1, 2, 1, 3, 1, 4});
  CHECK(unsqueeze(x, -1).shape() == Shape{2, 1, 3, 1, 4, 1});
  CHECK(unsqueeze(full({}, 1), 0).shape() == Shape{1});
  CHECK(unsqueeze(x, 5).raw_data() == x.raw_data());
  CHECK(contiguous(x).impl() == x.impl());
  CHECK(squeeze(iota({1, 1}, DType::Int64)).dtype() == DType::Int64);
  CHECK_THROWS_AS(flatten(x, 3, 1), ShapeError);
  CHECK_THROWS_AS(unsqueeze(x, 6), ShapeError);
  CHECK_THROWS_AS(squeeze(x, 5), ShapeError);
  CHECK_THROWS_AS(view(x, {5, -1}), ShapeError);

  Generator gen(4);
  check_gradients("flatten/unsqueeze/squeeze",
                  [](const std::vector<Tensor>& in) {
                    return matmul(squeeze(unsqueeze(flatten(in[0], 0, 1), 1)), in[1]);
                  },
                  {uniform_tensor({2, 3, 4}, gen), uniform_tensor({4, 3}, gen)});
}

TEST_CASE("cat and stack join along a dimension; their gradients are the pieces of dy",
          "[views]") {
  Tensor a = iota({2, 3}), b = add(iota({2, 1}), full({2, 1}, 100));
  CHECK(cat({a, b}, 1).to_vector() == std::vector<float>{0, 1, 2, 100, 3, 4, 5, 101});
  CHECK(cat({a, b}, -1).shape() == Shape{2, 4});
  CHECK(cat({a, a}, 0).to_vector() == std::vector<float>{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5});
  CHECK(cat({a}, 0).to_vector() == a.to_vector());
  CHECK(cat({a, zeros({0, 3})}, 0).shape() == Shape{2, 3});
  Tensor s0 = stack({a, a, a}, 0);
  CHECK(s0.shape() == Shape{3, 2, 3});
  Tensor s2 = stack({a, add(a, full({2, 3}, 10))}, -1);  // [2,3,2]: s2[i][j][k] = (a + 10k)[i][j]
  CHECK(s2.shape() == Shape{2, 3, 2});
  CHECK(s2.to_vector() == std::vector<float>{0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15});
  CHECK(stack({a, a}, 1).shape() == Shape{2, 2, 3});
  CHECK(stack({full({}, 1), full({}, 2)}).to_vector() == std::vector<float>{1, 2});

  // int64 and bool.
  Tensor i1 = Tensor::from_vector(std::vector<int64_t>{1, 2, 3, 4}, {2, 2});
  Tensor i2 = Tensor::from_vector(std::vector<int64_t>{5000000000LL, 6}, {2, 1});
  Tensor ic = cat({i1, i2}, 1);
  CHECK(ic.dtype() == DType::Int64);
  CHECK(ic.values_as<int64_t>() == std::vector<int64_t>{1, 2, 5000000000LL, 3, 4, 6});
  CHECK(stack({i1, i1}, 2).values_as<int64_t>() == std::vector<int64_t>{1, 1, 2, 2, 3, 3, 4, 4});
  Tensor m = full({2}, 1, DType::Bool);
  CHECK(cat({m, zeros({1}, DType::Bool)}).values_as<int64_t>() == std::vector<int64_t>{1, 1, 0});

  CHECK_THROWS_WITH(cat({a, zeros({3, 3})}, 1),
                    Catch::Contains("cat: shapes [2,3] (tensor 0) and [3,3] (tensor 1) differ outside dimension 1"));
  CHECK_THROWS_AS(cat({a, zeros({2, 3, 1})}, 0), ShapeError);
  CHECK_THROWS_AS(cat({a, zeros({2, 3}, DType::Int64)}, 0), DTypeError);
  CHECK_THROWS_AS(cat({}, 0), ArgumentError);
  CHECK_THROWS_AS(cat({a, a}, 2), ShapeError);
  CHECK_THROWS_AS(cat({full({}, 1), full({}, 1)}, 0), ShapeError);
  CHECK_THROWS_WITH(stack({a, zeros({3, 2})}, 0), Catch::Contains("stack"));
  CHECK_THROWS_AS(stack({a, a}, 3), ShapeError);
  CHECK_THROWS_AS(stack({a, zeros({2, 3}, DType::Bool)}, 0), DTypeError);

  Generator gen(5);
  check_gradients("cat dim 1",
                  [](const std::vector<Tensor>& in) { return cat({in[0], in[1], in[0]}, 1); },
                  {uniform_tensor({2, 3, 2}, gen), uniform_tensor({2, 5, 2}, gen)});
  check_gradients("cat dim 0", [](const std::vector<Tensor>& in) { return cat({in[0], in[1]}, 0); },
                  {uniform_tensor({1, 3}, gen), uniform_tensor({4, 3}, gen)});
  check_gradients("stack dim -1",
                  [](const std::vector<Tensor>& in) { return stack({in[0], in[1], in[0]}, -1); },
                  {uniform_tensor({3, 5}, gen), uniform_tensor({3, 5}, gen)});
  // Only one piece requires grad.
  Tensor x = uniform_tensor({2, 2}, gen), y = uniform_tensor({2, 2}, gen);
  y.requires_grad_(true);
  sum(stack({x, y}, 0)).backward();
  CHECK(y.grad().to_vector() == std::vector<float>(4, 1.0f));
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("narrow, slice and select pick along a dimension with Python's rules", "[views]") {
  Tensor x = iota({7});
  auto picks = [&](int64_t start, int64_t end, int64_t step) {
    std::vector<int64_t> out;
    for (float v : slice(x, 0, start, end, step).to_vector()) out.push_back(int64_t(v));
    return out;
  };
  using V = std::vector<int64_t>;
  // As Python's list(range(7))[start:end:step].
  CHECK(picks(1, 5, 1) == V{1, 2, 3, 4});
  CHECK(picks(1, 5, 2) == V{1, 3});
  CHECK(picks(0, 7, 3) == V{0, 3, 6});
  CHECK(picks(-3, 7, 1) == V{4, 5, 6});       // x[-3:]
  CHECK(picks(2, -2, 1) == V{2, 3, 4});       // x[2:-2]
  CHECK(picks(-100, 100, 3) == V{0, 3, 6});   // clamped
  CHECK(picks(-2, INT64_MAX, 1) == V{5, 6});
  CHECK(picks(5, 2, 1).empty());              // end before start: empty
  CHECK(picks(-1, -8, 1).empty());
  CHECK(picks(8, 10, 1).empty());
  CHECK(picks(0, 7, 10) == V{0});
  CHECK(picks(1, 6, 2) == V{1, 3, 5});
  CHECK(slice(x, 0, 5, 2).shape() == Shape{0});

  Tensor m = iota({3, 4, 5});
  Tensor s = slice(m, 1, 1, 4, 2);  // m[:, 1:4:2, :]
  REQUIRE(s.shape() == Shape{3, 2, 5});
  const std::vector<float> mv = m.to_vector(), sv = s.to_vector();
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 5; ++k) CHECK(sv[(i * 2 + j) * 5 + k] == mv[(i * 4 + 1 + 2 * j) * 5 + k]);
  Tensor n = narrow(m, -1, 1, 3);  // m[..., 1:4]
  REQUIRE(n.shape() == Shape{3, 4, 3});
  CHECK(n.to_vector()[0] == 1.0f);
  CHECK(n.to_vector()[3] == 6.0f);
  CHECK(narrow(m, 0, -1, 1).shape() == Shape{1, 4, 5});
  CHECK(narrow(m, 0, -1, 1).to_vector()[0] == 40.0f);
  Tensor sel = select(m, 1, -1);  // m[:, -1, :]
  REQUIRE(sel.shape() == Shape{3, 5});
  CHECK(sel.to_vector()[0] == 15.0f);
  CHECK(sel.to_vector()[5] == 35.0f);
  CHECK(select(iota({4}), 0, 2).dim() == 0);
  CHECK(select(iota({4}), 0, 2).item() == 2.0f);

  Tensor mi = iota({3, 4}, DType::Int64);
  CHECK(slice(mi, 1, 0, 4, 3).values_as<int64_t>() == std::vector<int64_t>{0, 3, 4, 7, 8, 11});
  CHECK(select(mi, 0, 1).values_as<int64_t>() == std::vector<int64_t>{4, 5, 6, 7});
  CHECK(narrow(mi, 0, 1, 2).dtype() == DType::Int64);

  CHECK_THROWS_AS(slice(x, 0, 0, 5, 0), ArgumentError);
  CHECK_THROWS_AS(slice(x, 0, 0, 5, -1), ArgumentError);
  CHECK_THROWS_AS(slice(x, 1, 0, 5, 1), ShapeError);
  CHECK_THROWS_WITH(narrow(m, 1, 2, 3), Catch::Contains("narrow") && Catch::Contains("[3,4,5]"));
  CHECK_THROWS_AS(narrow(m, 1, 0, -1), ArgumentError);
  CHECK_THROWS_WITH(select(m, 0, 3), Catch::Contains("select: index 3 is out of range for dimension 0 of size 3"));
  CHECK_THROWS_AS(select(m, 0, -4), ArgumentError);
  CHECK_THROWS_AS(select(full({}, 1), 0, 0), ShapeError);

  Generator gen(6);
  check_gradients("slice step 2",
                  [](const std::vector<Tensor>& in) { return slice(in[0], 1, -4, 100, 2); },
                  {uniform_tensor({3, 7, 2}, gen)});
  check_gradients("slice step 3", [](const std::vector<Tensor>& in) { return slice(in[0], 0, 1, 9, 3); },
                  {uniform_tensor({9, 3}, gen)});
  check_gradients("narrow", [](const std::vector<Tensor>& in) { return narrow(in[0], 2, 1, 3); },
                  {uniform_tensor({2, 3, 5}, gen)});
  check_gradients("select", [](const std::vector<Tensor>& in) { return select(in[0], 1, -2); },
                  {uniform_tensor({2, 5, 3}, gen)});
  // Gradients of two slices of one tensor add up; the rest stays zero.
  Tensor w = zeros({5}, TensorOptions().with_requires_grad());
  sum(cat({slice(w, 0, 0, 5, 2), narrow(w, 0, 1, 3)})).backward();
  CHECK(w.grad().to_vector() == std::vector<float>{1, 1, 2, 1, 1});
}

TEST_CASE("index_select picks rows in index order; repeated indices add their gradients",
          "[indexing]") {
  Tensor x = iota({3, 4});
  CHECK(index_select(x, 0, ids({2, 0, 2})).to_vector() ==
        std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  CHECK(index_select(x, 1, ids({3, 3, 0})).to_vector() ==
        std::vector<float>{3, 3, 0, 7, 7, 4, 11, 11, 8});
  CHECK(index_select(x, -1, ids({})).shape() == Shape{3, 0});
  Tensor x3 = iota({2, 3, 4});
  Tensor y3 = index_select(x3, 1, ids({1, 1, 0, 2}));
  REQUIRE(y3.shape() == Shape{2, 4, 4});
  const std::vector<float> xv = x3.to_vector(), yv = y3.to_vector();
  const int64_t idx[] = {1, 1, 0, 2};
  for (int64_t o = 0; o < 2; ++o)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t i = 0; i < 4; ++i) CHECK(yv[(o * 4 + j) * 4 + i] == xv[(o * 3 + idx[j]) * 4 + i]);

  Tensor labels = Tensor::from_vector(std::vector<int64_t>{10, 20, 30}, {3});
  Tensor picked = index_select(labels, 0, ids({2, 2, 1}));
  CHECK(picked.dtype() == DType::Int64);
  CHECK(picked.values_as<int64_t>() == std::vector<int64_t>{30, 30, 20});
  Tensor mask = bools({1, 0, 1}, {3});
  CHECK(index_select(mask, 0, ids({1, 0})).values_as<int64_t>() == std::vector<int64_t>{0, 1});

  // An embedding lookup: row 1 used three times gets three gradients.
  Tensor table = zeros({3, 2}, TensorOptions().with_requires_grad());
  sum(index_select(table, 0, ids({1, 0, 1, 1}))).backward();
  CHECK(table.grad().to_vector() == std::vector<float>{1, 1, 3, 3, 0, 0});

  Generator gen(7);
  check_gradients("index_select dim 1 with repeats",
                  [](const std::vector<Tensor>& in) { return index_select(in[0], 1, ids({4, 0, 4, 2, 4})); },
                  {uniform_tensor({3, 5, 2}, gen)});
  check_gradients("index_select dim 0", [](const std::vector<Tensor>& in) { return index_select(in[0], 0, ids({1, 1})); },
                  {uniform_tensor({3, 7}, gen)});

  CHECK_THROWS_WITH(index_select(x, 0, ids({0, 3})),
                    Catch::Contains("index_select: index 3 is out of range for dimension 0 of size 3"));
  CHECK_THROWS_AS(index_select(x, 1, ids({-1})), ArgumentError);
  CHECK_THROWS_AS(index_select(x, 0, Tensor::from_vector({0, 1}, {2})), DTypeError);
  CHECK_THROWS_AS(index_select(x, 0, iota({2, 1}, DType::Int64)), ShapeError);
  CHECK_THROWS_AS(index_select(x, 2, ids({0})), ShapeError);
}

TEST_CASE("gather reads x at the index along one dimension; its gradient scatters back",
          "[indexing]") {
  // torch.gather(x, 1, index): out[i][j] = x[i][index[i][j]].
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {2, 2});
  Tensor index = Tensor::from_vector(std::vector<int64_t>{0, 0, 1, 0}, {2, 2});
  CHECK(gather(x, 1, index).to_vector() == std::vector<float>{1, 1, 4, 3});
  CHECK(gather(x, 0, index).to_vector() == std::vector<float>{1, 2, 3, 2});  // out[i][j] = x[index[i][j]][j]

  // A 3-D case, index smaller than x outside the dimension: out[i][j][k] = x[i][j][index[i][j][k]].
  Generator gen(8);
  Tensor x3 = uniform_tensor({3, 4, 5}, gen);
  Tensor i3 = randint(0, 5, {2, 3, 6}, gen);
  Tensor y3 = gather(x3, 2, i3);
  REQUIRE(y3.shape() == Shape{2, 3, 6});
  const std::vector<float> xv = x3.to_vector(), yv = y3.to_vector();
  const std::vector<int64_t> iv = i3.values_as<int64_t>();
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 6; ++k) {
        const int64_t o = (i * 3 + j) * 6 + k;
        CHECK(yv[o] == xv[(i * 4 + j) * 5 + iv[o]]);
      }
  Tensor i0 = randint(0, 3, {3, 2, 5}, gen);  // along dim 0: out[i][j][k] = x[index][j][k]
  Tensor y0 = gather(x3, 0, i0);
  const std::vector<float> y0v = y0.to_vector();
  const std::vector<int64_t> i0v = i0.values_as<int64_t>();
  for (int64_t o = 0; o < 30; ++o) {
    const int64_t j = o / 5 % 2, k = o % 5;
    CHECK(y0v[o] == xv[(i0v[o] * 4 + j) * 5 + k]);
  }
  // int64 data: picking each row's label.
  Tensor li = iota({2, 3}, DType::Int64);
  CHECK(gather(li, 1, Tensor::from_vector(std::vector<int64_t>{2, 0}, {2, 1})).values_as<int64_t>() ==
        std::vector<int64_t>{2, 3});

  // Repeated indices: x[0][0] read twice gets 2 (+ the weights of the other reads).
  Tensor w = zeros({2, 2}, TensorOptions().with_requires_grad());
  sum(gather(w, 1, index)).backward();
  CHECK(w.grad().to_vector() == std::vector<float>{2, 0, 1, 1});

  check_gradients("gather dim 2 (smaller index)", [&](const std::vector<Tensor>& in) { return gather(in[0], 2, i3); },
                  {uniform_tensor({3, 4, 5}, gen)});
  check_gradients("gather dim 0", [&](const std::vector<Tensor>& in) { return gather(in[0], 0, i0); },
                  {uniform_tensor({3, 4, 5}, gen)});

  CHECK_THROWS_WITH(gather(x, 1, Tensor::from_vector(std::vector<int64_t>{0, 2, 1, 0}, {2, 2})),
                    Catch::Contains("gather: index 2 is out of range for dimension 1 of size 2"));
  CHECK_THROWS_AS(gather(x, 1, Tensor::from_vector(std::vector<int64_t>{-1}, {1, 1})), ArgumentError);
  CHECK_THROWS_AS(gather(x, 1, ids({0, 1})), ShapeError);                     // rank
  CHECK_THROWS_AS(gather(x, 1, zeros({3, 1}, DType::Int64)), ShapeError);     // larger than x in dim 0
  CHECK_THROWS_AS(gather(x, 1, zeros({2, 2})), DTypeError);
  CHECK_THROWS_AS(gather(x, 2, index), ShapeError);
}

// The CPU copies the last two dimensions in tiles (kernels/cpu/views.cpp): odd sizes that
// leave partial tiles, a batch of transposes, and a permute that keeps the last dimension.
TEST_CASE("transpose and permute of odd sizes match an index loop", "[views]") {
  Generator gen(5);
  Tensor x = Tensor::normal({67, 129}, gen);
  const std::vector<float> xv = x.to_vector(), tv = transpose(x, 0, 1).to_vector();
  bool same = true;
  for (int64_t i = 0; i < 129; ++i)
    for (int64_t j = 0; j < 67; ++j) same = same && tv[i * 67 + j] == xv[j * 129 + i];
  CHECK(same);
  Tensor b = Tensor::normal({3, 45, 70}, gen);
  const std::vector<float> bv = b.to_vector(), pv = permute(b, {0, 2, 1}).to_vector();
  const std::vector<float> qv = permute(b, {1, 0, 2}).to_vector();
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t i = 0; i < 70; ++i)
      for (int64_t j = 0; j < 45; ++j) {
        same = same && pv[(n * 70 + i) * 45 + j] == bv[(n * 45 + j) * 70 + i];
        same = same && qv[(j * 3 + n) * 70 + i] == bv[(n * 45 + j) * 70 + i];
      }
  CHECK(same);
  Tensor xi = reshape(arange(double(67 * 129), DType::Int64), {67, 129});
  const std::vector<int64_t> iv = transpose(xi, 0, 1).values_as<int64_t>();
  for (int64_t i = 0; i < 129; ++i)
    for (int64_t j = 0; j < 67; ++j) same = same && iv[i * 67 + j] == j * 129 + i;
  CHECK(same);
}
