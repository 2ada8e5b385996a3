// dropout op (드롭아웃): y = x * mask / (1 - p), the mask drawn on the host. Note:
// docs/batch_norm.md, "Dropout".
// The mask is drawn on the host from the generator, as rand() draws (core/creation.cpp), and
// copied to x's device: the same seed drops the same elements on the CPU and the GPU. The
// product is the element-wise mul op, so its backward (dy * mask / (1 - p)) comes with it.
#include <cmath>
#include <vector>

#include "core/creation.hpp"
#include "core/ops.hpp"
#include "core/ops/elementwise_util.hpp"
#include "core/ops/op_checks.hpp"

namespace dlcraft {

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen, const std::string& who) {
  check_defined(x, who, "input");
  if (!(p >= 0.0 && p <= 1.0))  // NaN fails too
    throw ArgumentError(who + ": dropout probability must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0.0) return x;  // nothing dropped: x itself, as torch
  check_float32(x, who, "input");
  Generator& g = gen ? *gen : default_generator();
  // Kept elements carry the scale 1 / (1 - p), so one multiply does both. p == 1 keeps
  // nothing: the mask is all zeros and 1 / (1 - p) is never computed.
  const float keep_value = p < 1.0 ? float(1.0 / (1.0 - p)) : 0.0f;
  std::vector<float> mask(size_t(x.numel()));
  for (float& m : mask) m = g.uniform(0.0f, 1.0f) < float(p) ? 0.0f : keep_value;
  return mul(x, Tensor::from_vector(mask, x.shape(), x.device()));
}

}  // namespace dlcraft
