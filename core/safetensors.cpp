#include "core/safetensors.hpp"

#include <cstring>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/error.hpp"
#include "core/file_io.hpp"

namespace dlcraft {

using nlohmann::json;

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    uint64_t bytes = uint64_t(t.numel()) * sizeof(float);
    header[name] = {{"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the format pads the header to 8 bytes
  write_file_atomic(path, [&](std::ostream& out) {
    uint64_t n = text.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (const auto& [name, t] : tensors) {  // std::map: same order as the offsets above
      std::vector<float> v = t.to_vector();
      out.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * sizeof(float)));
    }
  });
}

SafeTensors load_safetensors(const std::string& path) {
  std::vector<char> bytes = read_file_bytes(path);
  auto fail = [&](const std::string& why) { return IOError(path + ": not a valid safetensors file (" + why + ")"); };
  if (bytes.size() < 8) throw fail("shorter than its 8-byte header length");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > bytes.size() - 8) throw fail("header length " + std::to_string(n) + " beyond the end of the file");
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(n));
  } catch (const json::exception& e) {
    throw fail(std::string("header is not JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("header is not a JSON object");
  const uint64_t data_begin = 8 + n, data_size = bytes.size() - data_begin;
  SafeTensors out;
  try {
    for (auto& [name, info] : header.items()) {
      if (name == "__metadata__") {
        for (auto& [k, v] : info.items()) out.metadata[k] = v.get<std::string>();
        continue;
      }
      std::string dtype = info.at("dtype").get<std::string>();
      if (dtype != "F32") throw fail("tensor '" + name + "' has dtype " + dtype + "; only F32 is supported");
      Shape shape = info.at("shape").get<Shape>();
      auto offsets = info.at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size)
        throw fail("tensor '" + name + "' has data offsets outside the file");
      if (offsets[1] - offsets[0] != uint64_t(numel(shape)) * sizeof(float))
        throw fail("tensor '" + name + "' of shape " + to_string(shape) + " has " +
                   std::to_string(offsets[1] - offsets[0]) + " bytes");
      Tensor t = Tensor::empty(shape);
      if (t.numel() > 0) std::memcpy(t.data(), bytes.data() + data_begin + offsets[0], offsets[1] - offsets[0]);
      out.tensors[name] = t;
    }
  } catch (const json::exception& e) {
    throw fail(std::string("bad header entry: ") + e.what());
  }
  return out;
}

}  // namespace dlcraft
