// relu op. Kernels: kernels/cpu/relu.cpp, kernels/cuda/relu.cu. Note: docs/relu.md.
#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/elementwise_util.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

Tensor relu(const Tensor& x) {
  check_defined(x, "relu", "input");
  Tensor y = Tensor::empty(x.shape(), x.device());
  if (x.device().is_cuda())
    relu_forward_cuda(x.numel(), x.data(), y.data());
  else
    relu_forward_cpu(x.numel(), x.data(), y.data());
  // Backward needs only where x > 0, so it keeps x (an input), not y.
  return record(y, "relu", {x}, [x, saved = SavedTensor(x)](const Tensor& dy) {
    saved.get("relu");  // raises if x was changed in place since the forward pass
    Tensor dx = Tensor::empty(x.shape(), dy.device());
    if (dy.device().is_cuda())
      relu_backward_cuda(x.numel(), x.data(), dy.data(), dx.data());
    else
      relu_backward_cpu(x.numel(), x.data(), dy.data(), dx.data());
    accumulate_grad(x, dx);
  });
}

Tensor relu_backward_from_output(const Tensor& y, const Tensor& dy) {
  // relu_backward's test "x <= 0" gives the same answer on y = relu(x): y <= 0 iff x <= 0.
  Tensor dx = Tensor::empty(dy.shape(), dy.device());
  if (dy.device().is_cuda())
    relu_backward_cuda(dy.numel(), y.data(), dy.data(), dx.data());
  else
    relu_backward_cpu(dy.numel(), y.data(), dy.data(), dx.data());
  return dx;
}

}  // namespace dlcraft
