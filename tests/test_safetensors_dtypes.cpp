// F16 and BF16 tensors in safetensors files (pretrained weights shipped at half size): the
// reader widens them to float32 exactly. Every file here is bytes written by the test, so the
// expected values come from the bit patterns, not from a second converter of ours.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/safetensors.hpp"
#include "layers/layers.hpp"
#include "test_data.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

struct Raw {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

std::string u16_bytes(const std::vector<uint16_t>& v) {
  std::string out;
  for (uint16_t x : v) {
    out += char(x & 0xff);  // little-endian, as the format says
    out += char(x >> 8);
  }
  return out;
}

std::string f32_bytes(const std::vector<float>& v) {
  std::string out(v.size() * 4, '\0');
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// A file holding `tensors` in the given order (so offsets may be odd), with a JSON header.
std::string file_bytes(const std::vector<Raw>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const Raw& r : tensors) {
    header[r.name] = {{"dtype", r.dtype}, {"shape", r.shape}, {"data_offsets", {data.size(), data.size() + r.bytes.size()}}};
    data += r.bytes;
  }
  const std::string text = header.dump();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char((uint64_t(text.size()) >> (8 * i)) & 0xff);
  return out + text + data;
}

SafeTensors parse(const std::string& bytes) { return parse_safetensors(bytes.data(), bytes.size(), "half.safetensors"); }

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// The value of a binary16 pattern from the standard's formula, in double: an independent
// reference for the bit manipulation in the reader.
double half_value(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  const double s = sign ? -1.0 : 1.0;
  if (exp == 0x1f) return mant ? NAN : s * INFINITY;
  if (exp == 0) return s * std::ldexp(double(mant), -24);
  return s * std::ldexp(1.0 + mant / 1024.0, exp - 15);
}

std::vector<float> load_one(const std::string& dtype, const std::vector<uint16_t>& v) {
  SafeTensors st = parse(file_bytes({{"t", dtype, {int64_t(v.size())}, u16_bytes(v)}}));
  const Tensor& t = st.tensors.at("t");
  REQUIRE(t.dtype() == DType::Float32);
  REQUIRE(t.shape() == Shape{int64_t(v.size())});
  return t.to_vector();
}

}  // namespace

TEST_CASE("F16 values of every class widen to the exact float32") {
  struct V { const char* what; uint16_t half; uint32_t f32_bits; };
  const std::vector<V> cases = {
      {"+0", 0x0000, 0x00000000},
      {"-0 keeps its sign", 0x8000, 0x80000000},
      {"1", 0x3c00, 0x3f800000},
      {"-2", 0xc000, 0xc0000000},
      {"1/3 rounded to half (0.333251953125)", 0x3555, 0x3eaaa000},
      {"largest half, 65504", 0x7bff, 0x477fe000},
      {"smallest normal, 2^-14", 0x0400, 0x38800000},
      {"smallest subnormal, 2^-24", 0x0001, 0x33800000},
      {"largest subnormal, 1023 * 2^-24", 0x03ff, 0x387fc000},
      {"subnormal 2^-15 (top mantissa bit only)", 0x0200, 0x38000000},
      {"negative subnormal -3 * 2^-24", 0x8003, 0xb4400000},
      {"+inf", 0x7c00, 0x7f800000},
      {"-inf", 0xfc00, 0xff800000},
      {"quiet NaN", 0x7e00, 0x7fc00000},
      {"negative quiet NaN", 0xfe00, 0xffc00000},
      {"NaN payload shifts up 13 bits", 0x7e01, 0x7fc02000},
      {"signalling NaN stays a NaN (payload kept, not inf)", 0x7c01, 0x7f802000},
  };
  std::vector<uint16_t> halves;
  for (const V& c : cases) halves.push_back(c.half);
  const std::vector<float> got = load_one("F16", halves);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].what << ": half 0x" << std::hex << cases[i].half << ", float32 bits 0x" << bits(got[i]));
    CHECK(bits(got[i]) == cases[i].f32_bits);
  }
  CHECK(got[8] == float(std::ldexp(1023.0, -24)));
  CHECK(std::isnan(got[16]));
}

TEST_CASE("all 65536 F16 patterns match the standard's formula") {
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < 65536; ++i) all[i] = uint16_t(i);
  const std::vector<float> got = load_one("F16", all);
  int bad = 0;
  for (uint32_t i = 0; i < 65536 && bad < 5; ++i) {
    const double want = half_value(uint16_t(i));
    const bool ok = std::isnan(want) ? std::isnan(got[i]) && (bits(got[i]) >> 31) == (i >> 15)
                                     : double(got[i]) == want && std::signbit(got[i]) == bool(i >> 15);
    if (!ok) {
      ++bad;
      FAIL_CHECK("half 0x" << std::hex << i << " gave float32 bits 0x" << bits(got[i]) << std::dec << " ("
                           << got[i] << "), expected " << want);
    }
  }
  CHECK(bad == 0);
}

