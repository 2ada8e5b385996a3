// A tensor's shape: a list of dimension sizes, outermost first (NCHW for images).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dlcraft {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// "[16,3,32,32]": the form shape errors use.
inline std::string to_string(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace dlcraft
