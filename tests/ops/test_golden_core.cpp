// Agreement with PyTorch for the tensor core: sum, expand, sum_to, arange, linspace against
// tests/golden/core.safetensors (scripts/make_golden.py; tests/golden/README.md).
#include <catch2/catch.hpp>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/ops.hpp"
#include "golden_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test::golden;

TEST_CASE("sum, expand, sum_to, arange and linspace agree with PyTorch", "[golden]") {
  const std::map<std::string, GoldenOp> ops = {
      // Sums of up to 60 terms in another order than torch's: 1e-4 (golden_test_util.hpp).
      {"sum", op1([](In in, P p) { return sum(in[0], dims_param(p), flag(p, "keepdim")); }, 1e-4)},
      {"sum_dim", op1([](In in, P p) { return sum(in[0], i64(p, "dim"), flag(p, "keepdim")); }, 1e-4)},
      // expand copies; its gradient is a sum_to of a few terms, as is sum_to itself.
      {"expand", op1([](In in, P p) { return expand(in[0], shape_param(p, "shape")); }, 1e-5)},
      {"sum_to", op1([](In in, P p) { return sum_to(in[0], shape_param(p, "shape")); }, 1e-5)},
      {"arange", op1([](In, P p) {
         return arange(f64(p, "start"), f64(p, "end"), f64(p, "step"), dtype_param(p));
       })},
      {"arange_end", op1([](In, P p) { return arange(f64(p, "end"), dtype_param(p)); })},
      {"linspace", op1([](In, P p) { return linspace(f64(p, "start"), f64(p, "end"), i64(p, "steps")); })},
  };
  check_golden("core", ops, 1e-6);
}

TEST_CASE("the golden harness catches a wrong value, a wrong gradient and an unmapped op", "[golden]") {
  // A mutation check of the harness itself: sum with a wrong backward must fail its cases.
  GoldenFile f = load_golden("core");
  const GoldenCase* c = nullptr;
  for (const GoldenCase& g : f.cases)
    if (g.name == "sum/dims02_keep") c = &g;
  REQUIRE(c != nullptr);
  GoldenOp right = op1([](In in, P p) { return sum(in[0], dims_param(p), flag(p, "keepdim")); });
  CHECK(run_case(*c, right, 1e-4).empty());
  GoldenOp off = op1([](In in, P p) {  // every value 1e-3 too large
    Tensor s = sum(in[0], dims_param(p), flag(p, "keepdim"));
    return add(s, full(s.shape(), 1e-3));
  });
  CHECK_FALSE(run_case(*c, off, 1e-4).empty());
  GoldenOp twice = op1([](In in, P p) {  // the value right, the gradient doubled
    const Tensor x = in[0];
    const Shape kept = sum(x.detach(), dims_param(p), true).shape(), shape = x.shape();
    return record(sum(x.detach(), dims_param(p), flag(p, "keepdim")), "twice", {x},
                  [x, kept, shape](const Tensor& dy) {
                    const Tensor g = expand(reshape(dy, kept), shape);
                    accumulate_grad(x, add(g, g));
                  });
  });
  CHECK_FALSE(run_case(*c, twice, 1e-4).empty());
  GoldenOp wrong_shape = op1([](In in, P) { return sum(in[0]); });
  CHECK_FALSE(run_case(*c, wrong_shape, 1e-4).empty());
}
