// Shared pieces of the element-wise ops (core/ops/binary.cpp, unary.cpp, compare.cpp,
// inplace.cpp): the float32 check and a 0-d zero for masking gradients with where().
#pragma once
#include <string>

#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/tensor.hpp"

namespace dlcraft {

// DTypeError "exp: input is int64; it takes float32".
inline void check_float32(const Tensor& t, const std::string& op, const char* what) {
  if (t.dtype() != DType::Float32)
    throw DTypeError(op + ": " + what + " is " + to_string(t.dtype()) + "; it takes float32");
}

// A 0-d float32 zero on `device` (filled by a kernel: no host-to-device copy).
inline Tensor scalar_zero(Device device) { return zeros({}, device); }

// ReLU's backward from its OUTPUT y (core/ops/relu.cpp): dy where y > 0, else 0 (a NaN lets dy
// through). y > 0 exactly where the input was > 0, so the fused ops (conv2d_relu, linear_relu:
// docs/fused_epilogues.md) keep only the output they return, no pre-activation.
Tensor relu_backward_from_output(const Tensor& y, const Tensor& dy);

}  // namespace dlcraft
