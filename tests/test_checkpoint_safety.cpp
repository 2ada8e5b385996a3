// Issue 7: no file a user points at crashes the library or costs good data. Hostile
// safetensors headers, every moment a checkpoint save can be killed at, resume metadata that
// lies, optimizer step counts that are not counts, and incomplete CIFAR-10 binary sets.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "apps/app_common.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/random.hpp"
#include "core/safetensors.hpp"
#include "datasets/cifar10_binary.hpp"
#include "layers/checkpoint.hpp"
#include "layers/layers.hpp"
#include "optim/optimizer.hpp"
#include "test_data.hpp"

using namespace dlcraft;
using namespace dlcraft::test;
namespace fs = std::filesystem;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::vector<char> b = read_file_bytes(path);
  return std::string(b.begin(), b.end());
}

// A safetensors file from a header text and `data_bytes` bytes of data (all 0).
std::string safetensors_bytes(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\0');
}

SafeTensors parse(const std::string& bytes) { return parse_safetensors(bytes.data(), bytes.size(), "hostile.safetensors"); }

}  // namespace

TEST_CASE("the safetensors reader rejects hostile headers with an IOError naming the file") {
  const auto ok = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"k":"v"}})";
  SafeTensors good = parse(safetensors_bytes(ok, 16));
  CHECK(good.tensors.at("a").shape() == Shape{2, 2});
  CHECK(good.metadata.at("k") == "v");

  struct Case { const char* what; std::string header; size_t data; const char* says; };
  const std::vector<Case> cases = {
      {"float in a shape", R"({"a":{"dtype":"F32","shape":[2.0,2],"data_offsets":[0,16]}})", 16, "non-negative integer"},
      {"exponent in an offset", R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,1.6e1]}})", 16, "non-negative integer"},
      {"negative dimension", R"({"a":{"dtype":"F32","shape":[-2,-2],"data_offsets":[0,16]}})", 16, "non-negative integer"},
      {"shape [2^63-1, 2^63-1]", R"({"a":{"dtype":"F32","shape":[9223372036854775807,9223372036854775807],"data_offsets":[0,16]}})", 16, "too large"},
      {"shape [2^62] on 64 bytes", R"({"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,64]}})", 64, "too large"},
      {"shape [2^61] (bytes wrap to 0 mod 2^64)", R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", 0, "too large"},
      {"byte count disagrees with the shape", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16, "data_offsets"},
      {"offsets reversed", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}})", 16, "data_offsets"},
      {"gap before a tensor", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16, "tile"},
      {"overlapping tensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12, "tile"},
      {"trailing bytes", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 12, "trailing"},
      {"offsets past the end", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8, "truncated"},
      {"dtype U8", R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 2, "only F32, F16, BF16, I64 and BOOL"},
      {"dtype F64", R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8, "'a' has dtype F64"},
      {"I64 with 4 bytes an element", R"({"a":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}})", 8, "data_offsets"},
      {"BOOL with 4 bytes an element", R"({"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,8]}})", 8, "data_offsets"},
      {"I64 shape [2^61] (bytes wrap to 0 mod 2^64)", R"({"a":{"dtype":"I64","shape":[2305843009213693952],"data_offsets":[0,0]}})", 0, "too large"},
      {"dtype lowercase", R"({"a":{"dtype":"i64","shape":[1],"data_offsets":[0,8]}})", 8, "dtype i64"},
      {"dtype not a string", R"({"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4, "dtype"},
      {"missing data_offsets", R"({"a":{"dtype":"F32","shape":[1]}})", 4, "lacks"},
      {"unknown field", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", 4, "unknown field"},
      {"three offsets", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}})", 4, "pair"},
      {"metadata value not a string", R"({"__metadata__":{"epoch":3}})", 0, "metadata 'epoch'"},
      {"metadata not an object", R"({"__metadata__":[1]})", 0, "__metadata__"},
      {"header not an object", R"([1,2,3])", 0, "not a JSON object"},
      {"tensor entry not an object", R"({"a":"x"})", 0, "not a JSON object"},
      {"header not JSON", R"({"a":)", 0, "not JSON"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK_THROWS_AS(parse(safetensors_bytes(c.header, c.data)), IOError);
    CHECK_THROWS_WITH(parse(safetensors_bytes(c.header, c.data)),
                      Catch::Contains("hostile.safetensors") && Catch::Contains(c.says));
  }
  // Header lengths: too small, beyond the file, above the 100 MB limit.
  std::string tiny = safetensors_bytes("{}", 0);
  tiny[0] = 1;
  CHECK_THROWS_WITH(parse(tiny), Catch::Contains("too small"));
  std::string huge = safetensors_bytes("{}", 0);
  huge[7] = 0x7f;
  CHECK_THROWS_WITH(parse(huge), Catch::Contains("100 MB"));
  std::string beyond = safetensors_bytes("{}", 0);
  beyond[0] = 100;
  CHECK_THROWS_WITH(parse(beyond), Catch::Contains("beyond the end"));
  CHECK_THROWS_WITH(parse("1234567"), Catch::Contains("8-byte header length"));
  CHECK(parse(safetensors_bytes("{}", 0)).tensors.empty());  // an empty file is valid
}

