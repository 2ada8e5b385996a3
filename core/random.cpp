#include "core/random.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace dlcraft {

float Generator::normal() {
  float u1 = uniform(1e-7f, 1.0f), u2 = uniform(0.0f, 1.0f);
  return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
}

std::string Generator::state() const {
  std::ostringstream os;
  os << engine_;
  return os.str();
}

void Generator::set_state(const std::string& s) {
  std::istringstream is(s);
  is >> engine_;
  if (is.fail()) throw ArgumentError("random generator state is corrupt");
}

Generator& default_generator() {
  static Generator g(0);
  return g;
}

void manual_seed(uint64_t seed) { default_generator().seed(seed); }

}  // namespace dlcraft
