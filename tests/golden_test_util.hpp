// Agreement with PyTorch: the golden files in tests/golden/ (made by scripts/make_golden.py
// with the PyTorch version their metadata names) hold, for each case of an op, the inputs,
// torch's outputs, a random weight w and torch's gradients of sum(out * w). A test maps each
// op name of the file onto our API (a GoldenOp) and calls check_golden(area, ops, tol): every
// case is run forward and backward and compared; a case whose op has no mapping fails, and so
// does a mapping whose op has no case (a renamed op would otherwise go untested).
//
// Tolerances. float32 outputs and gradients must satisfy, element by element,
//     |ours - torch| <= tol * max(|torch|, 1)
// i.e. relative for values above 1 and absolute below. The floor of 1 is the size of the
// inputs (drawn from [-2, 2] and the like): a sum or a mean of such numbers that nearly
// cancels (mean = 0.001 of terms of size 1) carries rounding of order eps * |term|, not
// eps * |result|, in any summation order, so a purely relative test would fail on correct
// code. What is compared is one op on exact inputs, so the differences are rounding alone:
//  - element-wise ops: one or two roundings of float32 math functions (expf, erff, powf), a
//    few ulps: tol 1e-5;
//  - reductions, softmax, losses, matmul: sums whose order differs from torch's (blocked,
//    vectorised, pairwise) over up to ~50 terms: a few 1e-6 relative, tol 1e-4;
//  - copies (views, indexing, expand, creation): tol 1e-6 (they are exact, but linspace and
//    arange round start + i*step in double here and in float in torch).
// int64 and bool outputs must be equal. A gradient we leave undefined (the input was not
// reached) counts as zeros, as torch.autograd.grad reports it.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/ops.hpp"
#include "core/safetensors.hpp"
#include "core/tensor.hpp"

#ifndef DLCRAFT_GOLDEN_DIR  // tests/CMakeLists.txt gives tests/ops programs the real path
#define DLCRAFT_GOLDEN_DIR "tests/golden"
#endif

namespace dlcraft::test::golden {

using json = nlohmann::json;
// The case's inputs (as stored: float inputs listed in "grads" require grad) and its "params".
using GoldenFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& in, const json& params)>;

struct GoldenOp {
  GoldenFn fn;
  double tol = 0;  // 0: the area's tolerance
};

// The lambdas' parameter types: [](In in, P p) { return exp(in[0]); }.
using In = const std::vector<Tensor>&;
using P = const json&;

// Typed reads of a case's params.
inline int64_t i64(P p, const char* key) { return p.at(key).get<int64_t>(); }
inline double f64(P p, const char* key) { return p.at(key).get<double>(); }
inline bool flag(P p, const char* key) { return p.at(key).get<bool>(); }

// One op with a single output.
inline GoldenOp op1(std::function<Tensor(const std::vector<Tensor>&, const json&)> f, double tol = 0) {
  return {[f](const std::vector<Tensor>& in, const json& p) { return std::vector<Tensor>{f(in, p)}; }, tol};
}

struct GoldenCase {
  std::string name, op;
  json params;
  std::vector<Tensor> inputs;   // as stored in the file
  std::vector<Tensor> outputs;  // torch's
  std::vector<int> grads;       // which inputs torch differentiated
  Tensor w;                     // the weight of sum(out * w), when grads is not empty
  std::map<int, Tensor> grad_refs;
};

struct GoldenFile {
  std::string path, torch_version;
  std::vector<GoldenCase> cases;
};

inline std::string golden_path(const std::string& area) {
  return std::string(DLCRAFT_GOLDEN_DIR) + "/" + area + ".safetensors";
}

inline const Tensor& tensor_at(const SafeTensors& st, const std::string& key, const std::string& path) {
  auto it = st.tensors.find(key);
  if (it == st.tensors.end()) throw std::runtime_error(path + ": no tensor '" + key + "'");
  return it->second;
}

inline GoldenFile load_golden(const std::string& area) {
  GoldenFile f;
  f.path = golden_path(area);
  SafeTensors st = load_safetensors(f.path);
  f.torch_version = st.metadata.at("torch_version");
  for (const json& c : json::parse(st.metadata.at("cases"))) {
    GoldenCase g;
    g.name = c.at("name").get<std::string>();
    g.op = c.at("op").get<std::string>();
    g.params = c.at("params");
    for (int i = 0; i < c.at("inputs").get<int>(); ++i)
      g.inputs.push_back(tensor_at(st, g.name + "/in" + std::to_string(i), f.path));
    for (int i = 0; i < c.at("outputs").get<int>(); ++i)
      g.outputs.push_back(tensor_at(st, g.name + "/out" + (i ? std::to_string(i) : ""), f.path));
    g.grads = c.at("grads").get<std::vector<int>>();
    if (!g.grads.empty()) g.w = tensor_at(st, g.name + "/w", f.path);
    for (int i : g.grads) g.grad_refs[i] = tensor_at(st, g.name + "/grad" + std::to_string(i), f.path);
    f.cases.push_back(std::move(g));
  }
  return f;
}

