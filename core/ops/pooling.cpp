// max_pool2d and avg_pool2d ops. Kernels: kernels/cpu/pooling.cpp, kernels/cuda/pooling.cu.
// Note: docs/pooling.md.
#include <memory>

#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

namespace {
Pool2dShape pool_shape(const Tensor& x, Size2 kernel2, Size2 stride2, Size2 padding,
                       const std::string& who) {
  // TEMPORARY until padded/rectangular windows land.
  if (!(kernel2.h == kernel2.w && stride2.h == stride2.w && padding.h == 0 && padding.w == 0))
    throw ArgumentError(who + ": rectangular or padded windows are not supported yet");
  const int kernel = kernel2.h, stride = stride2.h;
  check_rank(x, 4, who, "input");
  if (kernel < 1 || stride < 0)
    throw ArgumentError(who + ": kernel must be >= 1 and stride >= 0 (got kernel " +
                        std::to_string(kernel) + ", stride " + std::to_string(stride) + ")");
  Pool2dShape s{int(x.size(0)), int(x.size(1)), int(x.size(2)), int(x.size(3)), kernel,
                stride == 0 ? kernel : stride};
  if (s.h < kernel || s.w < kernel)
    throw ShapeError(who + ": input " + to_string(x.shape()) + " is smaller than the " +
                     std::to_string(kernel) + "x" + std::to_string(kernel) + " window");
  return s;
}
}  // namespace

Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding,
                  const std::string& who) {
  Pool2dShape s = pool_shape(x, kernel, stride, padding, who);
  const Device d = x.device();
  Tensor y = Tensor::empty({s.n, s.c, s.out_h(), s.out_w()}, d);
  // Which input won each window, kept for backward (an int32 per output).
  auto argmax = std::make_shared<Buffer>(d, sizeof(int32_t) * y.numel());
  auto* idx = static_cast<int32_t*>(argmax->data());
  if (d.is_cuda())
    max_pool2d_forward_cuda(s, x.data(), y.data(), idx);
  else
    max_pool2d_forward_cpu(s, x.data(), y.data(), idx);
  return record(y, who, {x}, [s, x, argmax](const Tensor& dy) {
    Tensor dx = Tensor::empty(x.shape(), dy.device());
    auto* idx = static_cast<const int32_t*>(argmax->data());
    if (dy.device().is_cuda())
      max_pool2d_backward_cuda(s, dy.data(), idx, dx.data());
    else
      max_pool2d_backward_cpu(s, dy.data(), idx, dx.data());
    accumulate_grad(x, dx);
  });
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding,
                  const std::string& who) {
  Pool2dShape s = pool_shape(x, kernel, stride, padding, who);
  Tensor y = Tensor::empty({s.n, s.c, s.out_h(), s.out_w()}, x.device());
  if (x.device().is_cuda())
    avg_pool2d_forward_cuda(s, x.data(), y.data());
  else
    avg_pool2d_forward_cpu(s, x.data(), y.data());
  return record(y, who, {x}, [s, x](const Tensor& dy) {
    Tensor dx = Tensor::empty(x.shape(), dy.device());
    if (dy.device().is_cuda())
      avg_pool2d_backward_cuda(s, dy.data(), dx.data());
    else
      avg_pool2d_backward_cpu(s, dy.data(), dx.data());
    accumulate_grad(x, dx);
  });
}

}  // namespace dlcraft
