#include "layers/checkpoint_metadata.hpp"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"

namespace dlcraft {

namespace {

const std::string& need(const Metadata& m, const std::string& key, const std::string& file) {
  auto it = m.find(key);
  if (it == m.end()) throw IOError(file + ": metadata has no '" + key + "'");
  return it->second;
}

// The whole string must be the number: std::stof/stoll stop at the first bad character, and
// stoll throws a bare "stoll".
template <typename T>
bool parse_whole(const std::string& s, T& v) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  return ec == std::errc() && p == end;
}

std::string shown(const std::string& s) { return "'" + s.substr(0, 100) + (s.size() > 100 ? "...'" : "'"); }

}  // namespace

int64_t get_metadata_int(const Metadata& m, const std::string& key, const std::string& file, int64_t lo, int64_t hi) {
  const std::string& text = need(m, key, file);
  int64_t v = 0;
  if (!parse_whole(text, v) || v < lo || v > hi)
    throw IOError(file + ": metadata '" + key + "' must be an integer in " + std::to_string(lo) + ".." +
                  std::to_string(hi) + ", got " + shown(text));
  return v;
}

uint64_t get_metadata_uint64(const Metadata& m, const std::string& key, const std::string& file) {
  const std::string& text = need(m, key, file);
  uint64_t v = 0;
  if (!parse_whole(text, v))
    throw IOError(file + ": metadata '" + key + "' must be an integer in 0.." + std::to_string(UINT64_MAX) +
                  ", got " + shown(text));
  return v;
}

std::vector<float> get_metadata_floats(const Metadata& m, const std::string& key, const std::string& file,
                                       size_t count, bool positive) {
  const std::string& text = need(m, key, file);
  std::vector<float> out;
  std::stringstream ss(text);
  bool ok = true;
  for (std::string part; ok && std::getline(ss, part, ',');) {
    float v = 0;
    ok = parse_whole(part, v) && std::isfinite(v) && (!positive || v > 0);
    out.push_back(v);
  }
  if (!ok || out.size() != count || (!text.empty() && text.back() == ','))
    throw IOError(file + ": metadata '" + key + "' must be " + std::to_string(count) + " finite numbers" +
                  (positive ? " above 0" : "") + ", got " + shown(text));
  return out;
}

void put_class_names(Metadata& m, const std::vector<std::string>& classes) {
  m["classes"] = nlohmann::json(classes).dump();
}

std::vector<std::string> get_class_names(const Metadata& m, const std::string& file) {
  const std::string& text = need(m, "classes", file);
  std::vector<std::string> names;
  if (!text.empty() && text[0] == '[') {
    auto fail = [&] { return IOError(file + ": metadata 'classes' is not a JSON list of class names: " + shown(text)); };
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
  } else {  // checkpoints from before the JSON list: names joined with ','
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');) names.push_back(item);
    if (!text.empty() && text.back() == ',') names.push_back("");
  }
  if (names.empty() || names.size() > 100000)
    throw IOError(file + ": metadata 'classes' has " + std::to_string(names.size()) + " names (1..100000 expected)");
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i].empty()) throw IOError(file + ": metadata 'classes' has an empty name (class " + std::to_string(i) + ")");
  return names;
}

}  // namespace dlcraft