TEST_CASE("I64 and BOOL tensors round-trip exactly; BOOL bytes must be 0 or 1") {
  const std::string dir = fresh_dir("st_dtypes");
  // Beyond 2^53 a double (or a float) would round these; the file keeps every bit.
  const std::vector<int64_t> big{INT64_MIN, -9007199254740993LL, -1, 0, 9007199254740993LL, INT64_MAX};
  Tensor mask = Tensor::empty({2, 3}, DType::Bool);
  const uint8_t bits[6] = {1, 0, 0, 1, 1, 0};
  std::copy(bits, bits + 6, mask.data_ptr<uint8_t>());
  std::map<std::string, Tensor> t{{"idx", Tensor::from_vector(big, {2, 3})},
                                  {"mask", mask},
                                  {"w", Tensor::from_vector({1.5f, -2.25f}, {2})},
                                  {"empty_i64", zeros({0, 4}, DType::Int64)},
                                  {"scalar_i64", full({}, 42, DType::Int64)}};
  save_safetensors(dir + "/d.safetensors", t, {{"k", "v"}});
  // The header names the format's dtypes (safetensors.torch reads them as torch.int64/bool).
  const std::string bytes = read_bytes(dir + "/d.safetensors");
  CHECK(bytes.find(R"("idx":{"data_offsets":[0,48],"dtype":"I64","shape":[2,3]})") != std::string::npos);
  CHECK(bytes.find(R"("dtype":"BOOL")") != std::string::npos);
  SafeTensors back = load_safetensors(dir + "/d.safetensors");
  REQUIRE(back.tensors.size() == 5);
  CHECK(back.tensors.at("idx").dtype() == DType::Int64);
  CHECK(back.tensors.at("idx").shape() == Shape{2, 3});
  CHECK(back.tensors.at("idx").values_as<int64_t>() == big);
  CHECK(back.tensors.at("mask").dtype() == DType::Bool);
  CHECK(back.tensors.at("mask").values_as<int64_t>() == std::vector<int64_t>{1, 0, 0, 1, 1, 0});
  CHECK(back.tensors.at("w").dtype() == DType::Float32);
  CHECK(back.tensors.at("w").to_vector() == std::vector<float>{1.5f, -2.25f});
  CHECK(back.tensors.at("empty_i64").shape() == Shape{0, 4});
  CHECK(back.tensors.at("empty_i64").dtype() == DType::Int64);
  CHECK(back.tensors.at("scalar_i64").shape() == Shape{});
  CHECK(back.tensors.at("scalar_i64").item<int64_t>() == 42);
  CHECK(back.metadata.at("k") == "v");

  // A BOOL byte other than 0 or 1 is refused, naming the file, the tensor and the element.
  std::string header = R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})";
  std::string ok = safetensors_bytes(header, 3);
  ok[8 + header.size() + 1] = 1;
  CHECK(parse(ok).tensors.at("m").values_as<int64_t>() == std::vector<int64_t>{0, 1, 0});
  std::string bad = ok;
  bad[8 + header.size() + 2] = 2;
  CHECK_THROWS_AS(parse(bad), IOError);
  CHECK_THROWS_WITH(parse(bad), Catch::Contains("hostile.safetensors") && Catch::Contains("'m'") &&
                                    Catch::Contains("byte 2 at element 2") && Catch::Contains("0 or 1"));
}

