#include "train/history.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace dlcraft {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

void History::add(int64_t epoch, const std::map<std::string, double>& logs) {
  const size_t before = epochs_.size();
  epochs_.push_back(epoch);
  for (const auto& [key, value] : logs) {
    auto& series = values_[key];
    series.resize(before, kNaN);  // a key new in this epoch: NaN for the earlier ones
    series.push_back(value);
  }
  for (auto& [key, series] : values_) series.resize(epochs_.size(), kNaN);
}

std::vector<std::string> History::keys() const {
  std::vector<std::string> out;
  for (const auto& [key, series] : values_) out.push_back(key);
  return out;
}

const std::vector<double>& History::operator[](const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    std::string names;
    for (const auto& k : keys()) names += (names.empty() ? "" : ", ") + k;
    throw ArgumentError("History has no '" + key + "' (it has: " + (names.empty() ? "nothing" : names) + ")");
  }
  return it->second;
}

std::map<std::string, double> History::row(int64_t i) const {
  if (i < 0 || i >= size())
    throw ArgumentError("History::row(" + std::to_string(i) + "): " + std::to_string(size()) + " epochs");
  std::map<std::string, double> out;
  for (const auto& [key, series] : values_)
    if (!std::isnan(series[size_t(i)])) out[key] = series[size_t(i)];
  return out;
}

std::string History::to_jsonl() const {
  std::string out;
  for (int64_t i = 0; i < size(); ++i) {
    nlohmann::ordered_json j;
    j["epoch"] = epochs_[size_t(i)];
    for (const auto& [key, value] : row(i)) j[key] = std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
    out += j.dump() + "\n";
  }
  return out;
}

History History::read_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IOError(path + ": cannot open the metrics file");
  History h;
  int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      throw IOError(path + ": line " + std::to_string(line_no) + " is not JSON");
    }
    if (!j.is_object()) throw IOError(path + ": line " + std::to_string(line_no) + " is not a JSON object");
    int64_t epoch = h.size() + 1;
    if (j.contains("epoch") && j["epoch"].is_number()) epoch = j["epoch"].get<int64_t>();
    std::map<std::string, double> logs;
    for (const auto& [key, value] : j.items())
      if (key != "epoch" && value.is_number()) logs[key] = value.get<double>();
    h.add(epoch, logs);
  }
  return h;
}

}  // namespace dlcraft
