// Helpers shared by the optimizers for saving and loading their state by name.
#pragma once
#include <map>
#include <string>

#include <functional>
#include <vector>

#include "core/error.hpp"
#include "core/tensor.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

// A saved tensor of another dtype (a file may hold int64/bool tensors: safetensors I64/BOOL).
inline void check_state_dtype(const std::string& key, const Tensor& t, DType expected) {
  if (t.dtype() != expected)
    throw DTypeError("optimizer state: '" + key + "' is " + to_string(t.dtype()) + ", expected " +
                     to_string(expected));
}

// Copies the saved tensor `key` into `dst`, checking that it exists with the right shape.
inline void load_named(const std::map<std::string, Tensor>& state, const std::string& key,
                       Tensor& dst) {
  auto it = state.find(key);
  if (it == state.end()) throw ArgumentError("optimizer state: missing '" + key + "'");
  check_state_dtype(key, it->second, dst.dtype());
  if (it->second.shape() != dst.shape())
    throw ShapeError("optimizer state: '" + key + "' has shape " + to_string(it->second.shape()) +
                     ", expected " + to_string(dst.shape()));
  dst.copy_(it->second);
}

// Step counts travel as one-element float tensors (exact up to 2^24 steps).
inline Tensor step_tensor(int64_t step) { return Tensor::full({1}, float(step)); }

// The count must be a whole number in 0..2^53: NaN, 2.5 or 1e30 would be undefined behaviour
// (or nonsense) once converted to an integer.
inline int64_t load_step(const std::map<std::string, Tensor>& state) {
  auto it = state.find("step");
  if (it == state.end()) throw ArgumentError("optimizer state: missing 'step'");
  check_state_dtype("step", it->second, DType::Float32);  // as step_tensor writes it
  if (it->second.numel() != 1)
    throw ArgumentError("optimizer state: 'step' has shape " + to_string(it->second.shape()) + ", expected [1]");
  const double step = it->second.item();
  if (!(step >= 0 && step <= 9007199254740992.0 && step == double(int64_t(step))))
    throw ArgumentError("optimizer state: 'step' is " + std::to_string(step) +
                        ", not a whole number of steps in 0..2^53");
  return int64_t(step);
}

// Groups the GPU parameters params[begin, end) (one parameter group) that have a gradient into
// tables of up to ParamSlices::kMax tensors and hands each table to `launch`: one kernel launch
// updates the whole table.
inline void for_each_cuda_table(const std::vector<std::pair<std::string, Tensor>>& params, size_t begin,
                                size_t end, const std::vector<Tensor>& state1, const std::vector<Tensor>* state2,
                                const std::function<void(const ParamSlices&)>& launch) {
  ParamSlices t;
  for (size_t i = begin; i < end; ++i) {
    const Tensor& p = params[i].second;
    Tensor g = p.grad();
    if (!p.device().is_cuda() || !g.defined()) continue;
    t.p[t.count] = p.data();
    t.g[t.count] = g.data();
    t.state1[t.count] = state1[i].data();
    t.state2[t.count] = state2 ? (*state2)[i].data() : nullptr;
    t.n[t.count] = p.numel();
    if (++t.count == ParamSlices::kMax) {
      launch(t);
      t.count = 0;
    }
  }
  if (t.count > 0) launch(t);
}

}  // namespace dlcraft
