#include "apps/app_common.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "dlcraft/version.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

Device choose_device(const std::string& name) {
  if (name == "cpu") return Device::cpu();
  if (name == "cuda") {
    if (!DLCRAFT_WITH_CUDA)
      throw DeviceError("--device cuda: this dlcraft was built without CUDA (CPU only); "
                        "rebuild with -DDLCRAFT_CUDA=ON or use --device cpu");
    if (!cuda_available()) throw DeviceError("--device cuda: no CUDA GPU is visible on this machine");
    return Device::cuda(0);
  }
  if (name == "auto") {
    if (DLCRAFT_WITH_CUDA && cuda_available()) return Device::cuda(0);
    std::fprintf(stderr, "device: auto -> cpu (%s)\n",
                 DLCRAFT_WITH_CUDA ? "no CUDA GPU visible" : "this build is CPU only");
    return Device::cpu();
  }
  throw ArgumentError("--device must be auto, cpu or cuda, got '" + name + "'");
}

std::string version_text() { return std::string("dlcraft ") + DLCRAFT_VERSION + " (" + cuda_build_info() + ")"; }

std::string join(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? std::string(1, sep) : "") + items[i];
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);) out.push_back(item);
  return out;
}

void put_normalization(Metadata& m, const Normalization& n) {
  auto three = [](const std::array<float, 3>& v) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.9g,%.9g,%.9g", v[0], v[1], v[2]);
    return std::string(buf);
  };
  m["normalize_mean"] = three(n.mean);
  m["normalize_std"] = three(n.std);
}

namespace {

const std::string& need(const Metadata& m, const std::string& key, const std::string& file) {
  auto it = m.find(key);
  if (it == m.end()) throw IOError(file + ": metadata has no '" + key + "'");
  return it->second;
}

// The whole string must be the number: std::stof/stoll stop at the first bad character.
template <typename T>
bool parse_whole(const std::string& s, T& v) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  return ec == std::errc() && p == end;
}

}  // namespace

Normalization get_normalization(const Metadata& m, const std::string& file) {
  Normalization n;
  for (auto [key, dst] : {std::pair{"normalize_mean", &n.mean}, std::pair{"normalize_std", &n.std}}) {
    const std::string& text = need(m, key, file);
    std::vector<std::string> parts = split(text, ',');
    if (parts.size() != 3) throw IOError(file + ": metadata '" + key + "' is not three numbers: '" + text + "'");
    for (int c = 0; c < 3; ++c) {
      float v = 0;
      const bool is_std = dst == &n.std;
      if (!parse_whole(parts[c], v) || !std::isfinite(v) || (is_std && !(v > 0)))
        throw IOError(file + ": metadata '" + key + "' must be three finite numbers" +
                      (is_std ? " above 0" : "") + ", got '" + text + "'");
      (*dst)[c] = v;
    }
  }
  return n;
}

void put_class_names(Metadata& m, const std::vector<std::string>& classes) {
  m["classes"] = nlohmann::json(classes).dump();
}

std::vector<std::string> get_class_names(const Metadata& m, const std::string& file) {
  const std::string& text = need(m, "classes", file);
  std::vector<std::string> names;
  if (!text.empty() && text[0] == '[') {
    auto fail = [&] { return IOError(file + ": metadata 'classes' is not a JSON list of class names: " + text.substr(0, 200)); };
    nlohmann::json list;
    try {
      list = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
      throw fail();
    }
    if (!list.is_array()) throw fail();
    for (const auto& v : list) {
      if (!v.is_string()) throw fail();
      names.push_back(v.get<std::string>());
    }
  } else {
    names = split(text, ',');  // checkpoints from before the JSON list
    if (!text.empty() && text.back() == ',') names.push_back("");
  }
  if (names.empty() || names.size() > 100000)
    throw IOError(file + ": metadata 'classes' has " + std::to_string(names.size()) + " names (1..100000 expected)");
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i].empty()) throw IOError(file + ": metadata 'classes' has an empty name (class " + std::to_string(i) + ")");
  return names;
}

int64_t get_metadata_int(const Metadata& m, const std::string& key, const std::string& file, int64_t lo, int64_t hi) {
  const std::string& text = need(m, key, file);
  int64_t v = 0;
  if (!parse_whole(text, v) || v < lo || v > hi)
    throw IOError(file + ": metadata '" + key + "' must be an integer in " + std::to_string(lo) + ".." +
                  std::to_string(hi) + ", got '" + text.substr(0, 100) + "'");
  return v;
}

uint64_t get_metadata_uint64(const Metadata& m, const std::string& key, const std::string& file) {
  const std::string& text = need(m, key, file);
  uint64_t v = 0;
  if (!parse_whole(text, v))
    throw IOError(file + ": metadata '" + key + "' must be an integer in 0.." + std::to_string(UINT64_MAX) +
                  ", got '" + text.substr(0, 100) + "'");
  return v;
}

}  // namespace dlcraft
