// Which kernels the ops run: the one global choice, read by core/ops/conv2d.cpp and linear.cpp
// at forward time (backward uses what its forward used).
#include <algorithm>
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
ConvAlgorithm g_conv_algorithm = ConvAlgorithm::Auto;

// Benchmark's picks, per layer shape (n, c, h, w, k, pad_h, pad_w) of a 3x3 stride-1 conv and
// thread count (set_num_threads may change which is fastest).
using ShapeKey = std::array<int, 8>;
std::mutex g_picks_mutex;
std::map<ShapeKey, ConvAlgorithm> g_picks;

// Auto's rule (ops.hpp), from timing the three passes of each algorithm on 2 AVX-512 cores
// at batch 1 to 128 (bench --conv-passes, docs/winograd.md):
// - under 16 input channels im2col's GEMM is short and Winograd's transforms cost more than
//   they save;
// - Winograd works on blocks of tiles, one GEMM per tile element over a block: with fewer
//   than 64 output tiles in the whole batch (8x8 images at batch 8 give 32 of F(4x4)'s
//   4x4 tiles) those GEMMs are too thin to pay, and im2col wins;
// - on outputs under 8x8, F(4x4)'s few tiles are mostly padding and F(2x2) wins.
// The rule does not look at the thread count, so a model picks the same with any --threads.
ConvAlgorithm rule_for(const Conv2dShape& s) {
  constexpr int64_t kMinTiles = 64;
  auto tiles = [&](int m) {
    return int64_t(s.n) * ((s.out_h() + m - 1) / m) * ((s.out_w() + m - 1) / m);
  };
  if (s.c < 16) return ConvAlgorithm::Im2col;
  if (std::min(s.out_h(), s.out_w()) >= 8 && tiles(4) >= kMinTiles) return ConvAlgorithm::Winograd4;
  if (tiles(2) >= kMinTiles) return ConvAlgorithm::Winograd2;
  return ConvAlgorithm::Im2col;
}

// One training step's conv work with algorithm a: forward, backward to the input and to the
// weight (what a layer costs per step; an algorithm can be fast forward and slow backward).
void run_passes(ConvAlgorithm a, const Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
                float* dx, float* dw, float* db) {
  if (a == ConvAlgorithm::Im2col) {
    conv2d_forward_cpu(s, x, w, b, y);
    conv2d_backward_input_cpu(s, y, w, dx);
    conv2d_backward_weight_cpu(s, x, y, dw, db);
  } else {
    const int tile = a == ConvAlgorithm::Winograd2 ? 2 : 4;
    conv2d_forward_winograd_cpu(tile, s, x, w, b, y);
    conv2d_backward_input_winograd_cpu(tile, s, y, w, dx);
    conv2d_backward_weight_winograd_cpu(tile, s, x, y, dw, db);
  }
}

// Times the passes of each algorithm on buffers of the layer's size (after one untimed run
// that grows the kernels' scratch and touches the pages; best of two, so one interruption
// does not decide) and returns the fastest.
ConvAlgorithm time_algorithms(const Conv2dShape& s) {
  // Values do not change the time (no zeros-only shortcuts in the kernels, no denormals).
  auto filled = [](int64_t count) {
    std::vector<float> v(static_cast<size_t>(count));
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(int(i % 17) - 8) / 8.0f;
    return v;
  };
  const std::vector<float> x = filled(int64_t(s.n) * s.c * s.h * s.w), w = filled(int64_t(s.k) * s.c * 9),
                           b = filled(s.k);
  std::vector<float> y(static_cast<size_t>(int64_t(s.n) * s.k * s.out_h() * s.out_w())), dx(x.size()), dw(w.size()),
      db(b.size());
  ConvAlgorithm best = ConvAlgorithm::Im2col;
  double best_time = 0;
  for (ConvAlgorithm a : {ConvAlgorithm::Im2col, ConvAlgorithm::Winograd2, ConvAlgorithm::Winograd4}) {
    double t = 0;
    for (int run = 0; run < 3; ++run) {
      const auto start = std::chrono::steady_clock::now();
      run_passes(a, s, x.data(), w.data(), b.data(), y.data(), dx.data(), dw.data(), db.data());
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (run == 1 || (run == 2 && seconds < t)) t = seconds;  // run 0 only warms up
    }
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
  if (g_conv_algorithm == ConvAlgorithm::Auto) return rule_for(s);
  if (g_conv_algorithm != ConvAlgorithm::Benchmark) return g_conv_algorithm;
  const ShapeKey key{s.n, s.c, s.h, s.w, s.k, s.pad_h, s.pad_w, num_threads()};
  auto it = g_picks.find(key);
  if (it == g_picks.end()) it = g_picks.emplace(key, time_algorithms(s)).first;
  return it->second;
}

}  // namespace dlcraft