TEST_CASE("BF16 values of every class widen to the exact float32 (the top 16 bits)") {
  struct V { const char* what; uint16_t b; float value; };  // value checked too, for the non-NaNs
  const std::vector<V> cases = {
      {"+0", 0x0000, 0.0f},
      {"-0", 0x8000, -0.0f},
      {"1", 0x3f80, 1.0f},
      {"-1.5", 0xbfc0, -1.5f},
      {"pi rounded to bf16 (3.140625)", 0x4049, 3.140625f},
      {"largest bf16", 0x7f7f, float(std::ldexp(255.0, 120))},
      {"smallest normal, 2^-126", 0x0080, float(std::ldexp(1.0, -126))},
      {"smallest subnormal, 2^-133", 0x0001, float(std::ldexp(1.0, -133))},
      {"largest subnormal, 127 * 2^-133", 0x007f, float(std::ldexp(127.0, -133))},
      {"+inf", 0x7f80, INFINITY},
      {"-inf", 0xff80, -INFINITY},
      {"quiet NaN", 0x7fc0, NAN},
      {"signalling NaN with payload", 0x7f81, NAN},
      {"negative NaN", 0xffc1, NAN},
  };
  std::vector<uint16_t> raw;
  for (const V& c : cases) raw.push_back(c.b);
  const std::vector<float> got = load_one("BF16", raw);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].what);
    CHECK(bits(got[i]) == uint32_t(cases[i].b) << 16);
    if (!std::isnan(cases[i].value)) {
      CHECK(got[i] == cases[i].value);
      CHECK(std::signbit(got[i]) == std::signbit(cases[i].value));
    } else {
      CHECK(std::isnan(got[i]));
    }
  }
  CHECK(std::fpclassify(got[7]) == FP_SUBNORMAL);  // not flushed to zero
}

TEST_CASE("all 65536 BF16 patterns are the float32 with those top bits") {
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < 65536; ++i) all[i] = uint16_t(i);
  const std::vector<float> got = load_one("BF16", all);
  int bad = 0;
  for (uint32_t i = 0; i < 65536; ++i) bad += bits(got[i]) != i << 16;
  CHECK(bad == 0);
}

TEST_CASE("16-bit tensors sit beside F32, I64 and BOOL ones, at any offset, with any shape") {
  // BOOL first puts the F16 tensor at the odd data offset 3: the reader must not assume alignment.
  const std::string bytes = file_bytes({
      {"mask", "BOOL", {3}, std::string("\x01\x00\x01", 3)},
      {"h", "F16", {2, 3}, u16_bytes({0x3c00, 0xc000, 0x3800, 0x0001, 0x7c00, 0x8000})},
      {"b", "BF16", {1, 2, 1}, u16_bytes({0x3f80, 0x4049})},
      {"h0", "F16", {}, u16_bytes({0x4200})},  // 0-d: 3.0
      {"hempty", "F16", {0, 5}, ""},
      {"bempty", "BF16", {4, 0}, ""},
      {"w", "F32", {2}, f32_bytes({0.25f, -8.0f})},
      {"i", "I64", {1}, std::string("\x07\x00\x00\x00\x00\x00\x00\x00", 8)},
  });
  SafeTensors st = parse(bytes);
  REQUIRE(st.tensors.size() == 8);
  CHECK(st.tensors.at("mask").dtype() == DType::Bool);
  CHECK(st.tensors.at("mask").values_as<int64_t>() == std::vector<int64_t>{1, 0, 1});
  const Tensor& h = st.tensors.at("h");
  CHECK(h.dtype() == DType::Float32);
  CHECK(h.shape() == Shape{2, 3});
  const std::vector<float> hv = h.to_vector();
  CHECK(hv[0] == 1.0f);
  CHECK(hv[1] == -2.0f);
  CHECK(hv[2] == 0.5f);
  CHECK(hv[3] == float(std::ldexp(1.0, -24)));
  CHECK(hv[4] == INFINITY);
  CHECK((hv[5] == 0.0f && std::signbit(hv[5])));
  CHECK(st.tensors.at("b").shape() == Shape{1, 2, 1});
  CHECK(st.tensors.at("b").to_vector() == std::vector<float>{1.0f, 3.140625f});
  CHECK(st.tensors.at("h0").shape() == Shape{});
  CHECK(st.tensors.at("h0").item<float>() == 3.0f);
  CHECK(st.tensors.at("hempty").shape() == Shape{0, 5});
  CHECK(st.tensors.at("hempty").dtype() == DType::Float32);
  CHECK(st.tensors.at("bempty").shape() == Shape{4, 0});
  CHECK(st.tensors.at("w").to_vector() == std::vector<float>{0.25f, -8.0f});
  CHECK(st.tensors.at("i").values_as<int64_t>() == std::vector<int64_t>{7});
}

