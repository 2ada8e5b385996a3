#include "core/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <ostream>
#include <tuple>
#include <vector>

#include "core/error.hpp"
#include "core/file_io.hpp"

namespace dlcraft {

using nlohmann::json;

namespace {

// As the reference implementation (safetensors' MAX_HEADER_SIZE): more is not a real header.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// The stored element types: ours, plus the two 16-bit floats that are widened to float32 on
// load (pretrained weights are often shipped as F16 or BF16 to halve the download).
enum class Stored { F32, F16, BF16, I64, BOOL };

struct Entry {
  std::string name;
  Stored stored = Stored::F32;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

struct Header {
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
};

IOError invalid(const std::string& name, const std::string& why) {
  return IOError(name + ": not a valid safetensors file (" + why + ")");
}

// The format's dtype names, as safetensors.torch writes torch.float32, float16, bfloat16,
// int64 and bool (BOOL: one byte, 0 or 1).
const char* format_dtype(Stored t) {
  switch (t) {
    case Stored::F32: return "F32";
    case Stored::F16: return "F16";
    case Stored::BF16: return "BF16";
    case Stored::I64: return "I64";
    case Stored::BOOL: return "BOOL";
  }
  return "?";
}

const char* format_dtype(DType t) {
  switch (t) {
    case DType::Float32: return "F32";
    case DType::Int64: return "I64";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

size_t stored_size(Stored t) {
  switch (t) {
    case Stored::F32: return 4;
    case Stored::F16: case Stored::BF16: return 2;
    case Stored::I64: return 8;
    case Stored::BOOL: return 1;
  }
  return 4;
}

// What the tensor becomes in memory: the 16-bit floats widen to float32.
DType loaded_dtype(Stored t) {
  switch (t) {
    case Stored::I64: return DType::Int64;
    case Stored::BOOL: return DType::Bool;
    default: return DType::Float32;
  }
}

bool parse_dtype(const std::string& s, Stored* out) {
  for (Stored t : {Stored::F32, Stored::F16, Stored::BF16, Stored::I64, Stored::BOOL})
    if (s == format_dtype(t)) {
      *out = t;
      return true;
    }
  return false;
}

uint16_t read_u16(const char* p) {
  return uint16_t(static_cast<unsigned char>(p[0]) | (static_cast<unsigned char>(p[1]) << 8));
}

float from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// IEEE binary16 (1 sign, 5 exponent bits with bias 15, 10 mantissa bits) to float32. Every
// half is exactly a float, so this is a re-encoding, not a rounding: normals rebias the
// exponent (+112); subnormals (exponent 0: m * 2^-24) are normalised by shifting the mantissa
// up; infinities stay infinite and NaNs keep their sign and payload (shifted up 13 bits, as
// torch and the F16C instruction do, so a quiet NaN stays quiet).
float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return from_bits(sign | 0x7f800000u | (mant << 13));  // inf, NaN
  if (exp != 0) return from_bits(sign | ((exp + 112) << 23) | (mant << 13));
  if (mant == 0) return from_bits(sign);  // +-0
  // Subnormal: find the leading 1, make it the implicit bit, lower the exponent per shift.
  int e = 113;  // 2^-14, the subnormals' scale, as a float exponent field (-14 + 127)
  while (!(mant & 0x400u)) {
    mant <<= 1;
    --e;
  }
  return from_bits(sign | (uint32_t(e) << 23) | ((mant & 0x3ffu) << 13));
}

// bfloat16 is the top half of a float32: exact by construction (subnormals, inf, NaN alike).
float bfloat16_to_float(uint16_t b) { return from_bits(uint32_t(b) << 16); }

// A JSON number that is a non-negative integer (1.0, 1e3 and -1 are not).
uint64_t get_count(const json& v, const std::string& name, const std::string& what) {
  if (!v.is_number_unsigned()) throw invalid(name, what + " is not a non-negative integer: " + v.dump());
  return v.get<uint64_t>();
}

uint64_t read_length(const char* p) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return n;
}

// The header length, checked against the file size.
uint64_t header_length(const char* first8, uint64_t size, const std::string& name) {
  if (size < 8) throw invalid(name, "shorter than its 8-byte header length");
  const uint64_t n = read_length(first8);
  if (n < 2) throw invalid(name, "header length " + std::to_string(n) + " is too small for a JSON object");
  if (n > kMaxHeaderBytes) throw invalid(name, "header length " + std::to_string(n) + " is above the 100 MB limit");
  if (n > size - 8) throw invalid(name, "header length " + std::to_string(n) + " beyond the end of the file");
  return n;
}

Entry parse_entry(const std::string& key, const json& info, const std::string& name) {
  const std::string where = "tensor '" + key + "'";
  if (!info.is_object()) throw invalid(name, where + " is not a JSON object");
  for (auto& [field, v] : info.items())
    if (field != "dtype" && field != "shape" && field != "data_offsets")
      throw invalid(name, where + " has an unknown field '" + field + "'");
  if (!info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets"))
    throw invalid(name, where + " lacks dtype, shape or data_offsets");
  const json& dtype = info["dtype"];
  if (!dtype.is_string()) throw invalid(name, where + " has a dtype that is not a string");
  Entry e;
  e.name = key;
  if (!parse_dtype(dtype.get<std::string>(), &e.stored))
    throw invalid(name, where + " has dtype " + dtype.get<std::string>() +
                            "; only F32, F16, BF16, I64 and BOOL are supported");
  const json& shape = info["shape"];
  if (!shape.is_array()) throw invalid(name, where + " has a shape that is not a list");
  uint64_t count = 1;  // elements, checked for overflow as the dimensions multiply
  for (const json& d : shape) {
    const uint64_t dim = get_count(d, name, where + " shape entry");
    if (dim > uint64_t(INT64_MAX) || __builtin_mul_overflow(count, dim, &count))
      throw invalid(name, where + " has shape " + shape.dump() + ", too large to exist");
    e.shape.push_back(int64_t(dim));
  }
  uint64_t bytes = 0;
  if (count > uint64_t(INT64_MAX) || __builtin_mul_overflow(count, uint64_t(stored_size(e.stored)), &bytes))
    throw invalid(name, where + " has shape " + shape.dump() + ", too large to exist");
  const json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2)
    throw invalid(name, where + " has data_offsets that are not a [begin, end] pair");
  e.begin = get_count(offsets[0], name, where + " data_offsets begin");
  e.end = get_count(offsets[1], name, where + " data_offsets end");
  if (e.begin > e.end || e.end - e.begin != bytes)
    throw invalid(name, where + " of dtype " + format_dtype(e.stored) + " and shape " + to_string(e.shape) +
                            " (" + std::to_string(bytes) +
                            " bytes) has data_offsets [" + std::to_string(e.begin) + ", " +
                            std::to_string(e.end) + "]");
  return e;
}

// Parses and checks the JSON header; `data_size` is the number of bytes after it.
Header parse_header(const char* text, uint64_t n, uint64_t data_size, const std::string& name) {
  json header;
  try {
    header = json::parse(text, text + n);
  } catch (const json::exception& e) {
    throw invalid(name, std::string("header is not JSON: ") + e.what());
  }
  if (!header.is_object()) throw invalid(name, "header is not a JSON object");
  Header out;
  for (auto& [key, info] : header.items()) {
    if (key == "__metadata__") {
      if (!info.is_object()) throw invalid(name, "__metadata__ is not a JSON object");
      for (auto& [k, v] : info.items()) {
        if (!v.is_string()) throw invalid(name, "metadata '" + k + "' is not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    out.entries.push_back(parse_entry(key, info, name));
  }
  // The tensors must tile the data exactly: no gap, no overlap, nothing after the last one.
  std::vector<const Entry*> order;
  for (const Entry& e : out.entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });
  uint64_t at = 0;
  for (const Entry* e : order) {
    if (e->begin != at)
      throw invalid(name, "tensor '" + e->name + "' starts at data byte " + std::to_string(e->begin) +
                              ", expected " + std::to_string(at) + " (offsets must tile the data)");
    at = e->end;
  }
  if (at != data_size)
    throw invalid(name, "the tensors cover " + std::to_string(at) + " data bytes but the file has " +
                            std::to_string(data_size) + (at < data_size ? " (trailing bytes)" : " (truncated)"));
  return out;
}

}  // namespace

void write_safetensors(std::ostream& out, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    uint64_t bytes = uint64_t(t.numel()) * element_size(t.dtype());
    header[name] = {{"dtype", format_dtype(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the format pads the header to 8 bytes
  uint64_t n = text.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), std::streamsize(text.size()));
  for (const auto& [name, t] : tensors) {  // std::map: same order as the offsets above
    const Tensor host = t.to(Device::cpu());  // the raw bytes: little-endian, as on this host
    if (host.numel() > 0)
      out.write(static_cast<const char*>(host.raw_data()), std::streamsize(host.numel() * element_size(host.dtype())));
  }
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, [&](std::ostream& out) { write_safetensors(out, tensors, metadata); });
}

SafeTensors parse_safetensors(const char* data, size_t size, const std::string& name) {
  const uint64_t n = header_length(data, size, name);
  const uint64_t data_begin = 8 + n;
  Header header = parse_header(data + 8, n, size - data_begin, name);
  SafeTensors out;
  out.metadata = std::move(header.metadata);
  for (const Entry& e : header.entries) {
    const char* src = data + data_begin + e.begin;
    if (e.stored == Stored::BOOL)  // any other byte would be a bool that is neither true nor false
      for (uint64_t i = 0; i < e.end - e.begin; ++i)
        if (static_cast<unsigned char>(src[i]) > 1)
          throw invalid(name, "tensor '" + e.name + "' (BOOL) has byte " +
                                  std::to_string(static_cast<unsigned char>(src[i])) + " at element " +
                                  std::to_string(i) + "; BOOL bytes must be 0 or 1");
    Tensor t = Tensor::empty(e.shape, TensorOptions(loaded_dtype(e.stored)));
    if (e.stored == Stored::F16 || e.stored == Stored::BF16) {
      float* dst = t.data_ptr<float>();
      const uint64_t n = (e.end - e.begin) / 2;
      for (uint64_t i = 0; i < n; ++i)
        dst[i] = e.stored == Stored::F16 ? half_to_float(read_u16(src + 2 * i)) : bfloat16_to_float(read_u16(src + 2 * i));
    } else if (e.end > e.begin) {
      std::memcpy(t.raw_data(), src, e.end - e.begin);
    }
    out.tensors[e.name] = t;
  }
  return out;
}

SafeTensors load_safetensors(const std::string& path) {
  std::vector<char> bytes = read_file_bytes(path);
  return parse_safetensors(bytes.data(), bytes.size(), path);
}

std::map<std::string, std::string> read_safetensors_metadata(const std::string& path) {
  uint64_t size = 0;
  std::vector<char> first = read_file_prefix(path, 8, &size);
  const uint64_t n = header_length(first.data(), size, path);
  std::vector<char> bytes = read_file_prefix(path, 8 + n, &size);
  if (bytes.size() != 8 + n) throw invalid(path, "the file changed while reading");
  return parse_header(bytes.data() + 8, n, size - 8 - n, path).metadata;
}

}  // namespace dlcraft
