// Seeded random numbers, so that two runs with the same --seed repeat exactly.
// One global generator (like torch.manual_seed) drives parameter init; the data pipeline
// uses counter-based streams (mix64 of seed, epoch, sample) so its results do not depend on
// which thread did the work or on where a resumed run started.
#pragma once
#include <cstdint>
#include <random>
#include <string>

#include "kernels/shapes.hpp"  // DLCRAFT_HOST_DEVICE

namespace dlcraft {

// SplitMix64 finaliser: a good 64-bit hash, used to derive independent streams from counters.
// Host and device share this one definition, so CPU and GPU augmentation draw the same.
DLCRAFT_HOST_DEVICE inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}
  void seed(uint64_t s) { engine_.seed(s); }
  uint64_t next_u64() { return engine_(); }
  // Uniform in [lo, hi) from the top 24 bits: the same floats on every platform.
  float uniform(float lo, float hi) {
    float u = static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f);
    return lo + (hi - lo) * u;
  }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return next_u64() % n; }
  // Standard normal (Box-Muller), used by tests for random inputs.
  float normal();
  // The whole engine state as text, for checkpoints.
  std::string state() const;
  void set_state(const std::string& s);

 private:
  std::mt19937_64 engine_;
};

Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace dlcraft