TEST_CASE("weights and optimizer state refuse int64 and bool tensors, naming them") {
  const std::string dir = fresh_dir("st_nonfloat");
  Linear fc(3, 2);
  std::map<std::string, Tensor> sd = fc.state_dict();
  sd["bias"] = Tensor::from_vector(std::vector<int64_t>{1, 2}, {2});
  save_safetensors(dir + "/i64.safetensors", sd);
  CHECK_THROWS_AS(load_weights(dir + "/i64.safetensors", fc), IOError);
  CHECK_THROWS_WITH(load_weights(dir + "/i64.safetensors", fc),
                    Catch::Contains("i64.safetensors") && Catch::Contains("'bias' is int64") &&
                        Catch::Contains("float32"));
  sd["bias"] = zeros({2}, DType::Bool);
  save_safetensors(dir + "/bool.safetensors", sd);
  CHECK_THROWS_WITH(load_weights(dir + "/bool.safetensors", fc), Catch::Contains("'bias' is bool"));

  Adam adam(fc.named_parameters());
  SafeTensors st;
  st.tensors = adam.state();
  st.tensors["exp_avg.weight"] = zeros({2, 3}, DType::Int64);
  CHECK_THROWS_WITH(apply_optimizer_state(st, "x.optim", adam),
                    Catch::Contains("x.optim") && Catch::Contains("'exp_avg.weight' is int64"));
  st.tensors = adam.state();
  st.tensors["step"] = full({1}, 3, DType::Int64);
  CHECK_THROWS_WITH(apply_optimizer_state(st, "x.optim", adam),
                    Catch::Contains("x.optim") && Catch::Contains("'step' is int64"));
}

TEST_CASE("read_safetensors_metadata reads the header alone and catches a half-written file") {
  const std::string dir = fresh_dir("st_meta");
  std::map<std::string, Tensor> t{{"w", Tensor::full({100}, 1.0f)}};
  save_safetensors(dir + "/a.safetensors", t, {{"epoch", "4"}});
  CHECK(read_safetensors_metadata(dir + "/a.safetensors").at("epoch") == "4");
  CHECK_FALSE(fs::exists(dir + "/a.safetensors.tmp"));  // the temp was renamed
  std::string bytes = read_bytes(dir + "/a.safetensors");
  write_bytes(dir + "/half.safetensors", bytes.substr(0, bytes.size() - 100));
  CHECK_THROWS_WITH(read_safetensors_metadata(dir + "/half.safetensors"),
                    Catch::Contains("half.safetensors") && Catch::Contains("truncated"));
  CHECK_THROWS_WITH(read_safetensors_metadata(dir), Catch::Contains("directory"));
}

TEST_CASE("loading weights rejects missing, extra and misshapen tensors, naming the file") {
  const std::string dir = fresh_dir("st_weights");
  Linear fc(3, 2);
  std::map<std::string, Tensor> sd = fc.state_dict();
  sd["extra"] = Tensor::full({1}, 0.0f);
  save_safetensors(dir + "/extra.safetensors", sd);
  CHECK_THROWS_WITH(load_weights(dir + "/extra.safetensors", fc),
                    Catch::Contains("extra.safetensors") && Catch::Contains("1 unexpected: 'extra'"));
  sd.erase("extra");
  sd.erase("bias");
  save_safetensors(dir + "/missing.safetensors", sd);
  CHECK_THROWS_WITH(load_weights(dir + "/missing.safetensors", fc), Catch::Contains("1 missing: 'bias'"));
}

// ---------------------------------------------------------------- the checkpoint pair

namespace {

struct Pair {
  std::string weights, optim;  // the bytes of PATH and PATH.optim
};

// A small model and Adam after `steps` steps, saved as epoch `epoch`; returns the two files.
Pair make_pair_bytes(const std::string& dir, int epoch) {
  manual_seed(uint64_t(epoch));
  Linear model(4, 3);
  Adam adam(model.named_parameters());
  for (int s = 0; s < epoch; ++s) {
    for (auto& [name, p] : model.named_parameters()) p.set_grad(Tensor::full(p.shape(), 0.1f));
    adam.step();
  }
  const std::string path = dir + "/pair" + std::to_string(epoch) + ".safetensors";
  save_checkpoint(path, model, &adam, {{"epoch", std::to_string(epoch)}});
  return {read_bytes(path), read_bytes(optimizer_state_path(path))};
}

// After recovery the pair at `path` loads, and is from `epoch`.
void check_resumable(const std::string& path, int epoch) {
  Linear model(4, 3);
  Adam adam(model.named_parameters());
  Metadata meta = load_weights(path, model);
  CHECK(meta.at("epoch") == std::to_string(epoch));
  load_optimizer_state(path, adam, meta);
  CHECK(adam.steps() == epoch);
}

}  // namespace

