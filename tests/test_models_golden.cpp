// The model zoo against torchvision (tests/golden/models/, made by scripts/make_golden_models.py):
// the full models' state_dict names, dtypes and shapes, and tiny ResNets and VGGs run forward
// (eval and train) and backward on torchvision's recorded weights.
//
// Tolerance. A tiny case is a whole network (up to ~30 convs, BN, pooling), so its error is
// the float32 rounding of sums over hundreds of terms in an order that differs from torch's,
// accumulated through the layers. Each file records torch's own float32 result against float64
// ("f64_rel_diff", as max|a - b| / max|b| per tensor): up to ~1e-6 for eval outputs, ~2e-5 for
// train outputs (BN divides by a batch std) and ~4e-5 for gradients. Ours differs from torch by
// the two roundings together; measured (with a composite stand-in for batch_norm, before its
// kernel landed): 1e-6 on eval outputs, 9e-6 on train outputs, 1.4e-4 at worst on
// gradients (the input's, in the 37x29 BasicBlock case, whose layer4 BN sees 4 values a
// channel). We compare with the same measure, relative to the tensor's largest value (an
// element near 0 carries the rounding of the large terms that cancelled in it, not its own):
//   outputs and running statistics: 1e-4; gradients: 5e-4;
// 3x or more above what was measured and far below what a real mistake gives (normalising by
// the unbiased variance in training moves the train outputs by 6e-2 to 0.17). A case whose
// recorded noise exceeds a third of its tolerance fails first, as ill-conditioned test data.
// The name/shape, round-trip-of-state, mismatch and 16-bit-value tests need no forward pass;
// the others run BatchNorm, adaptive pooling and ResNet's padded max pool.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/safetensors.hpp"
#include "core/tensor.hpp"
#include "layers/models.hpp"
#include "test_data.hpp"

#ifndef DLCRAFT_GOLDEN_DIR
#define DLCRAFT_GOLDEN_DIR "tests/golden"
#endif

using namespace dlcraft;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr double kOutTol = 1e-4;
constexpr double kGradTol = 5e-4;

std::string models_dir() { return std::string(DLCRAFT_GOLDEN_DIR) + "/models"; }

struct Entry {
  std::string dtype;  // the format's name: F32, I64
  Shape shape;
};

