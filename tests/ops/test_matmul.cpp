// matmul with torch.matmul's semantics: values against double loops in every case (1-D·1-D,
// 2-D x 2-D, a 1-D operand promoted, batched, broadcast batch dimensions, empty sizes),
// gradients by finite differences, and the errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "gradcheck.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

// torch.matmul by the book, in double: promote 1-D operands, broadcast the batch dimensions
// index by index, one dot product per output element, then drop the promoted dimensions.
std::vector<double> reference_matmul(const Tensor& a, const Tensor& b, Shape* out_shape) {
  Shape as = a.shape(), bs = b.shape();
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t n = as[as.size() - 2], m = as.back(), p = bs.back();
  const Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  const size_t rank = std::max(ab.size(), bb.size());
  Shape batch(rank, 1), pa(rank, 1), pb(rank, 1);  // the batch and both operands' padded to it
  for (size_t k = 0; k < ab.size(); ++k) pa[rank - ab.size() + k] = ab[k];
  for (size_t k = 0; k < bb.size(); ++k) pb[rank - bb.size() + k] = bb[k];
  for (size_t k = 0; k < rank; ++k) batch[k] = std::max(pa[k], pb[k]);
  const std::vector<double> av = a.values_as<double>(), bv = b.values_as<double>();
  std::vector<double> out;
  const int64_t count = numel(batch);
  for (int64_t bi = 0; bi < count; ++bi) {
    // The batch multi-index, and where it lands in each operand (index 0 on a size-1 dim).
    int64_t rest = bi, oa = 0, ob = 0, sa = 1, sb = 1;
    for (int64_t k = int64_t(rank) - 1; k >= 0; --k) {
      const int64_t i = rest % batch[k];
      rest /= batch[k];
      oa += (pa[k] == 1 ? 0 : i) * sa;
      ob += (pb[k] == 1 ? 0 : i) * sb;
      sa *= pa[k];
      sb *= pb[k];
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < p; ++j) {
        double s = 0;
        for (int64_t k = 0; k < m; ++k) s += av[(oa * n + i) * m + k] * bv[(ob * m + k) * p + j];
        out.push_back(s);
      }
  }
  *out_shape = batch;
  if (a.dim() > 1) out_shape->push_back(n);
  if (b.dim() > 1) out_shape->push_back(p);
  return out;
}

struct Case {
  Shape a, b, out;
};

// Every form torch.matmul takes, with odd sizes.
const std::vector<Case> kCases = {
    {{7}, {7}, {}},                         // dot product: a 0-d result
    {{3, 5}, {5, 7}, {3, 7}},               // matrix x matrix
    {{5}, {5, 7}, {7}},                     // a row vector times a matrix
    {{3, 5}, {5}, {3}},                     // a matrix times a column vector
    {{4, 3, 5}, {4, 5, 7}, {4, 3, 7}},      // batched
    {{4, 3, 5}, {5, 7}, {4, 3, 7}},         // one b for the whole batch
    {{3, 5}, {4, 5, 7}, {4, 3, 7}},         // one a for the whole batch
    {{2, 1, 3, 5}, {4, 5, 7}, {2, 4, 3, 7}},  // batch dims broadcast both ways
    {{2, 3, 3, 5}, {1, 3, 5, 2}, {2, 3, 3, 2}},
    {{3, 1, 2, 4}, {1, 2, 4, 3}, {3, 2, 2, 3}},  // both operands expanded
    {{5}, {2, 5, 3}, {2, 3}},               // 1-D a against a batch
    {{2, 3, 5}, {5}, {2, 3}},               // a batch against 1-D b
    {{1, 1, 3, 5}, {5, 2}, {1, 1, 3, 2}},
};

}  // namespace

