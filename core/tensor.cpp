#include "core/tensor.hpp"

#include <cstring>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

namespace {
const std::shared_ptr<TensorImpl>& checked(const std::shared_ptr<TensorImpl>& impl) {
  if (!impl) throw ArgumentError("use of an undefined tensor");
  return impl;
}
}  // namespace

Tensor Tensor::empty(const Shape& shape, Device device) {
  return empty(shape, TensorOptions(device));
}

Tensor Tensor::empty(const Shape& shape, const TensorOptions& options) {
  for (int64_t d : shape)
    if (d < 0) throw ShapeError("tensor with a negative dimension: " + to_string(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = options.dtype;
  impl->buffer =
      std::make_shared<Buffer>(options.device, element_size(options.dtype) * dlcraft::numel(shape));
  impl->requires_grad = options.requires_grad;
  return Tensor(impl);
}

Tensor Tensor::zeros(const Shape& shape, Device device) { return full(shape, 0.0f, device); }

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  if (static_cast<int64_t>(values.size()) != dlcraft::numel(shape))
    throw ShapeError("from_vector: " + std::to_string(values.size()) + " values for shape " +
                     to_string(shape));
  Tensor t = empty(shape, device);
  t.copy_from_host(values.data(), static_cast<int64_t>(values.size()));
  return t;
}

Tensor Tensor::from_vector(const std::vector<int64_t>& values, const Shape& shape, Device device) {
  if (static_cast<int64_t>(values.size()) != dlcraft::numel(shape))
    throw ShapeError("from_vector: " + std::to_string(values.size()) + " values for shape " +
                     to_string(shape));
  Tensor t = empty(shape, TensorOptions(DType::Int64).with_device(device));
  t.copy_from_host(values.data(), static_cast<int64_t>(values.size()));
  return t;
}

Tensor Tensor::uniform(const Shape& shape, float lo, float hi, Generator& gen, Device device) {
  std::vector<float> v(dlcraft::numel(shape));
  for (float& x : v) x = gen.uniform(lo, hi);
  return from_vector(v, shape, device);
}

Tensor Tensor::normal(const Shape& shape, Generator& gen, Device device) {
  std::vector<float> v(dlcraft::numel(shape));
  for (float& x : v) x = gen.normal();
  return from_vector(v, shape, device);
}

const Shape& Tensor::shape() const { return checked(impl_)->shape; }

int64_t Tensor::size(int64_t d) const {
  int64_t r = dim();
  if (d < 0) d += r;
  if (d < 0 || d >= r)
    throw ShapeError("dimension " + std::to_string(d) + " out of range for " + to_string(shape()));
  return shape()[d];
}

Device Tensor::device() const { return checked(impl_)->buffer->device(); }
DType Tensor::dtype() const { return checked(impl_)->dtype; }
TensorOptions Tensor::options() const { return TensorOptions(dtype()).with_device(device()); }

void* Tensor::raw_data() const { return checked(impl_)->buffer->data(); }

void Tensor::check_dtype(DType expected, const char* who) const {
  if (dtype() != expected)
    throw DTypeError(std::string(who) + ": tensor " + to_string(shape()) + " is " +
                     to_string(dtype()) + ", expected " + to_string(expected));
}

namespace {
// The tensor's elements on the host as T, whatever its dtype.
template <class T, class S>
void convert(const void* src, int64_t n, std::vector<T>& out) {
  const S* p = static_cast<const S*>(src);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(p[i]);
}
}  // namespace

template <class T>
std::vector<T> Tensor::values_as() const {
  const size_t bytes = element_size(dtype()) * numel();
  std::vector<unsigned char> raw(bytes);
  copy_bytes(raw.data(), Device::cpu(), raw_data(), device(), bytes);
  std::vector<T> out(numel());
  switch (dtype()) {
    case DType::Float32: convert<T, float>(raw.data(), numel(), out); break;
    case DType::Int64: convert<T, int64_t>(raw.data(), numel(), out); break;
    case DType::Bool: convert<T, uint8_t>(raw.data(), numel(), out); break;
  }
  return out;
}
template std::vector<float> Tensor::values_as<float>() const;
template std::vector<double> Tensor::values_as<double>() const;
template std::vector<int64_t> Tensor::values_as<int64_t>() const;
template std::vector<int32_t> Tensor::values_as<int32_t>() const;
template std::vector<uint8_t> Tensor::values_as<uint8_t>() const;

std::vector<float> Tensor::to_vector() const {
  if (dtype() != DType::Float32) return values_as<float>();
  std::vector<float> out(numel());
  copy_bytes(out.data(), Device::cpu(), data(), device(), out.size() * sizeof(float));
  return out;
}

template <class T>
T Tensor::item_as() const {
  if (numel() != 1) throw ShapeError("item() of a tensor of shape " + to_string(shape()));
  return values_as<T>()[0];
}
template float Tensor::item_as<float>() const;
template double Tensor::item_as<double>() const;
template int64_t Tensor::item_as<int64_t>() const;
template int32_t Tensor::item_as<int32_t>() const;
template uint8_t Tensor::item_as<uint8_t>() const;

float Tensor::item() const { return item_as<float>(); }

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor out = empty(shape(), options().with_device(d));
  out.copy_(*this);
  out.impl_->requires_grad = requires_grad();
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), options());
  out.copy_(*this);
  return out;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape();
  impl->dtype = dtype();
  impl->buffer = impl_->buffer;
  return Tensor(impl);
}

