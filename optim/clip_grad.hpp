// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_: call between
// backward() and optimizer.step(). Both work on CPU and CUDA gradients (they are built from
// the tensor library's ops) and skip parameters without a gradient. docs/adam.md.
#pragma once
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace dlcraft {

// The norm of all gradients together, as if they were one vector: (sum |g|^p)^(1/p), or the
// largest |g| for norm_type = INFINITY. When max_norm / (norm + 1e-6) < 1, every gradient is
// multiplied by that factor, so the new total norm is (just under) max_norm. Returns the norm
// before clipping (0 when no parameter has a gradient). A non-finite norm gives non-finite
// gradients (torch's error_if_nonfinite=False); check the returned value to skip such a step.
// ArgumentError: max_norm < 0 or NaN, norm_type not > 0.
float clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);
float clip_grad_norm_(const std::vector<std::pair<std::string, Tensor>>& params, double max_norm,
                      double norm_type = 2.0);

// Clamps every gradient element into [-clip_value, clip_value]. ArgumentError: clip_value < 0.
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);
void clip_grad_value_(const std::vector<std::pair<std::string, Tensor>>& params, double clip_value);

}  // namespace dlcraft
