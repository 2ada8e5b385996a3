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
  for (int64_t d : shape)
    if (d < 0) throw ShapeError("tensor with a negative dimension: " + to_string(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->buffer = std::make_shared<Buffer>(device, sizeof(float) * dlcraft::numel(shape));
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

float* Tensor::data() const { return static_cast<float*>(checked(impl_)->buffer->data()); }

std::vector<float> Tensor::to_vector() const {
  std::vector<float> out(numel());
  copy_bytes(out.data(), Device::cpu(), data(), device(), out.size() * sizeof(float));
  return out;
}

float Tensor::item() const {
  if (numel() != 1) throw ShapeError("item() of a tensor of shape " + to_string(shape()));
  return to_vector()[0];
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor out = empty(shape(), d);
  out.copy_(*this);
  out.impl_->requires_grad = requires_grad();
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape();
  impl->buffer = impl_->buffer;
  return Tensor(impl);
}

void Tensor::copy_(const Tensor& src) {
  if (src.numel() != numel())
    throw ShapeError("copy_: source " + to_string(src.shape()) + " vs destination " +
                     to_string(shape()));
  copy_bytes(data(), device(), src.data(), src.device(), numel() * sizeof(float));
}

void Tensor::copy_from_host(const float* src, int64_t count) {
  if (count != numel())
    throw ShapeError("copy_from_host: " + std::to_string(count) + " values for shape " +
                     to_string(shape()));
  copy_bytes(data(), device(), src, Device::cpu(), count * sizeof(float));
}

void Tensor::fill_(float value) {
  if (device().is_cpu())
    fill_cpu(numel(), value, data());
  else
    fill_cuda(numel(), value, data());
}

bool Tensor::requires_grad() const { return checked(impl_)->requires_grad; }

Tensor& Tensor::requires_grad_(bool on) {
  checked(impl_)->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return Tensor(checked(impl_)->grad); }

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined() && (g.shape() != shape() || g.device() != device()))
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

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  return "Tensor" + to_string(shape()) + " " + device().str();
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu())
    std::memcpy(dst, src, bytes);
  else
    copy_cuda(dst, dst_device.is_cuda(), src, src_device.is_cuda(), bytes);
}

}  // namespace dlcraft
