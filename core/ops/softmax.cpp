// softmax, log_softmax and logsumexp over one dimension, differentiable. x is seen as
// (outer, dim, inner) around the chosen dimension, so one kernel serves every dimension.
// Backward (the Jacobian-vector product, docs/reductions.md):
//   softmax:     dx = y * (dy - sum(dy * y))
//   log_softmax: dx = dy - softmax(x) * sum(dy)
//   logsumexp:   dx = dy * softmax(x) = dy * exp(x - y)
// Kernels: kernels/cpu/softmax.cpp, kernels/cuda/softmax.cu.
#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

struct Axis {
  int64_t outer = 1, dim = 1, inner = 1, d = 0;
};

Axis axis_of(const Tensor& x, int64_t dim, const std::string& who) {
  check_defined(x, who, "input");
  if (x.dtype() != DType::Float32)
    throw DTypeError(who + ": input " + to_string(x.shape()) + " is " + to_string(x.dtype()) +
                     "; it takes float32");
  Axis a;
  a.d = normalize_dim(dim, x.dim(), who);
  const Shape& s = x.shape();
  for (int64_t k = 0; k < int64_t(s.size()); ++k) {
    if (k < a.d) a.outer *= s[k];
    else if (k == a.d) a.dim = s[k];
    else a.inner *= s[k];
  }
  return a;
}

Tensor softmax_op(const Tensor& x, int64_t dim, bool log, const std::string& who) {
  const Axis a = axis_of(x, dim, who);
  Tensor y = Tensor::empty(x.shape(), x.device());
  if (x.device().is_cuda())
    softmax_forward_cuda(a.outer, a.dim, a.inner, log, x.data(), y.data());
  else
    softmax_forward_cpu(a.outer, a.dim, a.inner, log, x.data(), y.data());
  // The backward reads y: saved through a detached handle (the output's own would hold its
  // node, a reference cycle), which shares the memory's version counter.
  const SavedTensor saved_y(y.detach());
  return record(y, who, {x}, [x, saved_y, a, log, who](const Tensor& dy) {
    const Tensor& yv = saved_y.get(who);
    Tensor dx = Tensor::empty(yv.shape(), dy.device());
    if (dy.device().is_cuda())
      softmax_backward_cuda(a.outer, a.dim, a.inner, log, yv.data(), dy.data(), dx.data());
    else
      softmax_backward_cpu(a.outer, a.dim, a.inner, log, yv.data(), dy.data(), dx.data());
    accumulate_grad(x, dx);
  });
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, true, "log_softmax"); }

Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim) {
  const Axis a = axis_of(x, dim, "logsumexp");
  std::vector<int64_t> dims;
  if (x.dim() > 0) dims.push_back(a.d);
  Tensor y = Tensor::empty(reduced_shape(x.shape(), dims, keepdim), x.device());
  if (x.device().is_cuda())
    logsumexp_forward_cuda(a.outer, a.dim, a.inner, x.data(), y.data());
  else
    logsumexp_forward_cpu(a.outer, a.dim, a.inner, x.data(), y.data());
  const SavedTensor saved_x(x), saved_y(y.detach());
  return record(y, "logsumexp", {x}, [x, saved_x, saved_y, a](const Tensor& dy) {
    const Tensor& xv = saved_x.get("logsumexp");
    const Tensor& yv = saved_y.get("logsumexp");
    Tensor dx = Tensor::empty(xv.shape(), dy.device());
    if (dy.device().is_cuda())
      logsumexp_backward_cuda(a.outer, a.dim, a.inner, xv.data(), yv.data(), dy.data(), dx.data());
    else
      logsumexp_backward_cpu(a.outer, a.dim, a.inner, xv.data(), yv.data(), dy.data(), dx.data());
    accumulate_grad(x, dx);
  });
}

}  // namespace dlcraft
