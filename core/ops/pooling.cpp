// max_pool2d, avg_pool2d and relu_max_pool2d ops. Kernels: kernels/cpu/pooling.cpp,
// kernels/cuda/pooling.cu (relu_max_pool2d: kernels/*/relu_max_pool.*). Notes: docs/pooling.md,
// docs/fused_epilogues.md.
#include <memory>

#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/elementwise_util.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

namespace {
Pool2dShape pool_shape(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding,
                       const std::string& who) {
  check_rank(x, 4, who, "input");
  check_float32(x, who, "input");
  if (kernel.h < 1 || kernel.w < 1 || stride.h < 0 || stride.w < 0 || padding.h < 0 || padding.w < 0)
    throw ArgumentError(who + ": kernel must be >= 1, stride >= 0 and padding >= 0 (got kernel " +
                        size2_str(kernel) + ", stride " + size2_str(stride) + ", padding " +
                        size2_str(padding) + ")");
  // torch's rule: a window may hang over the edge by at most half its size, so every window
  // holds at least one real input (a max over padding alone would be -inf).
  if (2 * padding.h > kernel.h || 2 * padding.w > kernel.w)
    throw ArgumentError(who + ": padding " + size2_str(padding) + " must be at most half the kernel " +
                        size2_str(kernel));
  Pool2dShape s{int(x.size(0)), int(x.size(1)), int(x.size(2)), int(x.size(3)),
                kernel.h, kernel.w, stride.h == 0 ? kernel.h : stride.h, stride.w == 0 ? kernel.w : stride.w,
                padding.h, padding.w};
  if (s.h + 2 * s.pad_h < s.kernel_h || s.w + 2 * s.pad_w < s.kernel_w)
    throw ShapeError(who + ": input " + to_string(x.shape()) + " with padding " + size2_str(padding) +
                     " is smaller than the " + std::to_string(kernel.h) + "x" + std::to_string(kernel.w) +
                     " window");
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

// max_pool2d(relu(x)) in one pass; the unfused pair writes and reads relu(x) in between.
Tensor relu_max_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding,
                       const std::string& who) {
  Pool2dShape s = pool_shape(x, kernel, stride, padding, who);
  const Device d = x.device();
  Tensor y = Tensor::empty({s.n, s.c, s.out_h(), s.out_w()}, d);
  auto argmax = std::make_shared<Buffer>(d, sizeof(int32_t) * y.numel());
  auto* idx = static_cast<int32_t*>(argmax->data());
  if (d.is_cuda())
    relu_max_pool2d_forward_cuda(s, x.data(), y.data(), idx);
  else
    relu_max_pool2d_forward_cpu(s, x.data(), y.data(), idx);
  if (!needs_grad({x})) return y;
  // Backward: the saved argmax says where dy goes, the saved output y whether ReLU passed it
  // (y > 0): no mask of the input's size is kept. y.detach(): the node must not own y.
  return record(y, who, {x}, [s, x, argmax, who, saved_y = SavedTensor(y.detach())](const Tensor& dy) {
    const Tensor& yy = saved_y.get(who);
    Tensor dx = Tensor::empty(x.shape(), dy.device());
    auto* idx = static_cast<const int32_t*>(argmax->data());
    if (dy.device().is_cuda())
      relu_max_pool2d_backward_cuda(s, dy.data(), yy.data(), idx, dx.data());
    else
      relu_max_pool2d_backward_cpu(s, dy.data(), yy.data(), idx, dx.data());
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