TEST_CASE("16-bit tensors keep the reader's strictness: 2 bytes an element, overflow, other dtypes") {
  struct Case { const char* what; std::string header; size_t data; const char* says; };
  const std::vector<Case> cases = {
      {"F16 stored with 4 bytes an element", R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", 8, "dtype F16 and shape [2] (4 bytes)"},
      {"BF16 one byte short", R"({"a":{"dtype":"BF16","shape":[3],"data_offsets":[0,5]}})", 5, "dtype BF16 and shape [3] (6 bytes)"},
      {"F16 shape [2^63-1, 2] (elements overflow)", R"({"a":{"dtype":"F16","shape":[9223372036854775807,2],"data_offsets":[0,2]}})", 2, "too large"},
      {"F16 shape [2^63-1] (2^64-2 bytes, not in the file)", R"({"a":{"dtype":"F16","shape":[9223372036854775807],"data_offsets":[0,2]}})", 2, "(18446744073709551614 bytes)"},
      {"BF16 shape [2^63] (more elements than int64)", R"({"a":{"dtype":"BF16","shape":[9223372036854775808],"data_offsets":[0,0]}})", 0, "too large"},
      {"F16 [2^62] on 2 bytes", R"({"a":{"dtype":"F16","shape":[4611686018427387904],"data_offsets":[0,2]}})", 2, "data_offsets"},
      {"F16 truncated", R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", 6, "truncated"},
      {"F16 trailing byte", R"({"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})", 3, "trailing"},
      {"F64 still refused", R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8, "only F32, F16, BF16, I64 and BOOL"},
      {"I32 still refused", R"({"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})", 4, "'a' has dtype I32"},
      {"F8_E4M3 refused", R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", 1, "dtype F8_E4M3"},
      {"lowercase f16", R"({"a":{"dtype":"f16","shape":[1],"data_offsets":[0,2]}})", 2, "dtype f16"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = char((uint64_t(c.header.size()) >> (8 * i)) & 0xff);
    bytes += c.header + std::string(c.data, '\0');
    CHECK_THROWS_AS(parse(bytes), IOError);
    CHECK_THROWS_WITH(parse(bytes), Catch::Contains("half.safetensors") && Catch::Contains(c.says));
  }
}

TEST_CASE("an F16 file loads into a model as float32 and saves back as F32") {
  const std::string dir = fresh_dir("st_half");
  // Linear(2, 3): weight [3, 2], bias [3]; halves chosen to be exact and of mixed magnitude.
  const std::vector<uint16_t> w{0x3c00, 0xbc00, 0x3400, 0x0400, 0x5640, 0xc100};  // 1 -1 0.25 2^-14 100 -2.5
  const std::string path = dir + "/linear_f16.safetensors";
  const std::string bytes =
      file_bytes({{"weight", "F16", {3, 2}, u16_bytes(w)}, {"bias", "BF16", {3}, u16_bytes({0x3f00, 0x0000, 0xc080})}});
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  Linear model(2, 3);
  model.load_state_dict(load_safetensors(path).tensors);
  CHECK(model.state_dict().at("weight").to_vector() ==
        std::vector<float>{1.0f, -1.0f, 0.25f, float(std::ldexp(1.0, -14)), 100.0f, -2.5f});
  CHECK(model.state_dict().at("bias").to_vector() == std::vector<float>{0.5f, 0.0f, -4.0f});
  // Writing stays F32: the saved header names F32 and the values survive unchanged.
  save_safetensors(dir + "/linear_f32.safetensors", model.state_dict());
  std::ifstream in(dir + "/linear_f32.safetensors", std::ios::binary);
  const std::string saved((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(saved.find("\"F32\"") != std::string::npos);
  CHECK(saved.find("F16") == std::string::npos);
  CHECK(saved.find("BF16") == std::string::npos);
  CHECK(load_safetensors(dir + "/linear_f32.safetensors").tensors.at("weight").to_vector() ==
        model.state_dict().at("weight").to_vector());
}