// An empty string when `got` matches `ref` (see the tolerances above), else what differs.
inline std::string compare(const Tensor& got, const Tensor& ref, double tol) {
  std::ostringstream why;
  if (!got.defined()) return "undefined";
  if (got.dtype() != ref.dtype()) {
    why << "dtype " << to_string(got.dtype()) << ", torch " << to_string(ref.dtype());
    return why.str();
  }
  if (got.shape() != ref.shape()) {
    why << "shape " << to_string(got.shape()) << ", torch " << to_string(ref.shape());
    return why.str();
  }
  if (ref.dtype() != DType::Float32) {
    const std::vector<int64_t> a = got.values_as<int64_t>(), b = ref.values_as<int64_t>();
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i]) {
        why << "element " << i << " is " << a[i] << ", torch " << b[i];
        return why.str();
      }
    return "";
  }
  const std::vector<float> a = got.to_vector(), b = ref.to_vector();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(b[i]) && std::isnan(a[i])) continue;
    const double err = std::fabs(double(a[i]) - double(b[i])) / std::max(std::fabs(double(b[i])), 1.0);
    if (!(err <= worst)) {  // NaN counts as the worst
      worst = std::isnan(err) ? INFINITY : err;
      at = i;
    }
  }
  if (worst <= tol) return "";
  why.precision(9);
  why << "element " << at << " is " << a[at] << ", torch " << b[at] << " (error " << worst << " > " << tol << ")";
  return why.str();
}

inline bool all_zero(const Tensor& t) {
  for (float v : t.to_vector())
    if (v != 0.0f) return false;
  return true;
}

// Runs one case; returns the problems found (empty: it agrees with torch).
inline std::vector<std::string> run_case(const GoldenCase& c, const GoldenOp& op, double tol) {
  std::vector<std::string> problems;
  std::vector<Tensor> in;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    Tensor t = c.inputs[i].clone();
    if (c.grad_refs.count(int(i))) t.requires_grad_(true);
    in.push_back(t);
  }
  std::vector<Tensor> out;
  try {
    out = op.fn(in, c.params);
  } catch (const std::exception& e) {
    return {std::string("forward threw: ") + e.what()};
  }
  if (out.size() != c.outputs.size())
    return {"gives " + std::to_string(out.size()) + " outputs, torch " + std::to_string(c.outputs.size())};
  for (size_t i = 0; i < out.size(); ++i) {
    const std::string why = compare(out[i], c.outputs[i], tol);
    if (!why.empty()) problems.push_back("output " + std::to_string(i) + ": " + why);
  }
  if (c.grads.empty() || !problems.empty()) return problems;
  try {
    out[0].backward(c.w);
  } catch (const std::exception& e) {
    return {std::string("backward threw: ") + e.what()};
  }
  for (const auto& [i, ref] : c.grad_refs) {
    Tensor g = in[i].grad();
    if (!g.defined() && all_zero(ref)) continue;  // not reached: zeros, as torch reports
    const std::string why = compare(g, ref, tol);
    if (!why.empty()) problems.push_back("gradient of input " + std::to_string(i) + ": " + why);
  }
  return problems;
}

// Every case of tests/golden/<area>.safetensors against `ops`.
inline void check_golden(const std::string& area, const std::map<std::string, GoldenOp>& ops, double tol) {
  GoldenFile f;
  REQUIRE_NOTHROW(f = load_golden(area));
  INFO(f.path << " (made with torch " << f.torch_version << ")");
  REQUIRE(!f.cases.empty());
  std::set<std::string> seen;
  int passed = 0;
  for (const GoldenCase& c : f.cases) {
    INFO("case " << c.name << ", params " << c.params.dump());
    auto it = ops.find(c.op);
    if (it == ops.end()) {
      FAIL_CHECK("no mapping for op '" << c.op << "'");
      continue;
    }
    seen.insert(c.op);
    const std::vector<std::string> problems = run_case(c, it->second, it->second.tol > 0 ? it->second.tol : tol);
    for (const std::string& p : problems) FAIL_CHECK(p);
    passed += problems.empty();
  }
  for (const auto& [name, op] : ops)
    if (!seen.count(name)) FAIL_CHECK("op '" << name << "' has no case in " << f.path);
  CHECK(passed == int(f.cases.size()));
}

// ---- parameters, as make_golden.py writes them

inline Shape shape_param(const json& p, const char* key) { return p.at(key).get<std::vector<int64_t>>(); }
inline std::vector<int64_t> dims_param(const json& p, const char* key = "dims") {
  return p.at(key).get<std::vector<int64_t>>();
}
inline DType dtype_param(const json& p) {
  const std::string s = p.at("dtype").get<std::string>();
  if (s == "float32") return DType::Float32;
  if (s == "int64") return DType::Int64;
  if (s == "bool") return DType::Bool;
  throw std::runtime_error("golden: unknown dtype " + s);
}
inline Reduction reduction_param(const json& p) {
  const std::string s = p.at("reduction").get<std::string>();
  if (s == "none") return Reduction::None;
  if (s == "mean") return Reduction::Mean;
  if (s == "sum") return Reduction::Sum;
  throw std::runtime_error("golden: unknown reduction " + s);
}
// A bound that JSON writes as null when there is none (clamp's min/max).
inline double bound_param(const json& p, const char* key, double none) {
  return p.at(key).is_null() ? none : p.at(key).get<double>();
}

}  // namespace dlcraft::test::golden
