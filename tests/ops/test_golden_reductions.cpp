// Agreement with PyTorch for the reductions beyond sum and softmax (core/ops.hpp, "reductions
// beyond sum, softmax, losses") against tests/golden/reductions.safetensors
// (scripts/make_golden.py; tests/golden/README.md).
// Pending: moves to tests/ops/ once the reductions are merged.
#include <catch2/catch.hpp>

#include "core/ops.hpp"
#include "golden_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test::golden;

namespace {

// max/min along a dim: the values and the int64 indices, as torch returns them.
GoldenOp values_indices(ValuesIndices (*f)(const Tensor&, int64_t, bool)) {
  return {[f](In in, P p) {
    ValuesIndices r = f(in[0], i64(p, "dim"), flag(p, "keepdim"));
    return std::vector<Tensor>{r.values, r.indices};
  }};
}

}  // namespace

TEST_CASE("reductions, softmax and logsumexp agree with PyTorch", "[golden]") {
  const std::map<std::string, GoldenOp> ops = {
      {"mean", op1([](In in, P p) { return mean(in[0], dims_param(p), flag(p, "keepdim")); })},
      {"mean_dim", op1([](In in, P p) { return mean(in[0], i64(p, "dim"), flag(p, "keepdim")); })},
      {"max_dim", values_indices([](const Tensor& x, int64_t d, bool k) { return max(x, d, k); })},
      {"min_dim", values_indices([](const Tensor& x, int64_t d, bool k) { return min(x, d, k); })},
      {"max_all", op1([](In in, P) { return max(in[0]); })},
      {"min_all", op1([](In in, P) { return min(in[0]); })},
      {"argmax_dim", op1([](In in, P p) { return argmax(in[0], i64(p, "dim"), flag(p, "keepdim")); })},
      {"argmin_dim", op1([](In in, P p) { return argmin(in[0], i64(p, "dim"), flag(p, "keepdim")); })},
      {"argmax_all", op1([](In in, P) { return argmax(in[0]); })},
      {"var", op1([](In in, P p) { return var(in[0], dims_param(p), i64(p, "correction"), flag(p, "keepdim")); })},
      {"std", op1([](In in, P p) {
         return dlcraft::std(in[0], dims_param(p), i64(p, "correction"), flag(p, "keepdim"));
       })},
      {"softmax", op1([](In in, P p) { return softmax(in[0], i64(p, "dim")); })},
      {"log_softmax", op1([](In in, P p) { return log_softmax(in[0], i64(p, "dim")); })},
      {"logsumexp", op1([](In in, P p) { return logsumexp(in[0], i64(p, "dim"), flag(p, "keepdim")); })},
  };
  // Sums in another order than torch's: 1e-4 (golden_test_util.hpp).
  check_golden("reductions", ops, 1e-4);
}