TEST_CASE("a checkpoint pair carries one pair id and loads only as a pair") {
  const std::string dir = fresh_dir("ckpt_pair");
  make_pair_bytes(dir, 1);
  make_pair_bytes(dir, 2);
  const std::string p1 = dir + "/pair1.safetensors", p2 = dir + "/pair2.safetensors";
  Metadata m1 = read_safetensors_metadata(p1), o1 = read_safetensors_metadata(optimizer_state_path(p1));
  REQUIRE(m1.count("pair_id"));
  CHECK(m1.at("pair_id").size() == 32);
  CHECK(o1.at("pair_id") == m1.at("pair_id"));
  CHECK(o1.at("epoch") == "1");
  CHECK(read_safetensors_metadata(p2).at("pair_id") != m1.at("pair_id"));
  for (const std::string& f : {p1 + ".next", p1 + ".optim.next"}) CHECK_FALSE(fs::exists(f));
  check_resumable(p1, 1);

  // The optimizer file of another save with the same epoch: refused by its pair id.
  fs::copy_file(optimizer_state_path(p2), dir + "/other.optim");
  make_pair_bytes(dir, 2);  // pair2 again: a new id
  Linear model(4, 3);
  Adam adam(model.named_parameters());
  Metadata meta = load_weights(p2, model);
  fs::copy_file(dir + "/other.optim", optimizer_state_path(p2), fs::copy_options::overwrite_existing);
  CHECK_THROWS_WITH(load_optimizer_state(p2, adam, meta),
                    Catch::Contains("pair2.safetensors.optim") && Catch::Contains("does not belong"));

  // Checkpoints from before pair ids still pair up by epoch.
  Metadata legacy{{"epoch", "5"}};
  save_safetensors(dir + "/old.safetensors", model.state_dict(), legacy);
  Adam fresh(model.named_parameters());
  save_safetensors(dir + "/old.safetensors.optim", fresh.state(), legacy);
  CHECK_NOTHROW(load_optimizer_state(dir + "/old.safetensors", adam, legacy));
  CHECK_THROWS_AS(load_optimizer_state(dir + "/old.safetensors", adam, Metadata{{"epoch", "6"}}), IOError);
  CHECK(recover_checkpoint(dir + "/old.safetensors").pair);
}

TEST_CASE("a save killed at any moment leaves a pair that resumes") {
  // Every state the commit protocol passes through (layers/checkpoint_files.cpp), built from
  // the files of a saved epoch-1 pair (old) and epoch-2 pair (new).
  const std::string src = fresh_dir("ckpt_src");
  const Pair old_pair = make_pair_bytes(src, 1), new_pair = make_pair_bytes(src, 2);
  auto half = [](const std::string& s) { return s.substr(0, s.size() / 2); };
  struct State {
    const char* what;
    std::map<std::string, std::string> files;  // suffix ("", ".optim", ".next", ".optim.next") -> bytes
    int epoch;                                 // what a resume then finds
  };
  const std::vector<State> states = {
      {"old pair only", {{"", old_pair.weights}, {".optim", old_pair.optim}}, 1},
      {"writing .optim.next", {{"", old_pair.weights}, {".optim", old_pair.optim}, {".optim.next", half(new_pair.optim)}}, 1},
      {"empty .optim.next", {{"", old_pair.weights}, {".optim", old_pair.optim}, {".optim.next", ""}}, 1},
      {"writing .next", {{"", old_pair.weights}, {".optim", old_pair.optim}, {".optim.next", new_pair.optim}, {".next", half(new_pair.weights)}}, 1},
      {"both temps written", {{"", old_pair.weights}, {".optim", old_pair.optim}, {".optim.next", new_pair.optim}, {".next", new_pair.weights}}, 1},
      {"between the renames", {{"", old_pair.weights}, {".optim", new_pair.optim}, {".next", new_pair.weights}}, 2},
      {"committed", {{"", new_pair.weights}, {".optim", new_pair.optim}}, 2},
      {"first save, between the renames", {{".optim", new_pair.optim}, {".next", new_pair.weights}}, 2},
      {"first save, both temps written", {{".optim.next", new_pair.optim}, {".next", new_pair.weights}}, 2},
  };
  for (const State& s : states) {
    INFO(s.what);
    const std::string dir = fresh_dir("ckpt_state");
    const std::string path = dir + "/ck.safetensors";
    for (const auto& [suffix, bytes] : s.files) write_bytes(path + suffix, bytes);
    CheckpointRecovery r = recover_checkpoint(path);
    CHECK(r.pair);
    check_resumable(path, s.epoch);
    CHECK_FALSE(fs::exists(path + ".next"));
    CHECK_FALSE(fs::exists(path + ".optim.next"));
    // Recovery is idempotent, and the next save starts from the recovered pair.
    CHECK(recover_checkpoint(path).note.empty());
  }
  // A first save killed while writing: nothing to resume, the partial temp is removed.
  const std::string dir = fresh_dir("ckpt_first");
  write_bytes(dir + "/ck.optim.next", half(new_pair.optim));
  CheckpointRecovery r = recover_checkpoint(dir + "/ck");
  CHECK_FALSE(r.pair);
  CHECK(r.removed.size() == 1);
  CHECK(fs::is_empty(dir));
}