void Tensor::copy_(const Tensor& src) {
  if (src.numel() != numel())
    throw ShapeError("copy_: source " + to_string(src.shape()) + " vs destination " +
                     to_string(shape()));
  if (src.dtype() != dtype())
    throw DTypeError("copy_: source is " + to_string(src.dtype()) + ", destination " +
                     to_string(dtype()) + " (convert with to(DType) first)");
  copy_bytes(raw_data(), device(), src.raw_data(), src.device(), numel() * element_size(dtype()));
  bump_version();
}

void Tensor::copy_from_host(const float* src, int64_t count) {
  if (count != numel())
    throw ShapeError("copy_from_host: " + std::to_string(count) + " values for shape " +
                     to_string(shape()));
  copy_bytes(data(), device(), src, Device::cpu(), count * sizeof(float));
  bump_version();
}

void Tensor::copy_from_host(const int64_t* src, int64_t count) {
  if (count != numel())
    throw ShapeError("copy_from_host: " + std::to_string(count) + " values for shape " +
                     to_string(shape()));
  copy_bytes(data_ptr<int64_t>(), device(), src, Device::cpu(), count * sizeof(int64_t));
  bump_version();
}

void Tensor::fill_(float value) {
  if (dtype() == DType::Float32) {
    if (device().is_cpu())
      fill_cpu(numel(), value, data());
    else
      fill_cuda(numel(), value, data());
  } else {
    // int64/bool: filled on the host and copied (creation, not a hot path).
    const size_t es = element_size(dtype());
    std::vector<unsigned char> raw(es * numel());
    for (int64_t i = 0; i < numel(); ++i) {
      if (dtype() == DType::Int64) {
        const int64_t v = static_cast<int64_t>(value);
        std::memcpy(&raw[i * es], &v, es);
      } else {
        raw[i] = value != 0.0f;
      }
    }
    copy_bytes(raw_data(), device(), raw.data(), Device::cpu(), raw.size());
  }
  bump_version();
}

uint64_t Tensor::version() const { return checked(impl_)->buffer->version(); }
void Tensor::bump_version() const { checked(impl_)->buffer->bump_version(); }

bool Tensor::requires_grad() const { return checked(impl_)->requires_grad; }

Tensor& Tensor::requires_grad_(bool on) {
  if (on && dtype() != DType::Float32)
    throw DTypeError("requires_grad_: only float32 tensors can require gradients, this one is " +
                     to_string(dtype()));
  checked(impl_)->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return Tensor(checked(impl_)->grad); }

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined() && (g.shape() != shape() || g.device() != device() || g.dtype() != dtype()))
    throw ShapeError("set_grad: gradient " + g.str() + " for tensor " + str());
  checked(impl_)->grad = g.impl();
}

void Tensor::zero_grad() const { checked(impl_)->grad.reset(); }

std::shared_ptr<Node> Tensor::grad_fn() const { return checked(impl_)->grad_fn; }

void Tensor::backward() const {
  if (numel() != 1)
    throw ShapeError("backward() without a gradient needs a one-element tensor, got " +
                     to_string(shape()));
  run_backward(*this, Tensor::full(shape(), 1.0f, device()));
}

void Tensor::backward(const Tensor& grad_output) const { run_backward(*this, grad_output); }
void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  run_backward(*this, grad_output, retain_graph);
}

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  const std::string type = dtype() == DType::Float32 ? "" : " " + to_string(dtype());
  return "Tensor" + to_string(shape()) + type + " " + device().str();
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu())
    std::memcpy(dst, src, bytes);
  else
    copy_cuda(dst, dst_device.is_cuda(), src, src_device.is_cuda(), bytes);
}

}  // namespace dlcraft
