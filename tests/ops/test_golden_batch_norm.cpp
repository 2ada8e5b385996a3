// Agreement with PyTorch for batch_norm (배치 정규화; core/ops.hpp) against
// tests/golden/batch_norm.safetensors: F.batch_norm in training and eval, affine or not, with
// or without running statistics, the running statistics after the call, and the gradients of
// x, weight and bias (scripts/make_golden.py, batch_norm(); tests/golden/README.md).
#include <catch2/catch.hpp>

#include "core/ops.hpp"
#include "golden_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test::golden;

TEST_CASE("batch_norm agrees with PyTorch", "[golden]") {
  const std::map<std::string, GoldenOp> ops = {
      {"batch_norm", {[](In in, P p) {
         // Inputs: x, [running_mean, running_var], [weight, bias]; outputs: y, then the
         // running statistics after the call (updated in place in our copies of the inputs).
         const bool running = flag(p, "running"), affine = flag(p, "affine");
         const Tensor rm = running ? in[1] : Tensor(), rv = running ? in[2] : Tensor();
         const size_t first_affine = running ? 3 : 1;
         const Tensor w = affine ? in[first_affine] : Tensor(), b = affine ? in[first_affine + 1] : Tensor();
         Tensor y = batch_norm(in[0], rm, rv, w, b, flag(p, "training"), f64(p, "momentum"), f64(p, "eps"));
         return running ? std::vector<Tensor>{y, rm, rv} : std::vector<Tensor>{y};
       }}},
  };
  // Per-channel sums over up to 63 values in another order than torch's: 1e-4.
  check_golden("batch_norm", ops, 1e-4);
}
