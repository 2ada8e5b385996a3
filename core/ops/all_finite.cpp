// all_finite / first_nonfinite: does a tensor hold NaN or ±Inf? No gradient. Kernels:
// kernels/cpu/all_finite.cpp, kernels/cuda/all_finite.cu. Note: docs/all_finite.md.
#include <algorithm>

#include "core/allocator.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

bool all_finite(const Tensor& x) {
  check_defined(x, "all_finite", "input");
  return first_nonfinite({x}) < 0;
}

int64_t first_nonfinite(const std::vector<Tensor>& xs) { return NonfiniteCheck(xs).result(); }

NonfiniteCheck::NonfiniteCheck(const std::vector<Tensor>& xs) {
  // CPU tensors are checked in order, stopping at the first bad one. GPU tensors each get one
  // launch writing their own flag into one buffer; result() brings all the flags back with
  // one copy: one synchronisation however many tensors there are.
  std::vector<Tensor> gpu_tensors;
  for (int64_t i = 0; i < int64_t(xs.size()); ++i) {
    const Tensor& x = xs[size_t(i)];
    if (!x.defined()) continue;
    if (x.device().is_cuda()) {
      on_gpu_.push_back(i);
      gpu_tensors.push_back(x);
    } else if (first_cpu_ < 0 && !all_finite_cpu(x.numel(), x.data())) {
      first_cpu_ = i;
    }
  }
  if (gpu_tensors.empty()) return;
  check_same_device(gpu_tensors, "first_nonfinite");
  flags_ = std::make_shared<Buffer>(gpu_tensors.front().device(), sizeof(int32_t) * on_gpu_.size());
  auto* f = static_cast<int32_t*>(flags_->data());
  for (size_t k = 0; k < gpu_tensors.size(); ++k)
    all_finite_cuda(gpu_tensors[k].numel(), gpu_tensors[k].data(), f + k);
}

int64_t NonfiniteCheck::result() {
  int64_t first = first_cpu_;
  if (!flags_) return first;
  std::vector<int32_t> host(on_gpu_.size());
  copy_bytes(host.data(), Device::cpu(), flags_->data(), flags_->device(), sizeof(int32_t) * host.size());
  for (size_t k = 0; k < host.size(); ++k) {
    if (host[k]) {
      first = first < 0 ? on_gpu_[k] : std::min(first, on_gpu_[k]);
      break;
    }
  }
  return first;
}

}  // namespace dlcraft
