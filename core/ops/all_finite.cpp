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

int64_t first_nonfinite(const std::vector<Tensor>& xs) {
  // CPU tensors are checked in order, stopping at the first bad one. GPU tensors each get one
  // launch writing their own flag into one buffer, and one copy brings all the flags back:
  // one synchronisation however many tensors there are.
  std::vector<int64_t> on_gpu;
  int64_t first = -1;
  for (int64_t i = 0; i < int64_t(xs.size()); ++i) {
    const Tensor& x = xs[size_t(i)];
    if (!x.defined()) continue;
    if (x.device().is_cuda()) {
      on_gpu.push_back(i);
    } else if (first < 0 && !all_finite_cpu(x.numel(), x.data())) {
      first = i;
    }
  }
  if (on_gpu.empty()) return first;
  std::vector<Tensor> gpu_tensors;
  for (int64_t i : on_gpu) gpu_tensors.push_back(xs[size_t(i)]);
  check_same_device(gpu_tensors, "first_nonfinite");
  const Device d = gpu_tensors.front().device();
  Buffer flags(d, sizeof(int32_t) * on_gpu.size());
  auto* f = static_cast<int32_t*>(flags.data());
  for (size_t k = 0; k < gpu_tensors.size(); ++k)
    all_finite_cuda(gpu_tensors[k].numel(), gpu_tensors[k].data(), f + k);
  std::vector<int32_t> host(on_gpu.size());
  copy_bytes(host.data(), Device::cpu(), f, d, sizeof(int32_t) * host.size());
  for (size_t k = 0; k < host.size(); ++k) {
    if (host[k]) {
      first = first < 0 ? on_gpu[k] : std::min(first, on_gpu[k]);
      break;
    }
  }
  return first;
}

}  // namespace dlcraft