TEST_CASE("the next save completes an interrupted one before writing its own temps") {
  const std::string src = fresh_dir("ckpt_src2");
  const Pair old_pair = make_pair_bytes(src, 1), new_pair = make_pair_bytes(src, 2);
  const std::string dir = fresh_dir("ckpt_next_save"), path = dir + "/ck.safetensors";
  // Killed between the renames; without recovery, overwriting .next would lose epoch 2's pair.
  write_bytes(path, old_pair.weights);
  write_bytes(path + ".optim", new_pair.optim);
  write_bytes(path + ".next", new_pair.weights);
  manual_seed(3);
  Linear model(4, 3);
  Adam adam(model.named_parameters());
  for (int s = 0; s < 3; ++s) {
    for (auto& [name, p] : model.named_parameters()) p.set_grad(Tensor::full(p.shape(), 0.1f));
    adam.step();
  }
  save_checkpoint(path, model, &adam, {{"epoch", "3"}});
  check_resumable(path, 3);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"ck.safetensors", "ck.safetensors.optim"});
}

// ---------------------------------------------------------------- resume metadata

TEST_CASE("resume metadata is validated, naming the file and the key") {
  const std::string f = "ck.safetensors";
  auto epoch = [&](const std::string& v) { return get_metadata_int({{"epoch", v}}, "epoch", f, 1, 1000000000); };
  CHECK(epoch("7") == 7);
  for (const char* bad : {"9223372036854775807", "-5", "0", "abc", "1e3", " 5", "5 ", "+5", "", "99999999999999999999"}) {
    INFO(bad);
    CHECK_THROWS_AS(epoch(bad), IOError);
    CHECK_THROWS_WITH(epoch(bad), Catch::Contains("ck.safetensors") && Catch::Contains("'epoch'"));
  }
  CHECK_THROWS_WITH(get_metadata_int({}, "epoch", f, 1, 9), Catch::Contains("no 'epoch'"));
  CHECK(get_metadata_uint64({{"seed", "18446744073709551615"}}, "seed", f) == UINT64_MAX);
  CHECK_THROWS_WITH(get_metadata_uint64({{"seed", "-1"}}, "seed", f), Catch::Contains("'seed'"));
  CHECK_THROWS_WITH(get_metadata_uint64({{"seed", "18446744073709551616"}}, "seed", f), Catch::Contains("'seed'"));

  Metadata m{{"normalize_mean", "0.5,0.4,0.3"}, {"normalize_std", "0.2,0.25,0.5"}};
  CHECK(get_normalization(m, f).std[1] == 0.25f);
  for (const char* bad_std : {"0.2,0,0.5", "0.2,-1,0.5", "0.2,nan,0.5", "0.2,inf,0.5", "0.2,0.3abc,0.5", "0.2,0.3", "0.2,,0.5"}) {
    INFO(bad_std);
    Metadata b = m;
    b["normalize_std"] = bad_std;
    CHECK_THROWS_WITH(get_normalization(b, f), Catch::Contains("ck.safetensors") && Catch::Contains("'normalize_std'"));
  }
  Metadata bm = m;
  bm["normalize_mean"] = "nan,0,0";
  CHECK_THROWS_WITH(get_normalization(bm, f), Catch::Contains("'normalize_mean'"));
}

