// conv2d and conv2d_relu ops: checks, device dispatch, backward. Kernels: kernels/cpu/conv2d.cpp,
// kernels/cpu/conv2d_winograd.cpp, kernels/cuda/conv2d.cu. Notes: docs/convolution.md,
// docs/fused_epilogues.md (conv2d_relu).
#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/elementwise_util.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

namespace {

// relu: conv2d_relu, the ReLU applied in the conv's output pass (the fused epilogue).
Tensor conv2d_op(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride,
                 Size2 padding, const std::string& who, bool relu) {
  check_rank(x, 4, who, "input");
  check_rank(weight, 4, who, "weight");
  check_same_device({x, weight, bias}, who);
  if (x.size(1) != weight.size(1))
    throw ShapeError(who + ": input " + to_string(x.shape()) + " has " +
                     std::to_string(x.size(1)) + " channels vs weight " +
                     to_string(weight.shape()) + " expecting " + std::to_string(weight.size(1)));
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    throw ShapeError(who + ": bias " + to_string(bias.shape()) + " vs weight " +
                     to_string(weight.shape()));
  if (stride.h < 1 || stride.w < 1 || padding.h < 0 || padding.w < 0)
    throw ArgumentError(who + ": stride must be >= 1 and padding >= 0 (got stride " + size2_str(stride) +
                        ", padding " + size2_str(padding) + ")");
  Conv2dShape s{int(x.size(0)), int(x.size(1)), int(x.size(2)), int(x.size(3)),
                int(weight.size(0)), int(weight.size(2)), int(weight.size(3)),
                stride.h, stride.w, padding.h, padding.w};
  if (s.h + 2 * s.pad_h < s.r || s.w + 2 * s.pad_w < s.s)
    throw ShapeError(who + ": input " + to_string(x.shape()) + " with padding " + size2_str(padding) +
                     " is smaller than the kernel " + to_string(weight.shape()));

  Tensor y = Tensor::empty({s.n, s.k, s.out_h(), s.out_w()}, x.device());
  const float* b = bias.defined() ? bias.data() : nullptr;
  const bool vendor = cuda_kernels() == CudaKernels::Vendor;  // backward uses the same backend as this forward
  // The CPU's fast kernels: im2col or Winograd (docs/winograd.md); the backward uses this pick too.
  const bool on_cpu_fast = !x.device().is_cuda() && cpu_kernels() == CpuKernels::Fast;
  const ConvAlgorithm algo = on_cpu_fast ? conv_algorithm_for(x.shape(), weight.shape(), stride, padding)
                                         : ConvAlgorithm::Im2col;
  const int tile = algo == ConvAlgorithm::Winograd2 ? 2 : algo == ConvAlgorithm::Winograd4 ? 4 : 0;
  if (x.device().is_cuda() && vendor) {
    conv2d_forward_cudnn(s, x.data(), weight.data(), b, y.data());
    if (relu) relu_forward_cuda(y.numel(), y.data(), y.data());  // cuDNN's output, then ReLU in place
  } else if (x.device().is_cuda()) {
    conv2d_forward_cuda(s, x.data(), weight.data(), b, y.data(), relu);
  } else if (cpu_kernels() == CpuKernels::Reference) {
    conv2d_forward_reference_cpu(s, x.data(), weight.data(), b, y.data(), relu);
  } else if (tile) {
    conv2d_forward_winograd_cpu(tile, s, x.data(), weight.data(), b, y.data(), relu);
  } else {
    conv2d_forward_cpu(s, x.data(), weight.data(), b, y.data(), relu);
  }
  if (!needs_grad({x, weight, bias})) return y;

  // The backward reads x and the weight (and, fused, the output y for ReLU's mask): raise if
  // one is changed in place before it runs. y.detach(): the node must not own its output.
  const SavedTensor saved_y = relu ? SavedTensor(y.detach()) : SavedTensor();
  return record(y, who, {x, weight, bias}, [s, x, weight, bias, vendor, tile, who, saved_x = SavedTensor(x),
                                            saved_w = SavedTensor(weight), saved_y](const Tensor& dy_out) {
    saved_x.get(who);
    saved_w.get(who);
    // conv2d_relu: dL/d(pre-activation) = dy where y > 0; the rest is conv2d's backward.
    const Tensor dy = saved_y.defined() ? relu_backward_from_output(saved_y.get(who), dy_out) : dy_out;
    const Device d = dy.device();
    if (x.requires_grad()) {
      Tensor dx = Tensor::empty(x.shape(), d);
      if (d.is_cuda())
        (vendor ? conv2d_backward_input_cudnn : conv2d_backward_input_cuda)(s, dy.data(), weight.data(), dx.data());
      else if (cpu_kernels() == CpuKernels::Reference)
        conv2d_backward_input_reference_cpu(s, dy.data(), weight.data(), dx.data());
      else if (tile)
        conv2d_backward_input_winograd_cpu(tile, s, dy.data(), weight.data(), dx.data());
      else
        conv2d_backward_input_cpu(s, dy.data(), weight.data(), dx.data());
      accumulate_grad(x, dx);
    }
    const bool want_b = bias.defined() && bias.requires_grad();
    if (weight.requires_grad() || want_b) {
      Tensor dw = Tensor::empty(weight.shape(), d);
      Tensor db = want_b ? Tensor::empty(bias.shape(), d) : Tensor();
      float* dbp = want_b ? db.data() : nullptr;
      if (d.is_cuda())
        (vendor ? conv2d_backward_weight_cudnn : conv2d_backward_weight_cuda)(s, x.data(), dy.data(), dw.data(), dbp);
      else if (cpu_kernels() == CpuKernels::Reference)
        conv2d_backward_weight_reference_cpu(s, x.data(), dy.data(), dw.data(), dbp);
      else if (tile)
        conv2d_backward_weight_winograd_cpu(tile, s, x.data(), dy.data(), dw.data(), dbp);
      else
        conv2d_backward_weight_cpu(s, x.data(), dy.data(), dw.data(), dbp);
      accumulate_grad(weight, dw);
      if (want_b) accumulate_grad(bias, db);
    }
  });
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride,
              Size2 padding, const std::string& who) {
  return conv2d_op(x, weight, bias, stride, padding, who, /*relu=*/false);
}

Tensor conv2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride,
                   Size2 padding, const std::string& who) {
  return conv2d_op(x, weight, bias, stride, padding, who, /*relu=*/true);
}

}  // namespace dlcraft
