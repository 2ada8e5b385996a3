// Agreement with PyTorch for the loss functions (손실 함수; core/ops.hpp, "reductions beyond
// sum, softmax, losses") against tests/golden/losses.safetensors: every Reduction, label
// smoothing, int64 class targets, and the training loop's cross_entropy with int32 labels
// (scripts/make_golden.py; tests/golden/README.md).
// Pending: moves to tests/ops/ once the losses are merged.
#include <catch2/catch.hpp>

#include "core/ops.hpp"
#include "golden_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test::golden;

namespace {

GoldenOp loss(Tensor (*f)(const Tensor&, const Tensor&, Reduction)) {
  return op1([f](In in, P p) { return f(in[0], in[1], reduction_param(p)); });
}

}  // namespace

TEST_CASE("loss functions agree with PyTorch", "[golden]") {
  const std::map<std::string, GoldenOp> ops = {
      {"mse_loss", loss(mse_loss)},
      {"l1_loss", loss(l1_loss)},
      {"binary_cross_entropy", loss(binary_cross_entropy)},
      {"binary_cross_entropy_with_logits", loss(binary_cross_entropy_with_logits)},
      {"nll_loss", loss(nll_loss)},
      {"cross_entropy", op1([](In in, P p) {
         return cross_entropy(in[0], in[1], reduction_param(p), f64(p, "label_smoothing"));
       })},
      {"cross_entropy_int32", op1([](In in, P) {
         std::vector<int32_t> labels;
         for (int64_t v : in[1].values_as<int64_t>()) labels.push_back(int32_t(v));
         return cross_entropy(in[0], labels);
       })},
  };
  // Means and sums over rows and classes, in another order than torch's: 1e-4.
  check_golden("losses", ops, 1e-4);
}
