// Agreement with PyTorch for per-side conv2d, padded max/avg pools and adaptive average
// pooling (core/ops.hpp, issue 11) against tests/golden/conv_pool.safetensors
// (scripts/make_golden.py, area conv_pool; tests/golden/README.md). conv2d sums up to
// C*R*S = 147 products in another order than torch's: tol 1e-4. A max is a copy (exact, and
// its gradient a sum of a few dy); averages sum a window of at most 25: tol 1e-5.
#include <catch2/catch.hpp>

#include "core/ops.hpp"
#include "golden_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test::golden;

namespace {
// A [h, w] pair of the case's params.
Size2 size2(P p, const char* key) {
  const std::vector<int> v = p.at(key).get<std::vector<int>>();
  REQUIRE(v.size() == 2);
  return {v[0], v[1]};
}
}  // namespace

TEST_CASE("per-side conv2d, padded pools and adaptive pooling agree with PyTorch", "[golden]") {
  const std::map<std::string, GoldenOp> ops = {
      {"conv2d", op1([](In in, P p) {
         return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), size2(p, "stride"), size2(p, "padding"));
       }, 1e-4)},
      {"max_pool2d", op1([](In in, P p) {
         return max_pool2d(in[0], size2(p, "kernel"), size2(p, "stride"), size2(p, "padding"));
       }, 1e-6)},
      {"avg_pool2d", op1([](In in, P p) {
         return avg_pool2d(in[0], size2(p, "kernel"), size2(p, "stride"), size2(p, "padding"));
       })},
      {"adaptive_avg_pool2d", op1([](In in, P p) { return adaptive_avg_pool2d(in[0], size2(p, "output_size")); })},
  };
  check_golden("conv_pool", ops, 1e-5);
}
