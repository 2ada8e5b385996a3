// The tensor: a float32 array of any rank on one device, contiguous, row-major (NCHW for
// images). A Tensor is a cheap handle; copies share the same memory, like torch.Tensor.
// Autograd fields (requires_grad, grad, grad_fn) live here too; see core/autograd.hpp.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/allocator.hpp"
#include "core/device.hpp"
#include "core/shape.hpp"

namespace dlcraft {

class Generator;
struct Node;
class Tensor;

struct TensorImpl {
  Shape shape;
  std::shared_ptr<Buffer> buffer;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;   // filled by backward(); same shape and device
  std::shared_ptr<Node> grad_fn;      // the op that made this tensor (null for leaves)
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialised memory (from the caching allocator).
  static Tensor empty(const Shape& shape, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, Device device = Device::cpu());
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu());
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor uniform(const Shape& shape, float lo, float hi, Generator& gen,
                        Device device = Device::cpu());
  static Tensor normal(const Shape& shape, Generator& gen, Device device = Device::cpu());

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return dlcraft::numel(shape()); }
  Device device() const;

  // Raw pointer to the first element, on the tensor's device.
  float* data() const;
  // Copies to the host.
  std::vector<float> to_vector() const;
  float item() const;  // the value of a one-element tensor

  Tensor to(Device device) const;  // a copy on `device` (itself if already there)
  Tensor clone() const;            // a copy, detached from the graph
  Tensor detach() const;           // shares memory, no grad_fn
  void copy_(const Tensor& src);   // element-wise copy of an equal-sized tensor, any devices
  void fill_(float value);
  void copy_from_host(const float* src, int64_t count);

  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);
  Tensor grad() const;  // undefined until backward() reaches this tensor
  void set_grad(const Tensor& g) const;
  void zero_grad() const;  // drops the gradient (set to none, as PyTorch's default)
  std::shared_ptr<Node> grad_fn() const;

  // Backpropagates from this scalar (or with an explicit output gradient).
  void backward() const;
  void backward(const Tensor& grad_output) const;

  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
  std::string str() const;  // "Tensor[2,3] cpu"

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Host <-> device byte copies, dispatched on the two devices.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

}  // namespace dlcraft
