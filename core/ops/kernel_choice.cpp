// Which kernels the ops run: the one global choice, read by core/ops/conv2d.cpp and linear.cpp
// at forward time (backward uses what its forward used).
#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/threads.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {
CpuKernels g_cpu_kernels = CpuKernels::Fast;
CudaKernels g_cuda_kernels = CudaKernels::Ours;
ConvAlgorithm g_conv_algorithm = ConvAlgorithm::Im2col;

// Auto's picks, per layer shape (n, c, h, w, k, pad_h, pad_w) of a 3x3 stride-1 conv and
// thread count (set_num_threads may change which is fastest).
using ShapeKey = std::array<int, 8>;
std::mutex g_picks_mutex;
std::map<ShapeKey, ConvAlgorithm> g_picks;

// Runs one forward of s with algorithm a.
void run_forward(ConvAlgorithm a, const Conv2dShape& s, const float* x, const float* w, const float* b, float* y) {
  if (a == ConvAlgorithm::Im2col)
    conv2d_forward_cpu(s, x, w, b, y);
  else
    conv2d_forward_winograd_cpu(a == ConvAlgorithm::Winograd2 ? 2 : 4, s, x, w, b, y);
}

// Times one forward of each algorithm on buffers of the layer's size (after one untimed run
// that grows the kernels' scratch and touches the pages) and returns the fastest.
ConvAlgorithm time_algorithms(const Conv2dShape& s) {
  // Values do not change the time (no zeros-only shortcuts in the kernels, no denormals).
  auto filled = [](int64_t count) {
    std::vector<float> v(static_cast<size_t>(count));
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(int(i % 17) - 8) / 8.0f;
    return v;
  };
  const std::vector<float> x = filled(int64_t(s.n) * s.c * s.h * s.w), w = filled(int64_t(s.k) * s.c * 9),
                           b = filled(s.k);
  std::vector<float> y(static_cast<size_t>(int64_t(s.n) * s.k * s.out_h() * s.out_w()));
  ConvAlgorithm best = ConvAlgorithm::Im2col;
  double best_time = 0;
  for (ConvAlgorithm a : {ConvAlgorithm::Im2col, ConvAlgorithm::Winograd2, ConvAlgorithm::Winograd4}) {
    run_forward(a, s, x.data(), w.data(), b.data(), y.data());
    const auto start = std::chrono::steady_clock::now();
    run_forward(a, s, x.data(), w.data(), b.data(), y.data());
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (a == ConvAlgorithm::Im2col || t < best_time) {
      best = a;
      best_time = t;
    }
  }
  return best;
}
}  // namespace

void set_cpu_kernels(CpuKernels k) { g_cpu_kernels = k; }
CpuKernels cpu_kernels() { return g_cpu_kernels; }

void set_cuda_kernels(CudaKernels k) {
  if (k == CudaKernels::Vendor && !cuda_vendor_available())
    throw DeviceError("the cuDNN/cuBLAS backend was not found when dlcraft was built");
  g_cuda_kernels = k;
}
CudaKernels cuda_kernels() { return g_cuda_kernels; }

void set_conv_algorithm(ConvAlgorithm a) {
  std::lock_guard<std::mutex> lock(g_picks_mutex);
  g_conv_algorithm = a;
  g_picks.clear();
}
ConvAlgorithm conv_algorithm() { return g_conv_algorithm; }

ConvAlgorithm conv_algorithm_for(const Shape& x, const Shape& weight, Size2 stride, Size2 padding) {
  if (x.size() != 4 || weight.size() != 4)
    throw ShapeError("conv_algorithm_for: input " + to_string(x) + " and weight " + to_string(weight) +
                     " must both have 4 dimensions");
  const Conv2dShape s{int(x[0]), int(x[1]), int(x[2]), int(x[3]), int(weight[0]), int(weight[2]), int(weight[3]),
                      stride.h, stride.w, padding.h, padding.w};
  if (!conv2d_winograd_eligible(s) || s.out_h() < 1 || s.out_w() < 1) return ConvAlgorithm::Im2col;
  std::lock_guard<std::mutex> lock(g_picks_mutex);
  if (g_conv_algorithm != ConvAlgorithm::Auto) return g_conv_algorithm;
  const ShapeKey key{s.n, s.c, s.h, s.w, s.k, s.pad_h, s.pad_w, num_threads()};
  auto it = g_picks.find(key);
  if (it == g_picks.end()) it = g_picks.emplace(key, time_algorithms(s)).first;
  return it->second;
}

}  // namespace dlcraft
