// Agreement with PyTorch for the element-wise ops (core/ops.hpp, "element-wise math") against
// tests/golden/elementwise.safetensors (scripts/make_golden.py; tests/golden/README.md).
// Pending: moves to tests/ops/ once the element-wise ops are merged.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/ops.hpp"
#include "golden_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test::golden;

namespace {

using Binary = Tensor (*)(const Tensor&, const Tensor&);
using Scalar = Tensor (*)(const Tensor&, double);
GoldenOp binary(Binary f) { return op1([f](In in, P) { return f(in[0], in[1]); }); }
GoldenOp scalar(Scalar f) { return op1([f](In in, P p) { return f(in[0], f64(p, "scalar")); }); }
GoldenOp unary(Tensor (*f)(const Tensor&)) { return op1([f](In in, P) { return f(in[0]); }); }

}  // namespace

TEST_CASE("element-wise ops agree with PyTorch", "[golden]") {
  std::map<std::string, GoldenOp> ops = {
      {"add", binary([](const Tensor& a, const Tensor& b) { return add(a, b); })},
      {"sub", binary([](const Tensor& a, const Tensor& b) { return sub(a, b); })},
      {"mul", binary([](const Tensor& a, const Tensor& b) { return mul(a, b); })},
      {"div", binary([](const Tensor& a, const Tensor& b) { return div(a, b); })},
      {"pow", binary([](const Tensor& a, const Tensor& b) { return pow(a, b); })},
      {"maximum", binary(maximum)},
      {"minimum", binary(minimum)},
      {"add_scalar", scalar([](const Tensor& a, double b) { return add(a, b); })},
      {"sub_scalar", scalar([](const Tensor& a, double b) { return sub(a, b); })},
      {"rsub_scalar", scalar(rsub)},
      {"mul_scalar", scalar([](const Tensor& a, double b) { return mul(a, b); })},
      {"div_scalar", scalar([](const Tensor& a, double b) { return div(a, b); })},
      {"rdiv_scalar", scalar(rdiv)},
      {"pow_scalar", scalar([](const Tensor& a, double b) { return pow(a, b); })},
      {"neg", unary(neg)},
      {"where", op1([](In in, P) { return where(in[0], in[1], in[2]); })},
      {"exp", unary(exp)},
      {"log", unary(log)},
      {"sqrt", unary(sqrt)},
      {"abs", unary(abs)},
      {"sigmoid", unary(sigmoid)},
      {"tanh", unary(tanh)},
      {"leaky_relu", op1([](In in, P p) { return leaky_relu(in[0], f64(p, "negative_slope")); })},
      {"gelu", op1([](In in, P p) { return gelu(in[0], p.at("approximate").get<std::string>() == "tanh"); })},
      {"clamp", op1([](In in, P p) {
         return clamp(in[0], bound_param(p, "min", -INFINITY), bound_param(p, "max", INFINITY));
       })},
      {"cast", op1([](In in, P p) { return cast(in[0], dtype_param(p)); })},
      {"to", op1([](In in, P p) { return in[0].to(dtype_param(p)); })},
      // In place, on a copy (the stored input stays as it is).
      {"add_", op1([](In in, P) { Tensor x = in[0].clone(); x.add_(in[1]); return x; })},
      {"sub_", op1([](In in, P) { Tensor x = in[0].clone(); x.sub_(in[1]); return x; })},
      {"mul_", op1([](In in, P) { Tensor x = in[0].clone(); x.mul_(in[1]); return x; })},
      {"div_", op1([](In in, P) { Tensor x = in[0].clone(); x.div_(in[1]); return x; })},
      {"add_scalar_", op1([](In in, P p) { Tensor x = in[0].clone(); x.add_(f64(p, "scalar")); return x; })},
      {"mul_scalar_", op1([](In in, P p) { Tensor x = in[0].clone(); x.mul_(f64(p, "scalar")); return x; })},
      {"zero_", op1([](In in, P) { Tensor x = in[0].clone(); x.zero_(); return x; })},
  };
  const std::map<std::string, std::pair<Binary, Scalar>> comparisons = {
      {"eq", {eq, eq}}, {"ne", {ne, ne}}, {"lt", {lt, lt}}, {"le", {le, le}}, {"gt", {gt, gt}}, {"ge", {ge, ge}}};
  for (const auto& [name, f] : comparisons) {
    ops[name] = binary(f.first);
    ops[name + "_scalar"] = scalar(f.second);
  }
  // One or two roundings of float32 math functions: 1e-5 (golden_test_util.hpp).
  check_golden("elementwise", ops, 1e-5);
}
