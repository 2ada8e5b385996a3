// Softmax cross-entropy op and the accuracy helpers. Kernels:
// kernels/cpu/softmax_cross_entropy.cpp, kernels/cuda/softmax_cross_entropy.cu.
// Note: docs/softmax_cross_entropy.md.
#include <memory>

#include "core/autograd.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& labels) {
  check_rank(logits, 2, "cross_entropy", "logits");
  const int n = int(logits.size(0)), classes = int(logits.size(1));
  if (int64_t(labels.size()) != n)
    throw ShapeError("cross_entropy: logits " + to_string(logits.shape()) + " vs " +
                     std::to_string(labels.size()) + " labels");
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      throw ArgumentError("cross_entropy: label " + std::to_string(labels[i]) + " at index " +
                          std::to_string(i) + " is outside [0, " + std::to_string(classes) + ")");
  const Device d = logits.device();
  auto lab = std::make_shared<Buffer>(d, sizeof(int32_t) * n);
  copy_bytes(lab->data(), d, labels.data(), Device::cpu(), sizeof(int32_t) * n);
  Tensor probs = Tensor::empty(logits.shape(), d);  // softmax, kept for backward
  Tensor loss = Tensor::empty({}, d);  // 0-d, as torch's mean loss
  auto* lp = static_cast<const int32_t*>(lab->data());
  if (d.is_cuda())
    softmax_cross_entropy_forward_cuda(n, classes, logits.data(), lp, probs.data(), loss.data());
  else
    softmax_cross_entropy_forward_cpu(n, classes, logits.data(), lp, probs.data(), loss.data());
  return record(loss, "cross_entropy", {logits}, [n, classes, logits, probs, lab](const Tensor& dl) {
    Tensor dz = Tensor::empty(logits.shape(), dl.device());
    auto* lp = static_cast<const int32_t*>(lab->data());
    if (dl.device().is_cuda())  // reads dL/dloss on the device: no host round trip
      softmax_cross_entropy_backward_cuda(n, classes, probs.data(), lp, dl.data(), dz.data());
    else
      softmax_cross_entropy_backward_cpu(n, classes, probs.data(), lp, *dl.data(), dz.data());
    accumulate_grad(logits, dz);
  });
}

std::vector<int32_t> argmax_rows(const Tensor& logits) {
  check_rank(logits, 2, "argmax_rows", "logits");
  const int64_t n = logits.size(0), classes = logits.size(1);
  std::vector<float> z = logits.to_vector();
  std::vector<int32_t> out(n);
  for (int64_t i = 0; i < n; ++i) {
    int32_t best = 0;
    for (int64_t j = 1; j < classes; ++j)
      if (z[i * classes + j] > z[i * classes + best]) best = int32_t(j);
    out[i] = best;
  }
  return out;
}

int64_t count_correct(const Tensor& logits, const std::vector<int32_t>& labels) {
  check_rank(logits, 2, "count_correct", "logits");
  if (logits.device().is_cuda()) {
    // Counted on the GPU: only the labels go up and one int comes back.
    if (int64_t(labels.size()) != logits.size(0))
      throw ShapeError("count_correct: " + std::to_string(logits.size(0)) + " rows vs " +
                       std::to_string(labels.size()) + " labels");
    const Device d = logits.device();
    Buffer lab(d, sizeof(int32_t) * (labels.size() + 1));
    auto* lp = static_cast<int32_t*>(lab.data());
    copy_bytes(lp, d, labels.data(), Device::cpu(), sizeof(int32_t) * labels.size());
    count_correct_cuda(int(logits.size(0)), int(logits.size(1)), logits.data(), lp, lp + labels.size());
    int32_t count = 0;
    copy_bytes(&count, Device::cpu(), lp + labels.size(), d, sizeof(int32_t));
    return count;
  }
  std::vector<int32_t> pred = argmax_rows(logits);
  if (pred.size() != labels.size())
    throw ShapeError("count_correct: " + std::to_string(pred.size()) + " predictions vs " +
                     std::to_string(labels.size()) + " labels");
  int64_t correct = 0;
  for (size_t i = 0; i < pred.size(); ++i) correct += pred[i] == labels[i];
  return correct;
}

}  // namespace dlcraft
