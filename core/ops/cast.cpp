// cast(x, dtype) and Tensor::to(DType): a converted copy, float32 <-> int64 <-> bool, on the
// tensor's device (kernels/cpu/cast.cpp, kernels/cuda/cast.cu). float -> int64 truncates toward
// zero (saturating at the int64 range, NaN -> 0), -> bool is x != 0. The result does not
// require grad (a conversion to integers has no gradient; torch keeps one only float -> float,
// which here is x itself). docs/elementwise.md.
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

Tensor cast(const Tensor& x, DType dtype) {
  check_defined(x, "cast", "input");
  if (x.dtype() == dtype) return x;
  Tensor y = Tensor::empty(x.shape(), TensorOptions(dtype).with_device(x.device()));
  if (x.device().is_cuda())
    cast_cuda(x.dtype(), dtype, x.numel(), x.raw_data(), y.raw_data());
  else
    cast_cpu(x.dtype(), dtype, x.numel(), x.raw_data(), y.raw_data());
  return y;
}

Tensor Tensor::to(DType dtype) const { return cast(*this, dtype); }

}  // namespace dlcraft
