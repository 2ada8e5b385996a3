// Tensor creation (core/creation.hpp). Values are computed on the host in double and stored in
// the requested dtype, then copied once to the device: creation is not a hot path.
#include "core/creation.hpp"

#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.hpp"

namespace dlcraft {

namespace {

// A tensor of `options` holding `values` (converted to its dtype).
Tensor from_doubles(const std::vector<double>& values, const Shape& shape,
                    const TensorOptions& options) {
  Tensor t = Tensor::empty(shape, options.with_requires_grad(false));
  const size_t n = values.size();
  std::vector<unsigned char> raw(n * element_size(options.dtype));
  for (size_t i = 0; i < n; ++i) {
    switch (options.dtype) {
      case DType::Float32: {
        const float v = static_cast<float>(values[i]);
        std::memcpy(&raw[i * 4], &v, 4);
        break;
      }
      case DType::Int64: {
        const int64_t v = static_cast<int64_t>(values[i]);
        std::memcpy(&raw[i * 8], &v, 8);
        break;
      }
      case DType::Bool: raw[i] = values[i] != 0; break;
    }
  }
  copy_bytes(t.raw_data(), t.device(), raw.data(), Device::cpu(), raw.size());
  if (options.requires_grad) t.requires_grad_(true);
  return t;
}

}  // namespace

Tensor full(const Shape& shape, double value, const TensorOptions& options) {
  Tensor t = Tensor::empty(shape, options.with_requires_grad(false));
  t.fill_(static_cast<float>(value));
  if (options.dtype == DType::Int64 && std::fabs(value) > 16777216.0)
    t = from_doubles(std::vector<double>(t.numel(), value), shape, options);  // exact large ints
  if (options.requires_grad) t.requires_grad_(true);
  return t;
}
Tensor zeros(const Shape& shape, const TensorOptions& options) { return full(shape, 0, options); }
Tensor ones(const Shape& shape, const TensorOptions& options) { return full(shape, 1, options); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.options()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.options()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.options()); }

Tensor arange(double start, double end, double step, const TensorOptions& options) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step) ||
      (end - start) / step < 0)
    throw ArgumentError("arange: cannot go from " + std::to_string(start) + " to " +
                        std::to_string(end) + " in steps of " + std::to_string(step));
  const int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + step * double(i);
  return from_doubles(v, {n}, options);
}

Tensor arange(double end, const TensorOptions& options) { return arange(0, end, 1, options); }

Tensor linspace(double start, double end, int64_t steps, const TensorOptions& options) {
  if (steps < 0) throw ArgumentError("linspace: steps must be >= 0, got " + std::to_string(steps));
  std::vector<double> v(steps);
  // As torch.linspace: the first half counts up from start, the second half down from end, so
  // both ends are exact.
  const double delta = steps > 1 ? (end - start) / double(steps - 1) : 0;
  for (int64_t i = 0; i < steps; ++i)
    v[i] = i < steps / 2 ? start + delta * double(i) : end - delta * double(steps - 1 - i);
  return from_doubles(v, {steps}, options);
}

Tensor rand(const Shape& shape, Generator& gen, const TensorOptions& options) {
  std::vector<double> v(numel(shape));
  for (double& x : v) x = gen.uniform(0.0f, 1.0f);
  return from_doubles(v, shape, options);
}
Tensor rand(const Shape& shape, const TensorOptions& options) {
  return rand(shape, default_generator(), options);
}

Tensor randn(const Shape& shape, Generator& gen, const TensorOptions& options) {
  std::vector<double> v(numel(shape));
  for (double& x : v) x = gen.normal();
  return from_doubles(v, shape, options);
}
Tensor randn(const Shape& shape, const TensorOptions& options) {
  return randn(shape, default_generator(), options);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen,
               const TensorOptions& options) {
  if (high <= low)
    throw ArgumentError("randint: empty range [" + std::to_string(low) + ", " +
                        std::to_string(high) + ")");
  std::vector<double> v(numel(shape));
  for (double& x : v) x = double(low + int64_t(gen.below(uint64_t(high - low))));
  return from_doubles(v, shape, options);
}

}  // namespace dlcraft
