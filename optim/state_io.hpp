// Helpers shared by the optimizers for saving and loading their state by name.
#pragma once
#include <map>
#include <string>

#include "core/error.hpp"
#include "core/tensor.hpp"

namespace dlcraft {

// Copies the saved tensor `key` into `dst`, checking that it exists with the right shape.
inline void load_named(const std::map<std::string, Tensor>& state, const std::string& key,
                       Tensor& dst) {
  auto it = state.find(key);
  if (it == state.end()) throw ArgumentError("optimizer state: missing '" + key + "'");
  if (it->second.shape() != dst.shape())
    throw ShapeError("optimizer state: '" + key + "' has shape " + to_string(it->second.shape()) +
                     ", expected " + to_string(dst.shape()));
  dst.copy_(it->second);
}

// Step counts travel as one-element float tensors (exact up to 2^24 steps).
inline Tensor step_tensor(int64_t step) { return Tensor::full({1}, float(step)); }

inline int64_t load_step(const std::map<std::string, Tensor>& state) {
  auto it = state.find("step");
  if (it == state.end()) throw ArgumentError("optimizer state: missing 'step'");
  return int64_t(it->second.item());
}

}  // namespace dlcraft
