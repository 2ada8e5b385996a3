// operator<< for tensors, after PyTorch's printing: values in nested brackets, one common width
// per tensor, "..." in place of the middle of each dimension once a tensor has more than 1000
// elements (3 shown at each end, PyTorch's edgeitems), then shape, dtype and device.
//   tensor([[ 0.1000, -2.0000],
//           [ 3.5000,  4.0000]], shape=[2,2], dtype=float32, device=cpu)
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/tensor.hpp"

namespace dlcraft {

namespace {

constexpr int64_t kThreshold = 1000;  // summarise above this many elements
constexpr int64_t kEdge = 3;          // elements shown at each end of a summarised dimension

// The float format for the whole tensor, chosen as PyTorch does: integers print as "3.",
// a wide range of magnitudes in scientific notation, the rest with 4 decimals.
struct FloatFormat {
  enum Kind { Integer, Fixed, Scientific } kind = Fixed;
};

FloatFormat choose_format(const std::vector<double>& v) {
  FloatFormat f;
  bool all_int = true;
  double lo = INFINITY, hi = 0;
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    if (x != std::floor(x)) all_int = false;
    const double a = std::fabs(x);
    if (a > 0) lo = std::min(lo, a);
    hi = std::max(hi, a);
  }
  if (all_int) {
    f.kind = hi >= 1e8 ? FloatFormat::Scientific : FloatFormat::Integer;
  } else if (hi >= 1e8 || (lo < 1e-4) || (lo > 0 && hi / lo > 1000)) {
    f.kind = FloatFormat::Scientific;
  }
  return f;
}

std::string format_value(double x, DType dtype, FloatFormat f) {
  char buf[64];
  if (dtype == DType::Bool) return x != 0 ? "True" : "False";
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  switch (f.kind) {
    case FloatFormat::Integer: std::snprintf(buf, sizeof buf, "%.0f.", x); break;
    case FloatFormat::Fixed: std::snprintf(buf, sizeof buf, "%.4f", x); break;
    case FloatFormat::Scientific: std::snprintf(buf, sizeof buf, "%.4e", x); break;
  }
  return buf;
}

// The indices shown along a dimension of size n: all, or the first and last kEdge with -1
// marking the "...".
std::vector<int64_t> shown(int64_t n, bool summarise) {
  std::vector<int64_t> idx;
  if (!summarise || n <= 2 * kEdge) {
    for (int64_t i = 0; i < n; ++i) idx.push_back(i);
  } else {
    for (int64_t i = 0; i < kEdge; ++i) idx.push_back(i);
    idx.push_back(-1);
    for (int64_t i = n - kEdge; i < n; ++i) idx.push_back(i);
  }
  return idx;
}

struct Printer {
  const Shape& shape;
  const std::vector<double>& values;
  const std::vector<int64_t>& ints;  // int64 tensors: exact (a double holds 53 bits only)
  DType dtype;
  FloatFormat format;
  bool summarise;
  size_t width = 0;
  std::string out;

  std::string element(int64_t offset) const {
    if (dtype == DType::Int64) return std::to_string(ints[offset]);
    return format_value(values[offset], dtype, format);
  }

  // Elements shown, for the common width.
  void measure(size_t d, int64_t offset, int64_t stride_prod) {
    if (d == shape.size()) {
      width = std::max(width, element(offset).size());
      return;
    }
    const int64_t inner = stride_prod / shape[d];
    for (int64_t i : shown(shape[d], summarise))
      if (i >= 0) measure(d + 1, offset + i * inner, inner);
  }

  // Dimension d of the block starting at `offset`; `indent` is the column after "tensor(".
  void print(size_t d, int64_t offset, int64_t stride_prod, size_t indent) {
    if (d == shape.size()) {
      std::string s = element(offset);
      out += std::string(width - s.size(), ' ') + s;
      return;
    }
    out += "[";
    const int64_t inner = stride_prod / shape[d];
    const std::vector<int64_t> idx = shown(shape[d], summarise);
    const bool last_dim = d + 1 == shape.size();
    for (size_t k = 0; k < idx.size(); ++k) {
      if (k > 0) {
        out += ",";
        if (last_dim) {
          out += " ";
        } else {
          out += std::string(shape.size() - d - 1, '\n');
          out += std::string(indent + d + 1, ' ');
        }
      }
      if (idx[k] < 0)
        out += last_dim ? " ..." : "...";  // PyTorch's spacing
      else
        print(d + 1, offset + idx[k] * inner, inner, indent);
    }
    out += "]";
  }
};

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  // One copy to the host: int64 exactly, the others as double.
  const bool int64 = t.dtype() == DType::Int64;
  const std::vector<double> values = int64 ? std::vector<double>{} : t.values_as<double>();
  const std::vector<int64_t> ints = int64 ? t.values_as<int64_t>() : std::vector<int64_t>{};
  Printer p{t.shape(), values, ints, t.dtype(), FloatFormat{}, t.numel() > kThreshold, 0, ""};
  if (t.dtype() == DType::Float32) p.format = choose_format(values);
  const std::string head = "tensor(";
  if (t.dim() == 0) {
    p.out = p.element(0);
  } else if (t.numel() == 0) {
    p.out = "[]";
  } else {
    p.measure(0, 0, t.numel());
    p.print(0, 0, t.numel(), head.size());
  }
  os << head << p.out << ", shape=" << to_string(t.shape()) << ", dtype=" << to_string(t.dtype())
     << ", device=" << t.device().str();
  if (t.grad_fn())
    os << ", grad_fn=<" << t.grad_fn()->name << ">";
  else if (t.requires_grad())
    os << ", requires_grad=True";
  return os << ")";
}

}  // namespace dlcraft