TEST_CASE("class names travel as a JSON list, and the old comma form still reads") {
  const std::string f = "ck.safetensors";
  Metadata m;
  put_class_names(m, {"cat,dog", "bird", "say \"hi\""});
  CHECK(get_class_names(m, f) == std::vector<std::string>{"cat,dog", "bird", "say \"hi\""});
  CHECK(get_class_names({{"classes", "airplane,automobile,bird"}}, f) ==
        std::vector<std::string>{"airplane", "automobile", "bird"});
  for (const char* bad : {"[1,2]", "[\"a\",", "[]", "[\"a\",\"\"]", "a,,b", "", "a,"}) {
    INFO(bad);
    CHECK_THROWS_WITH(get_class_names({{"classes", bad}}, f), Catch::Contains("ck.safetensors") && Catch::Contains("'classes'"));
  }
  CHECK_THROWS_WITH(get_class_names({}, f), Catch::Contains("no 'classes'"));
}

TEST_CASE("an optimizer step count must be a whole number of steps") {
  Linear model(2, 2);
  Adam adam(model.named_parameters());
  SGD sgd(model.named_parameters(), {0.1f, 0.9f});
  for (Optimizer* opt : {static_cast<Optimizer*>(&adam), static_cast<Optimizer*>(&sgd)}) {
    SafeTensors st;
    st.tensors = opt->state();
    for (float bad : {std::nanf(""), 1e30f, 2.5f, -1.0f, std::numeric_limits<float>::infinity()}) {
      INFO(bad);
      st.tensors["step"] = Tensor::full({1}, bad);
      CHECK_THROWS_WITH(apply_optimizer_state(st, "x.optim", *opt), Catch::Contains("x.optim") && Catch::Contains("'step'"));
    }
    st.tensors["step"] = Tensor::full({2}, 1.0f);
    CHECK_THROWS_WITH(apply_optimizer_state(st, "x.optim", *opt), Catch::Contains("'step'"));
    st.tensors["step"] = Tensor::full({1}, 12.0f);
    CHECK_NOTHROW(apply_optimizer_state(st, "x.optim", *opt));
    st.tensors["exp_avg.stray"] = Tensor::full({1}, 0.0f);
    CHECK_THROWS_WITH(apply_optimizer_state(st, "x.optim", *opt), Catch::Contains("unexpected tensor 'exp_avg.stray'"));
  }
  CHECK(adam.steps() == 12);
}

// ---------------------------------------------------------------- CIFAR-10 binary layout

TEST_CASE("a CIFAR-10 binary set needs all five training batches and the test batch") {
  const std::string dir = fresh_dir("cifar_five");
  ImageDataset train = make_pattern_dataset(20, 10, 1), test = make_pattern_dataset(4, 10, 2);
  write_cifar_binary_set(dir, train, test);
  ImageDataset back = load_cifar10_binary(dir, true);
  CHECK(back.labels == train.labels);
  CHECK(back.images == train.images);
  fs::remove(dir + "/data_batch_4.bin");
  CHECK_THROWS_WITH(load_cifar10_binary(dir, true), Catch::Contains("data_batch_4.bin: missing"));
  fs::remove(dir + "/test_batch.bin");
  CHECK_THROWS_WITH(load_cifar10_binary(dir, false), Catch::Contains("test_batch.bin: missing"));

  // A bad record leaves what was read so far untouched, and names the record.
  ImageDataset ds;
  std::string rec(3073 * 2, '\0');
  rec[3073] = 10;
  CHECK_THROWS_WITH(append_cifar10_batch(rec.data(), rec.size(), "b.bin", ds),
                    Catch::Contains("b.bin") && Catch::Contains("record 1") && Catch::Contains("label 10"));
  CHECK(ds.size() == 0);
  CHECK_THROWS_WITH(append_cifar10_batch(rec.data(), 3073 + 1, "b.bin", ds), Catch::Contains("3073"));
  CHECK_THROWS_WITH(append_cifar10_batch(nullptr, 0, "b.bin", ds), Catch::Contains("b.bin"));
  rec[3073] = 9;
  append_cifar10_batch(rec.data(), rec.size(), "b.bin", ds);
  CHECK(ds.size() == 2);
}
