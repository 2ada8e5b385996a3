// adaptive_avg_pool2d op: checks, device dispatch, backward. Kernels:
// kernels/cpu/adaptive_pool.cpp, kernels/cuda/adaptive_pool.cu. Note: docs/adaptive_pooling.md.
#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/elementwise_util.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size, const std::string& who) {
  check_rank(x, 4, who, "input");
  check_float32(x, who, "input");
  if (output_size.h < 1 || output_size.w < 1)
    throw ArgumentError(who + ": output size must be >= 1 on each side (got " + size2_str(output_size) + ")");
  // An empty plane has no mean (torch refuses it too); an empty batch is fine.
  if (x.size(2) < 1 || x.size(3) < 1)
    throw ShapeError(who + ": input " + to_string(x.shape()) + " has an empty plane; height and width must be >= 1");
  const AdaptivePool2dShape s{int(x.size(0)), int(x.size(1)), int(x.size(2)), int(x.size(3)),
                              output_size.h, output_size.w};
  Tensor y = Tensor::empty({s.n, s.c, s.out_h, s.out_w}, x.device());
  if (x.device().is_cuda())
    adaptive_avg_pool2d_forward_cuda(s, x.data(), y.data());
  else
    adaptive_avg_pool2d_forward_cpu(s, x.data(), y.data());
  // The backward needs no saved tensor: the windows depend on the shapes alone.
  return record(y, who, {x}, [s, x](const Tensor& dy) {
    Tensor dx = Tensor::empty(x.shape(), dy.device());
    if (dy.device().is_cuda())
      adaptive_avg_pool2d_backward_cuda(s, dy.data(), dx.data());
    else
      adaptive_avg_pool2d_backward_cpu(s, dy.data(), dx.data());
    accumulate_grad(x, dx);
  });
}

}  // namespace dlcraft