std::string format_dtype(DType t) {
  switch (t) {
    case DType::Float32: return "F32";
    case DType::Int64: return "I64";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

std::string describe(const Entry& e) { return e.dtype + " " + to_string(e.shape); }

// "<name> <dtype> [d0,d1,...]" per line, as make_golden_models.py writes them.
std::map<std::string, Entry> read_keys(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::map<std::string, Entry> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream s(line);
    std::string name, dtype, shape;
    if (!(s >> name >> dtype >> shape) || shape.front() != '[' || shape.back() != ']')
      throw std::runtime_error(path + ": bad line '" + line + "'");
    Entry e{dtype, {}};
    for (const json& d : json::parse(shape)) e.shape.push_back(d.get<int64_t>());
    if (!out.emplace(name, e).second) throw std::runtime_error(path + ": '" + name + "' twice");
  }
  return out;
}

std::map<std::string, Entry> signature(const Module& m) {
  std::map<std::string, Entry> out;
  for (const auto& [name, t] : m.state_dict()) out[name] = {format_dtype(t.dtype()), t.shape()};
  return out;
}

// The first few items of a list, and how many there are.
std::string first_few(const std::vector<std::string>& v, size_t n = 8) {
  std::string s = std::to_string(v.size()) + ":";
  for (size_t i = 0; i < v.size() && i < n; ++i) s += " " + v[i] + (i + 1 < v.size() ? "," : "");
  return s + (v.size() > n ? " ..." : "");
}

// max|got - ref| / max|ref| (absolute when ref is all zero); infinite on NaN or shape mismatch.
double rel_err(const Tensor& got, const Tensor& ref) {
  if (!got.defined() || got.shape() != ref.shape()) return INFINITY;
  const std::vector<float> a = got.to_vector(), b = ref.to_vector();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    if (std::isnan(d)) return INFINITY;
    diff = std::max(diff, d);
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

std::map<std::string, Tensor> with_prefix(const SafeTensors& st, const std::string& prefix) {
  std::map<std::string, Tensor> out;
  for (const auto& [k, v] : st.tensors)
    if (k.rfind(prefix, 0) == 0) out[k.substr(prefix.size())] = v;
  return out;
}

const Tensor& at(const SafeTensors& st, const std::string& key) {
  auto it = st.tensors.find(key);
  if (it == st.tensors.end()) throw std::runtime_error("golden file has no tensor '" + key + "'");
  return it->second;
}

// Our model for a case's recorded config (make_golden_models.py's CASES).
std::shared_ptr<Module> build(const json& c) {
  const std::string arch = c.at("arch").get<std::string>();
  if (arch == "resnet") {
    const std::string block = c.at("block").get<std::string>();
    REQUIRE((block == "BasicBlock" || block == "Bottleneck"));
    const std::vector<int> l = c.at("layers").get<std::vector<int>>();
    REQUIRE(l.size() == 4);
    return std::make_shared<ResNet>(block == "Bottleneck", std::array<int, 4>{l[0], l[1], l[2], l[3]},
                                    c.at("num_classes").get<int>(), c.at("width").get<int>());
  }
  REQUIRE(arch == "vgg");
  return std::make_shared<VGG>(c.at("batch_norm").get<bool>(), c.at("num_classes").get<int>(),
                               c.at("dropout").get<double>(), c.at("width").get<int>(), c.at("hidden").get<int>());
}

struct Case {
  std::string name, path;
  SafeTensors st;
  json config;
};

Case load_case(const std::string& name) {
  Case c;
  c.name = name;
  c.path = models_dir() + "/" + name + ".safetensors";
  c.st = load_safetensors(c.path);
  c.config = json::parse(c.st.metadata.at("config"));
  return c;
}

// The tiny cases: every <case>.safetensors but the 16-bit copies.
std::vector<std::string> case_names() {
  std::vector<std::string> out;
  for (const auto& f : fs::directory_iterator(models_dir())) {
    const std::string stem = f.path().stem().string();
    if (f.path().extension() != ".safetensors") continue;
    if (stem.size() > 4 && (stem.substr(stem.size() - 4) == "_f16" || stem.substr(stem.size() - 5) == "_bf16")) continue;
    out.push_back(stem);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Tensor eval_output(Module& model, const Tensor& x) {
  model.eval();
  NoGradGuard no_grad;
  return model(x);
}

}  // namespace

TEST_CASE("every full model's state_dict has torchvision's names, dtypes and shapes") {
  const std::vector<std::string> names = model_names();
  CHECK(names == std::vector<std::string>{"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16",
                                          "vgg16_bn"});
  for (const std::string& name : names) {
    INFO(name << " against " << models_dir() << "/" << name << "_keys.txt");
    std::map<std::string, Entry> theirs;
    REQUIRE_NOTHROW(theirs = read_keys(models_dir() + "/" + name + "_keys.txt"));
    std::map<std::string, Entry> ours = signature(*make_model(name));
    std::vector<std::string> missing, extra, differ;
    for (const auto& [k, e] : theirs) {
      auto it = ours.find(k);
      if (it == ours.end())
        missing.push_back(k);
      else if (it->second.dtype != e.dtype || it->second.shape != e.shape)
        differ.push_back(k + " is " + describe(it->second) + ", torchvision " + describe(e));
    }
    for (const auto& [k, e] : ours)
      if (!theirs.count(k)) extra.push_back(k + " (" + describe(e) + ")");
    INFO("torchvision has " << theirs.size() << " entries, ours " << ours.size());
    {
      INFO("missing in ours " << first_few(missing));
      CHECK(missing.empty());
    }
    {
      INFO("not in torchvision " << first_few(extra));
      CHECK(extra.empty());
    }
    {
      INFO("different " << first_few(differ));
      CHECK(differ.empty());
    }
    CHECK(theirs.size() >= 32);  // the file was read, not empty
  }
}

TEST_CASE("tiny ResNets and VGGs match torchvision forward (eval, train), running stats and gradients") {
  const std::vector<std::string> names = case_names();
  INFO("cases in " << models_dir() << ": " << names.size());
  REQUIRE(names.size() >= 5);  // 2 BasicBlock, 1 Bottleneck, vgg16, vgg16_bn
  for (const std::string& name : names) {
    Case c;
    REQUIRE_NOTHROW(c = load_case(name));
    INFO("case " << name << " " << c.config.dump() << " (torch " << c.st.metadata.at("torch_version")
                 << ", torchvision " << c.st.metadata.at("torchvision_version") << ")");
    // The recorded rounding noise must leave room under our tolerances (see the top).
    const json noise = json::parse(c.st.metadata.at("f64_rel_diff"));  // kept: items() does not own it
    REQUIRE(noise.size() >= 3);
    for (const auto& [k, v] : noise.items()) {
      INFO("torch float32 vs float64 on " << k << ": " << v.get<double>());
      CHECK(v.get<double>() * 3 <= (k.rfind("grad/", 0) == 0 ? kGradTol : kOutTol));
    }

    std::shared_ptr<Module> model = build(c.config);
    const std::map<std::string, Tensor> state = with_prefix(c.st, "state/");
    REQUIRE(state.size() == model->state_dict().size());
    REQUIRE_NOTHROW(model->load_state_dict(state));
    const Tensor& input = at(c.st, "input");
    CHECK(input.shape() == c.config.at("input").get<std::vector<int64_t>>());

    // Eval: BN on the recorded running statistics, which must not move.
    const Tensor out_eval = eval_output(*model, input);
    const double e_eval = rel_err(out_eval, at(c.st, "out_eval"));
    INFO("eval output error " << e_eval);
    CHECK(e_eval <= kOutTol);
    for (const auto& [k, t] : model->state_dict())
      if (k.find("running_") != std::string::npos || k.find("num_batches") != std::string::npos)
        CHECK(rel_err(t.to(DType::Float32), state.at(k).to(DType::Float32)) == 0);

    // Train: BN on the batch's statistics, running stats updated once, then sum(out * w) backward.
    model->train();
    Tensor x = input.clone();
    x.requires_grad_(true);
    Tensor out_train = (*model)(x);
    const double e_train = rel_err(out_train, at(c.st, "out_train"));
    INFO("train output error " << e_train);
    CHECK(e_train <= kOutTol);
    const std::map<std::string, Tensor> after = with_prefix(c.st, "after_train/");
    const bool has_bn = c.config.value("arch", "") == "resnet" || c.config.value("batch_norm", false);
    CHECK(after.empty() == !has_bn);
    const std::map<std::string, Tensor> now = model->state_dict();
    for (const auto& [k, ref] : after) {
      INFO("after the train forward: " << k);
      REQUIRE(now.count(k));
      if (ref.dtype() == DType::Int64) {
        CHECK(now.at(k).item<int64_t>() == ref.item<int64_t>());
        CHECK(ref.item<int64_t>() == state.at(k).item<int64_t>() + 1);
      } else {
        CHECK(rel_err(now.at(k), ref) <= kOutTol);
      }
    }
    out_train.backward(at(c.st, "w"));
    std::map<std::string, Tensor> params;
    for (const auto& [k, p] : model->named_parameters()) params[k] = p;
    const std::vector<std::string> grads = json::parse(c.st.metadata.at("grads")).get<std::vector<std::string>>();
    CHECK(grads.size() >= 6);
    for (const std::string& g : grads) {
      INFO("gradient of " << g);
      const Tensor& ref = at(c.st, "grad/" + g);
      Tensor got;
      if (g == "input") {
        got = x.grad();
      } else {
        REQUIRE(params.count(g));
        got = params.at(g).grad();
      }
      REQUIRE(got.defined());
      const double e = rel_err(got, ref);
      INFO("error " << e);
      CHECK(e <= kGradTol);
    }
  }
}

TEST_CASE("a loaded tiny model's state_dict round-trips through safetensors bit for bit") {
  const std::string dir = test::fresh_dir("models_roundtrip");
  for (const std::string& name : case_names()) {
    INFO("case " << name);
    Case c = load_case(name);
    std::shared_ptr<Module> a = build(c.config);
    a->load_state_dict(with_prefix(c.st, "state/"));
    const std::string path = dir + "/" + name + ".safetensors";
    save_safetensors(path, a->state_dict(), {{"case", name}});
    std::shared_ptr<Module> b = build(c.config);  // a fresh init, different from a's weights
    b->load_state_dict(load_safetensors(path).tensors);
    const std::map<std::string, Tensor> sa = a->state_dict(), sb = b->state_dict();
    REQUIRE(sa.size() == sb.size());
    for (const auto& [k, t] : sa) {
      INFO(k);
      REQUIRE(sb.count(k));
      CHECK(sb.at(k).dtype() == t.dtype());
      if (t.dtype() == DType::Int64)
        CHECK(sb.at(k).values_as<int64_t>() == t.values_as<int64_t>());
      else
        CHECK(sb.at(k).to_vector() == t.to_vector());
    }
  }
}

TEST_CASE("a model loaded from its round-tripped file computes the same output bit for bit") {
  const std::string dir = test::fresh_dir("models_roundtrip_forward");
  for (const std::string& name : case_names()) {
    INFO("case " << name);
    Case c = load_case(name);
    std::shared_ptr<Module> a = build(c.config);
    a->load_state_dict(with_prefix(c.st, "state/"));
    save_safetensors(dir + "/" + name + ".safetensors", a->state_dict());
    std::shared_ptr<Module> b = build(c.config);
    b->load_state_dict(load_safetensors(dir + "/" + name + ".safetensors").tensors);
    const Tensor& x = at(c.st, "input");
    CHECK(eval_output(*b, x).to_vector() == eval_output(*a, x).to_vector());
  }
}

TEST_CASE("weights of another model are refused, naming the first mismatches") {
  const std::string dir = test::fresh_dir("models_mismatch");
  // resnet18's file into resnet34: the same widths, so nothing differs in shape; 96 entries
  // (layer1.2, layer2.2-3, layer3.2-5, layer4.2) are missing.
  save_safetensors(dir + "/resnet18.safetensors", make_model("resnet18")->state_dict());
  std::shared_ptr<Module> r34 = make_model("resnet34");
  const std::map<std::string, Tensor> before = r34->state_dict();
  const std::vector<float> w_before = before.at("layer1.0.conv1.weight").to_vector();
  const auto r18 = load_safetensors(dir + "/resnet18.safetensors").tensors;
  CHECK_THROWS_AS(r34->load_state_dict(r18), ArgumentError);
  CHECK_THROWS_WITH(r34->load_state_dict(r18), Catch::Contains("do not fit this model") &&
                                                   Catch::Contains("96 missing") &&
                                                   Catch::Contains("'layer1.2.conv1.weight'"));
  CHECK(r34->state_dict().at("layer1.0.conv1.weight").to_vector() == w_before);  // nothing copied
  // And the other way round: resnet34's extra blocks are unexpected in a resnet18.
  std::shared_ptr<Module> r18m = make_model("resnet18");
  CHECK_THROWS_WITH(r18m->load_state_dict(r34->state_dict()),
                    Catch::Contains("96 unexpected") && Catch::Contains("layer1.2."));
  // A BasicBlock file into a Bottleneck model of the same stages: the shapes differ.
  Case basic = load_case("resnet_basic_1111_w8");
  ResNet bottleneck(true, {1, 1, 1, 1}, 10, 8);
  CHECK_THROWS_AS(bottleneck.load_state_dict(with_prefix(basic.st, "state/")), ShapeError);
  CHECK_THROWS_WITH(bottleneck.load_state_dict(with_prefix(basic.st, "state/")),
                    Catch::Contains("20 mismatched") &&
                        Catch::Contains("'layer1.0.conv1.weight' [8,8,3,3], expected [8,8,1,1]"));
  // Not strict: the shared names must still have their shapes.
  CHECK_THROWS_AS(bottleneck.load_state_dict(with_prefix(basic.st, "state/"), false), ShapeError);
}

namespace {
struct HalfCopy {
  const char* suffix;
  const char* dtype;
  int bits;      // significant bits: a rounded value is within 2^-bits of the value, relatively
  double loose;  // bound on the output's move, against the float32 weights' output
};
// Rounding every weight to 11 (F16) or 8 (BF16) significant bits moves the tiny ResNet's output
// by about 1e-3 or 8e-3 of its scale (the files' f32_rel_diff); 5x that is the loose bound.
const HalfCopy kHalfCopies[] = {{"_f16", "F16", 11, 5e-3}, {"_bf16", "BF16", 8, 4e-2}};
const char* kHalfCase = "resnet_basic_1111_w8";
}  // namespace

TEST_CASE("16-bit copies of a tiny state are 16-bit in the file and load as the rounded float32 values") {
  Case f32 = load_case(kHalfCase);
  const std::map<std::string, Tensor> exact = with_prefix(f32.st, "state/");
  for (const HalfCopy& h : kHalfCopies) {
    const std::string path = models_dir() + "/" + kHalfCase + h.suffix + ".safetensors";
    INFO(path);
    SafeTensors st = load_safetensors(path);
    CHECK(st.metadata.at("dtype") == h.dtype);
    // The header says 16-bit: read it raw, as the loader's result is float32 either way.
    std::ifstream in(path, std::ios::binary);
    std::string head(8, '\0');
    in.read(head.data(), 8);
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(head[i])) << (8 * i);
    std::string header(n, '\0');
    in.read(header.data(), std::streamsize(n));
    const json hj = json::parse(header);
    CHECK(hj.at("state/conv1.weight").at("dtype") == h.dtype);
    CHECK(hj.at("state/bn1.running_var").at("dtype") == h.dtype);
    CHECK(hj.at("state/bn1.num_batches_tracked").at("dtype") == "I64");
    const std::map<std::string, Tensor> state = with_prefix(st, "state/");
    REQUIRE(state.size() == exact.size());
    // Each value is the float32 one rounded to nearest: within half a unit in the last place,
    // 2^-bits relative (F16 subnormals, below 2^-14, are spaced 2^-24: half of that absolute).
    int64_t changed = 0, total = 0;
    for (const auto& [k, t] : state) {
      INFO(k);
      REQUIRE(exact.count(k));
      if (k.find("num_batches_tracked") != std::string::npos) {
        CHECK(t.dtype() == DType::Int64);
        CHECK(t.item<int64_t>() == exact.at(k).item<int64_t>());
        continue;
      }
      CHECK(t.dtype() == DType::Float32);
      REQUIRE(t.shape() == exact.at(k).shape());
      const std::vector<float> a = t.to_vector(), b = exact.at(k).to_vector();
      int bad = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        const double bound = std::max(std::ldexp(std::fabs(double(b[i])), -h.bits), std::ldexp(1.0, -25));
        bad += !(std::fabs(double(a[i]) - double(b[i])) <= bound);
        changed += a[i] != b[i];
      }
      total += int64_t(a.size());
      CHECK(bad == 0);
    }
    INFO(changed << " of " << total << " values changed by the rounding");
    CHECK(changed > total / 2);  // the rounding shows: the file is not float32 in disguise
  }
}

TEST_CASE("16-bit copies of a tiny state compute torch's output on the rounded weights") {
  Case f32 = load_case(kHalfCase);
  const Tensor& x = at(f32.st, "input");
  for (const HalfCopy& h : kHalfCopies) {
    const std::string path = models_dir() + "/" + kHalfCase + h.suffix + ".safetensors";
    INFO(path);
    SafeTensors st = load_safetensors(path);
    std::shared_ptr<Module> model = build(f32.config);
    REQUIRE_NOTHROW(model->load_state_dict(with_prefix(st, "state/")));
    const Tensor out = eval_output(*model, x);
    // Tight: torch's output from the same rounded weights (the conversion is exact).
    const double tight = rel_err(out, at(st, "out_eval"));
    INFO("against torch on the rounded weights: " << tight);
    CHECK(tight <= kOutTol);
    // Loose: the float32 weights' output, which the rounding must move visibly.
    const double loose = rel_err(out, at(f32.st, "out_eval"));
    INFO("against the float32 weights' output: " << loose << " (recorded " << st.metadata.at("f32_rel_diff") << ")");
    CHECK(loose <= h.loose);
    CHECK(loose > 1e-5);
  }
}