TEST_CASE("matmul matches double loops in every case torch.matmul takes", "[matmul]") {
  Generator gen(1);
  for (const Case& c : kCases) {
    INFO(to_string(c.a) << " x " << to_string(c.b));
    Tensor a = uniform_tensor(c.a, gen), b = uniform_tensor(c.b, gen);
    Tensor y = matmul(a, b);
    Shape ref_shape;
    const std::vector<double> ref = reference_matmul(a, b, &ref_shape);
    CHECK(y.shape() == c.out);
    CHECK(ref_shape == c.out);
    CHECK(relative_error(y.values_as<double>(), ref) < 1e-5);
  }
  // A worked example: [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]]; [1,2]·[3,4] = 11.
  Tensor a = Tensor::from_vector({1, 2, 3, 4}, {2, 2}), b = Tensor::from_vector({5, 6, 7, 8}, {2, 2});
  CHECK(matmul(a, b).to_vector() == std::vector<float>{19, 22, 43, 50});
  Tensor dot = matmul(Tensor::from_vector({1, 2}, {2}), Tensor::from_vector({3, 4}, {2}));
  CHECK(dot.dim() == 0);
  CHECK(dot.item() == 11.0f);
}

TEST_CASE("matmul of empty sizes gives zeros or an empty tensor", "[matmul]") {
  Tensor y = matmul(zeros({0, 3}), ones({3, 2}));
  CHECK(y.shape() == Shape{0, 2});
  Tensor z = matmul(ones({2, 0}), ones({0, 3}));  // an empty inner sum
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.to_vector() == std::vector<float>(6, 0.0f));
  CHECK(matmul(ones({0, 2, 3}), ones({3, 4})).shape() == Shape{0, 2, 4});
}

TEST_CASE("matmul backpropagates dA = dY Bᵀ and dB = Aᵀ dY, summed over broadcast batches",
          "[matmul][grad]") {
  Generator gen(2);
  for (const Case& c : kCases) {
    check_gradients("matmul " + to_string(c.a) + " x " + to_string(c.b),
                    [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                    {uniform_tensor(c.a, gen), uniform_tensor(c.b, gen)});
  }
  // Only one side requiring grad: the other gets none, and the one side is still right.
  Tensor a = uniform_tensor({2, 3, 4}, gen), b = uniform_tensor({4, 5}, gen);
  b.requires_grad_(true);
  sum(matmul(a, b)).backward();
  CHECK_FALSE(a.grad().defined());
  REQUIRE(b.grad().defined());
  // d(sum(AB))/dB[k][j] = sum over batch and rows of A[.., i, k].
  const std::vector<float> av = a.to_vector(), gb = b.grad().to_vector();
  for (int64_t k = 0; k < 4; ++k) {
    double s = 0;
    for (int64_t bi = 0; bi < 2; ++bi)
      for (int64_t i = 0; i < 3; ++i) s += av[(bi * 3 + i) * 4 + k];
    for (int64_t j = 0; j < 5; ++j) CHECK(gb[k * 5 + j] == Approx(s).epsilon(1e-5));
  }
}

TEST_CASE("matmul refuses mismatched shapes, other dtypes and changed saved inputs", "[matmul]") {
  try {
    matmul(zeros({2, 3}), zeros({4, 5}));
    FAIL("no error");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()) == "matmul: [2,3] x [4,5]: inner sizes 3 and 4 differ");
  }
  CHECK_THROWS_AS(matmul(zeros({3}), zeros({4})), ShapeError);
  CHECK_THROWS_AS(matmul(zeros({2, 3, 4}), zeros({3, 4, 5})), ShapeError);  // batches 2 vs 3
  CHECK_THROWS_WITH(matmul(zeros({2, 3, 4}), zeros({3, 4, 5})), Catch::Contains("batch dimensions [2] and [3]"));
  CHECK_THROWS_AS(matmul(zeros({}), zeros({3})), ShapeError);
  CHECK_THROWS_AS(matmul(zeros({2, 2}, DType::Int64), zeros({2, 2})), DTypeError);
  CHECK_THROWS_WITH(matmul(zeros({2, 2}), zeros({2, 2}, DType::Int64)),
                    Catch::Contains("matmul") && Catch::Contains("int64"));
  CHECK_THROWS_AS(matmul(Tensor(), zeros({2, 2})), ArgumentError);

  Tensor a = ones({2, 2}, TensorOptions().with_requires_grad()), b = ones({2, 2});
  Tensor y = matmul(a, b);
  b.fill_(2);  // b is read by dA = dY Bᵀ
  CHECK_THROWS_AS(sum(y).backward(), AutogradError);
}
