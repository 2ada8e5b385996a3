// The tensor: an array of any rank on one device, of one dtype (float32, int64 or bool),
// contiguous and row-major (NCHW for images). A Tensor is a cheap handle; copies share the same
// memory, like torch.Tensor. Tensors stay contiguous: ops that PyTorch answers with a strided
// view (transpose, permute, narrow, expand) return a copy here; reshape/view/flatten/squeeze/
// unsqueeze share memory (docs/tensor_library.md).
// Autograd fields (requires_grad, grad, grad_fn) live here too; see core/autograd.hpp.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/allocator.hpp"
#include "core/device.hpp"
#include "core/dtype.hpp"
#include "core/shape.hpp"

namespace dlcraft {

class Generator;
struct Node;
class Tensor;

struct TensorImpl {
  Shape shape;
  DType dtype = DType::Float32;
  std::shared_ptr<Buffer> buffer;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;   // filled by backward(); same shape and device
  std::shared_ptr<Node> grad_fn;      // the op that made this tensor (null for leaves)
  // Leaves only: called by backward once this tensor's .grad is final (core/autograd.hpp).
  std::vector<std::pair<int64_t, std::function<void(const Tensor&)>>> post_accumulate_grad_hooks;
};

// What a new tensor is: dtype, device and whether it requires grad, like torch's
// TensorOptions. Converts from a Device or a DType alone, so zeros({2,3}, Device::cuda()) and
// zeros({4}, DType::Int64) both read naturally.
struct TensorOptions {
  DType dtype = DType::Float32;
  Device device = Device::cpu();
  bool requires_grad = false;

  TensorOptions() = default;
  TensorOptions(Device d) : device(d) {}  // NOLINT: implicit on purpose
  TensorOptions(DType t) : dtype(t) {}    // NOLINT: implicit on purpose
  TensorOptions with_dtype(DType t) const { TensorOptions o = *this; o.dtype = t; return o; }
  TensorOptions with_device(Device d) const { TensorOptions o = *this; o.device = d; return o; }
  TensorOptions with_requires_grad(bool on = true) const {
    TensorOptions o = *this;
    o.requires_grad = on;
    return o;
  }
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialised memory (from the caching allocator).
  static Tensor empty(const Shape& shape, Device device = Device::cpu());
  static Tensor empty(const Shape& shape, const TensorOptions& options);
  static Tensor zeros(const Shape& shape, Device device = Device::cpu());
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu());
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                            Device device = Device::cpu());
  // from_vector({1, 2.5f}, {2}): a braced list is float32 (write std::vector<int64_t>{...}
  // for labels).
  static Tensor from_vector(std::initializer_list<float> values, const Shape& shape,
                            Device device = Device::cpu()) {
    return from_vector(std::vector<float>(values), shape, device);
  }
  // An int64 tensor (labels, indices).
  static Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape,
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
  DType dtype() const;
  TensorOptions options() const;  // this tensor's dtype and device (requires_grad false)

  // Pointer to the first element, on the tensor's device. data() is for float32 tensors;
  // data_ptr<T>() checks that T matches the dtype (int64_t, uint8_t for bool) and throws
  // DTypeError otherwise.
  float* data() const { return data_ptr<float>(); }
  template <class T> T* data_ptr() const {
    check_dtype(dtype_of<T>::value, "data_ptr");
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;
  void check_dtype(DType expected, const char* who) const;  // DTypeError if not `expected`

  // Copies to the host; to_vector() converts from any dtype to float, values_as<T>() to T.
  std::vector<float> to_vector() const;
  template <class T> std::vector<T> values_as() const;
  float item() const;                       // the value of a one-element tensor, as float
  template <class T> T item() const { return item_as<T>(); }  // t.item<int64_t>()

  Tensor to(Device device) const;  // a copy on `device` (itself if already there)
  Tensor to(DType dtype) const;    // a converted copy (itself if already that dtype); cast()
  Tensor clone() const;            // a copy, detached from the graph
  Tensor detach() const;           // shares memory, no grad_fn
  // In-place writes. Each bumps the memory's version counter (see SavedTensor).
  void copy_(const Tensor& src);   // element-wise copy of an equal-sized, same-dtype tensor, any devices
  void fill_(float value);         // any dtype (the value converted as static_cast does)
  void copy_from_host(const float* src, int64_t count);
  void copy_from_host(const int64_t* src, int64_t count);
  // In-place arithmetic, as x.add_(y) / x.mul_(0.5) in PyTorch (other broadcasts to x's
  // shape). Not recorded by autograd: on a tensor that requires grad, with grad mode on, they
  // raise AutogradError (PyTorch: "a leaf Variable that requires grad is used in an in-place
  // operation"). core/ops/inplace.cpp.
  Tensor& add_(const Tensor& other);
  Tensor& sub_(const Tensor& other);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);
  Tensor& add_(double value);
  Tensor& mul_(double value);
  Tensor& zero_();
  uint64_t version() const;        // the memory's version counter
  void bump_version() const;       // for kernels that write in place (optimizers)

  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);
  Tensor grad() const;  // undefined until backward() reaches this tensor
  void set_grad(const Tensor& g) const;
  void zero_grad() const;  // drops the gradient (set to none, as PyTorch's default)
  std::shared_ptr<Node> grad_fn() const;

  // Backpropagates from this scalar (or with an explicit output gradient).
  void backward() const;
  void backward(const Tensor& grad_output) const;

  // Backpropagates, keeping the graph for another backward (PyTorch's retain_graph=True).
  void backward(const Tensor& grad_output, bool retain_graph) const;

  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
  std::string str() const;  // "Tensor[2,3] cpu" ("Tensor[4] int64 cpu" for other dtypes)

 private:
  template <class T> T item_as() const;
  std::shared_ptr<TensorImpl> impl_;
};

// Prints values like PyTorch: tensor([[1.0000, 2.0000], ...]) with "..." summaries for large
// tensors, then shape, dtype and device (core/tensor_print.cpp).
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Host <-> device byte copies, dispatched on the two devices.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

}  // namespace dlcraft
