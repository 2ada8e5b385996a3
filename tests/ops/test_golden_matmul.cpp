// Agreement with PyTorch for matmul (core/ops.hpp, "matmul, views and indexing"): dot,
// matrix-vector, matrix-matrix, batched and broadcast batches, against
// tests/golden/matmul.safetensors (scripts/make_golden.py; tests/golden/README.md).
// Pending: moves to tests/ops/ once matmul is merged.
#include <catch2/catch.hpp>

#include "core/ops.hpp"
#include "golden_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test::golden;

TEST_CASE("matmul agrees with PyTorch", "[golden]") {
  const std::map<std::string, GoldenOp> ops = {
      {"matmul", op1([](In in, P) { return matmul(in[0], in[1]); })},
  };
  // Dot products of up to 13 terms (and gradients summed over broadcast batches) in another
  // order than torch's BLAS: 1e-4 (golden_test_util.hpp).
  check_golden("matmul", ops, 1e-4);
}
