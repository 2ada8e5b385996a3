// Agreement with PyTorch for the views and indexing ops (core/ops.hpp, "matmul, views and
// indexing") against tests/golden/views.safetensors (scripts/make_golden.py;
// tests/golden/README.md). Forward copies are exact; gradients that add repeated indices
// (index_select, gather) or pieces (cat, stack) add a handful of terms.
// Pending: moves to tests/ops/ once the views are merged.
#include <catch2/catch.hpp>

#include "core/ops.hpp"
#include "golden_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test::golden;

TEST_CASE("views, joins and indexing agree with PyTorch", "[golden]") {
  const std::map<std::string, GoldenOp> ops = {
      {"transpose", op1([](In in, P p) { return transpose(in[0], i64(p, "dim0"), i64(p, "dim1")); })},
      {"permute", op1([](In in, P p) { return permute(in[0], dims_param(p)); })},
      {"view", op1([](In in, P p) { return view(in[0], shape_param(p, "shape")); })},
      {"reshape", op1([](In in, P p) { return reshape(in[0], shape_param(p, "shape")); })},
      {"flatten", op1([](In in, P p) { return flatten(in[0], i64(p, "start_dim"), i64(p, "end_dim")); })},
      {"squeeze", op1([](In in, P) { return squeeze(in[0]); })},
      {"squeeze_dim", op1([](In in, P p) { return squeeze(in[0], i64(p, "dim")); })},
      {"unsqueeze", op1([](In in, P p) { return unsqueeze(in[0], i64(p, "dim")); })},
      {"contiguous", op1([](In in, P) { return contiguous(in[0]); })},
      {"cat", op1([](In in, P p) { return cat(in, i64(p, "dim")); })},
      {"stack", op1([](In in, P p) { return stack(in, i64(p, "dim")); })},
      {"narrow", op1([](In in, P p) { return narrow(in[0], i64(p, "dim"), i64(p, "start"), i64(p, "length")); })},
      {"slice", op1([](In in, P p) {
         return slice(in[0], i64(p, "dim"), i64(p, "start"), i64(p, "end"), i64(p, "step"));
       })},
      {"select", op1([](In in, P p) { return select(in[0], i64(p, "dim"), i64(p, "index")); })},
      {"index_select", op1([](In in, P p) { return index_select(in[0], i64(p, "dim"), in[1]); })},
      {"gather", op1([](In in, P p) { return gather(in[0], i64(p, "dim"), in[1]); })},
  };
  check_golden("views", ops, 1e-6);
}
