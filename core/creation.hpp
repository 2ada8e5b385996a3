// Making tensors, as torch.zeros/ones/full/arange/linspace/rand/randn do. `options` takes a
// Device or DType alone, or a TensorOptions (dtype, device, requires_grad).
// Random tensors are drawn on the host from a Generator (the default one unless given) and
// copied, so the same seed gives the same values on the CPU and the GPU.
#pragma once
#include <cstdint>

#include "core/random.hpp"
#include "core/tensor.hpp"

namespace dlcraft {

Tensor zeros(const Shape& shape, const TensorOptions& options = {});
Tensor ones(const Shape& shape, const TensorOptions& options = {});
Tensor full(const Shape& shape, double value, const TensorOptions& options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);

// [start, end) in steps of `step`, as torch.arange. The dtype is the options' (float32 unless
// told); arange(n) of int64 gives the indices 0..n-1.
Tensor arange(double start, double end, double step = 1, const TensorOptions& options = {});
Tensor arange(double end, const TensorOptions& options = {});
// `steps` values from start to end inclusive, evenly spaced (float32).
Tensor linspace(double start, double end, int64_t steps, const TensorOptions& options = {});

// Uniform in [0, 1) and standard normal (float32).
Tensor rand(const Shape& shape, Generator& gen, const TensorOptions& options = {});
Tensor rand(const Shape& shape, const TensorOptions& options = {});
Tensor randn(const Shape& shape, Generator& gen, const TensorOptions& options = {});
Tensor randn(const Shape& shape, const TensorOptions& options = {});
// Uniform integers in [low, high) (int64), as torch.randint.
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen,
               const TensorOptions& options = DType::Int64);

}  // namespace dlcraft
