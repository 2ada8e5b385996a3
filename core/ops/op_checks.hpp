// Shared argument checks for the ops in core/ops/: each error names the op and the shapes.
#pragma once
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/tensor.hpp"

namespace dlcraft {

inline void check_defined(const Tensor& t, const std::string& who, const char* what) {
  if (!t.defined()) throw ArgumentError(who + ": " + what + " is an undefined tensor");
}

inline void check_rank(const Tensor& t, int64_t rank, const std::string& who, const char* what) {
  check_defined(t, who, what);
  if (t.dim() != rank)
    throw ShapeError(who + ": " + what + " must have " + std::to_string(rank) + " dimensions, got " +
                     to_string(t.shape()));
}

inline void check_same_device(const std::vector<Tensor>& ts, const std::string& who) {
  Device d = ts.front().device();
  for (const Tensor& t : ts)
    if (t.defined() && t.device() != d)
      throw DeviceError(who + ": tensors on different devices (" + d.str() + " and " +
                        t.device().str() + ")");
}

// ---- per-side sizes (conv2d, pooling): "(2, 1)" as torch prints a tuple
inline std::string size2_str(Size2 v) {
  return "(" + std::to_string(v.h) + ", " + std::to_string(v.w) + ")";
}

}  // namespace dlcraft
