// The GPU tests: every CUDA op against the CPU on random shapes (odd sizes, stride 2, padding
// 0/1/2, batch 1 and 33) and at the notes' model shapes, the vendor backend (cuDNN/cuBLAS)
// where the build has it, GEMM against a double loop, the optimizers, augmentation on the GPU,
// a full training step, a short training run, the allocator's steady state and out of memory.
//
// Its own main: without a GPU (or in a CPU-only build) it prints why and returns 77, which
// ctest reports as skipped (SKIP_RETURN_CODE 77). With a GPU, fresh memory is poisoned
// (NaN), so an output element a kernel forgets to write fails its comparison.
//
// The CPU side runs the reference loops for small shapes and the fast kernels for large ones.
// Errors are max|gpu - cpu| / max(max|cpu|, 1e-3): below 1e-4 for GEMM-based results (2e-4
// when the reduction is longer than 2048), exact for ReLU, add, max-pool and argmax.
//
// Tags: [memcheck] marks the quick tests scripts/gpu_check.sh runs under compute-sanitizer.
// DLCRAFT_TEST_NO_VENDOR=1 leaves out the cuDNN/cuBLAS comparisons (ours only).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "train/training.hpp"
#include "core/allocator.hpp"
#include "core/autograd.hpp"
#include "core/device.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "core/tensor.hpp"
#include "datasets/dataloader.hpp"
#include "datasets/dataset.hpp"
#include "datasets/gpu_loader.hpp"
#include "datasets/transforms.hpp"
#include "gradcheck.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/shapes.hpp"
#include "layers/cnn.hpp"
#include "layers/layers.hpp"
#include "optim/optimizer.hpp"
#include "test_data.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

using Floats = std::vector<float>;

const Device kGpu = Device::cuda();
const Device kCpu = Device::cpu();

Floats randn(size_t n, Generator& g, float scale = 1.0f) {
  Floats v(n);
  for (float& x : v) x = scale * g.normal();
  return v;
}

double max_abs(const Floats& v) {
  double m = 0;
  for (float x : v) m = std::max(m, double(std::fabs(x)));
  return m;
}

// max|got - ref| / max(max|ref|, 1e-3); infinite when the sizes differ or got holds a NaN/Inf
// (a poisoned element no kernel wrote).
double rel_err(const Floats& got, const Floats& ref) {
  if (got.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double err = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return std::numeric_limits<double>::infinity();
    err = std::max(err, std::fabs(double(got[i]) - double(ref[i])));
  }
  return err / std::max(max_abs(ref), 1e-3);
}

// "" when `same` holds element for element; else how many differ and the first one.
template <typename Same>
std::string diff_where(const Floats& got, const Floats& ref, Same same, const char* how) {
  if (got.size() != ref.size())
    return "sizes differ: " + std::to_string(got.size()) + " vs " + std::to_string(ref.size());
  size_t count = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!same(got[i], ref[i])) {
      if (count == 0) first = i;
      ++count;
    }
  if (count == 0) return "";
  std::ostringstream s;
  s << count << " of " << got.size() << " elements differ" << how << "; first at " << first << ": "
    << got[first] << " vs " << ref[first];
  return s.str();
}

// Equal as numbers (-0 == 0; NaN never equal).
std::string exact_diff(const Floats& got, const Floats& ref) {
  return diff_where(got, ref, [](float a, float b) { return a == b; }, "");
}

// Bit for bit: NaN must meet NaN (same payload), -0 must meet -0.
std::string bits_diff(const Floats& got, const Floats& ref) {
  return diff_where(got, ref, [](float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; },
                    " in their bits");
}

// Tolerance for a float32 result summed over `k` products.
double gemm_tol(int64_t k) { return k > 2048 ? 2e-4 : 1e-4; }

class CpuKernelsScope {
 public:
  explicit CpuKernelsScope(CpuKernels k) : previous_(cpu_kernels()) { set_cpu_kernels(k); }
  ~CpuKernelsScope() { set_cpu_kernels(previous_); }
  CpuKernelsScope(const CpuKernelsScope&) = delete;
  CpuKernelsScope& operator=(const CpuKernelsScope&) = delete;

 private:
  CpuKernels previous_;
};

// Selects the GPU backend for a scope; back to the previous one (ours) even when a check throws.
class CudaKernelsScope {
 public:
  explicit CudaKernelsScope(CudaKernels k) : previous_(cuda_kernels()) { set_cuda_kernels(k); }
  ~CudaKernelsScope() { set_cuda_kernels(previous_); }
  CudaKernelsScope(const CudaKernelsScope&) = delete;
  CudaKernelsScope& operator=(const CudaKernelsScope&) = delete;

 private:
  CudaKernels previous_;
};

bool vendor_enabled() {
  const char* off = std::getenv("DLCRAFT_TEST_NO_VENDOR");
  if (off && *off && std::string(off) != "0") return false;
  return cuda_vendor_available();
}

// Ours always; the vendor's too when the build has cuDNN and cuBLAS.
std::vector<CudaKernels> gpu_backends() {
  std::vector<CudaKernels> out{CudaKernels::Ours};
  if (vendor_enabled()) out.push_back(CudaKernels::Vendor);
  return out;
}

const char* backend_name(CudaKernels k) {
  return k == CudaKernels::Ours ? "ours" : "vendor (cuDNN/cuBLAS)";
}

Tensor leaf(const Floats& v, const Shape& shape, Device d, bool requires_grad = true) {
  Tensor t = Tensor::from_vector(v, shape, d);
  t.requires_grad_(requires_grad);
  return t;
}

Floats grad_of(const Tensor& t) {
  REQUIRE(t.grad().defined());
  REQUIRE(t.grad().device() == t.device());
  return t.grad().to_vector();
}

// ------------------------------------------------------------------ conv2d

struct ConvData {
  Floats x, w, b, dy;
};
struct ConvOut {
  Floats y, dx, dw, db;
};

std::string conv_str(const Conv2dShape& s) {
  std::ostringstream o;
  o << "conv n " << s.n << " c " << s.c << " h " << s.h << " w " << s.w << " k " << s.k << " r "
    << s.r << " s " << s.s << " stride " << s.stride_h << "," << s.stride_w << " pad " << s.pad_h << ","
    << s.pad_w;
  return o.str();
}

ConvData conv_data(const Conv2dShape& s, Generator& g) {
  const size_t xs = size_t(s.n) * s.c * s.h * s.w, ws = size_t(s.k) * s.c * s.r * s.s;
  const size_t ys = size_t(s.n) * s.k * s.out_h() * s.out_w();
  return {randn(xs, g), randn(ws, g), randn(size_t(s.k), g), randn(ys, g)};
}

// conv2d through the autograd op on `dev`, then backward with the given output gradient.
ConvOut run_conv(const Conv2dShape& s, const ConvData& d, bool bias, bool input_grad, Device dev) {
  Tensor x = leaf(d.x, {s.n, s.c, s.h, s.w}, dev, input_grad);
  Tensor w = leaf(d.w, {s.k, s.c, s.r, s.s}, dev);
  Tensor b = bias ? leaf(d.b, {s.k}, dev) : Tensor();
  Tensor y = conv2d(x, w, b, {s.stride_h, s.stride_w}, {s.pad_h, s.pad_w});
  REQUIRE(y.shape() == Shape{s.n, s.k, s.out_h(), s.out_w()});
  REQUIRE(y.device() == dev);
  y.backward(Tensor::from_vector(d.dy, y.shape(), dev));
  ConvOut o;
  o.y = y.to_vector();
  if (input_grad) {
    o.dx = grad_of(x);
  } else {
    CHECK_FALSE(x.grad().defined());
  }
  o.dw = grad_of(w);
  if (bias) o.db = grad_of(b);
  return o;
}

void check_conv(const Conv2dShape& s, const ConvOut& got, const ConvOut& ref) {
  const int64_t k_forward = int64_t(s.c) * s.r * s.s, k_input = int64_t(s.k) * s.r * s.s;
  const int64_t k_weight = int64_t(s.n) * s.out_h() * s.out_w();
  CHECK(rel_err(got.y, ref.y) < gemm_tol(k_forward));
  if (!ref.dx.empty()) CHECK(rel_err(got.dx, ref.dx) < gemm_tol(k_input));
  CHECK(rel_err(got.dw, ref.dw) < gemm_tol(k_weight));
  if (!ref.db.empty()) CHECK(rel_err(got.db, ref.db) < gemm_tol(k_weight));
}

// ------------------------------------------------------------------ linear

struct LinearCase {
  LinearShape s;
  bool bias;
};
struct LinearOut {
  Floats y, dx, dw, db;
};

LinearOut run_linear(const LinearShape& s, bool bias, const Floats& x, const Floats& w,
                     const Floats& b, const Floats& dy, Device dev) {
  Tensor tx = leaf(x, {s.n, s.in}, dev), tw = leaf(w, {s.out, s.in}, dev);
  Tensor tb = bias ? leaf(b, {s.out}, dev) : Tensor();
  Tensor y = linear(tx, tw, tb);
  REQUIRE(y.shape() == Shape{s.n, s.out});
  y.backward(Tensor::from_vector(dy, y.shape(), dev));
  LinearOut o{y.to_vector(), grad_of(tx), grad_of(tw), {}};
  if (bias) o.db = grad_of(tb);
  return o;
}

// ------------------------------------------------------------------ GEMM

struct GemmCase {
  bool ta, tb;
  int m, n, k;
  int pad;  // extra elements at the end of each row (lda/ldb/ldc beyond the minimum)
  float alpha, beta;
  int batch = 1;
  int64_t gap = 0;        // extra elements between a batch's matrices
  bool shared_a = false;  // stride_a = 0: one A for every batch (conv's weight)
  bool sum = false;       // sum_batches
};

std::string gemm_str(const GemmCase& c) {
  std::ostringstream o;
  o << "gemm " << (c.ta ? "A^T" : "A") << " * " << (c.tb ? "B^T" : "B") << " m " << c.m << " n "
    << c.n << " k " << c.k << " pad " << c.pad << " alpha " << c.alpha << " beta " << c.beta
    << " batch " << c.batch << " gap " << c.gap << (c.shared_a ? " shared A" : "")
    << (c.sum ? " summed over batches" : "");
  return o.str();
}

// Runs one case with gemm_cuda (and gemm_cublas for a single matrix when the vendor backend is
// there) against a double-precision loop. The padding around C holds a sentinel the kernels
// must leave alone; with beta == 0, C starts as NaN, which must not be read.
void check_gemm(const GemmCase& gc, Generator& g) {
  INFO(gemm_str(gc));
  const float sentinel = 12345.0f;
  const int rows_a = gc.ta ? gc.k : gc.m, cols_a = gc.ta ? gc.m : gc.k;
  const int rows_b = gc.tb ? gc.n : gc.k, cols_b = gc.tb ? gc.k : gc.n;
  const int lda = cols_a + gc.pad, ldb = cols_b + gc.pad, ldc = gc.n + gc.pad;
  GemmBatch bt;
  bt.batch = gc.batch;
  bt.sum_batches = gc.sum;
  bt.stride_a = gc.shared_a ? 0 : int64_t(rows_a) * lda + gc.gap;
  bt.stride_b = int64_t(rows_b) * ldb + gc.gap;
  bt.stride_c = gc.sum ? 0 : int64_t(gc.m) * ldc + gc.gap;
  const int c_mats = gc.sum ? 1 : gc.batch;
  const size_t size_a = size_t(bt.stride_a) * (gc.batch - 1) + size_t(rows_a) * lda;
  const size_t size_b = size_t(bt.stride_b) * (gc.batch - 1) + size_t(rows_b) * ldb;
  const size_t size_c = size_t(bt.stride_c) * (c_mats - 1) + size_t(gc.m) * ldc;
  const Floats a = randn(size_a, g), b = randn(size_b, g);
  Floats c0(size_c, sentinel);
  std::vector<char> valid(size_c, 0);
  for (int cm = 0; cm < c_mats; ++cm)
    for (int i = 0; i < gc.m; ++i)
      for (int j = 0; j < gc.n; ++j) {
        const size_t idx = size_t(cm) * bt.stride_c + size_t(i) * ldc + j;
        c0[idx] = gc.beta != 0.0f ? g.normal() : std::nanf("");
        valid[idx] = 1;
      }

  // The reference: op(A) as m x k and op(B)^T as n x k in double, so the dot products run
  // along contiguous rows.
  std::vector<double> opa(size_t(gc.m) * gc.k), opbt(size_t(gc.n) * gc.k);
  std::vector<double> acc(size_t(c_mats) * gc.m * gc.n, 0.0);
  for (int bi = 0; bi < gc.batch; ++bi) {
    const float* A = a.data() + size_t(bi) * bt.stride_a;
    const float* B = b.data() + size_t(bi) * bt.stride_b;
    for (int i = 0; i < gc.m; ++i)
      for (int p = 0; p < gc.k; ++p)
        opa[size_t(i) * gc.k + p] = gc.ta ? A[size_t(p) * lda + i] : A[size_t(i) * lda + p];
    for (int j = 0; j < gc.n; ++j)
      for (int p = 0; p < gc.k; ++p)
        opbt[size_t(j) * gc.k + p] = gc.tb ? B[size_t(j) * ldb + p] : B[size_t(p) * ldb + j];
    double* out = acc.data() + (gc.sum ? 0 : size_t(bi) * gc.m * gc.n);
    for (int i = 0; i < gc.m; ++i)
      for (int j = 0; j < gc.n; ++j) {
        const double* ra = opa.data() + size_t(i) * gc.k;
        const double* rb = opbt.data() + size_t(j) * gc.k;
        double s = 0;
        for (int p = 0; p < gc.k; ++p) s += ra[p] * rb[p];
        out[size_t(i) * gc.n + j] += s;
      }
  }
  Floats ref_valid;
  for (int cm = 0; cm < c_mats; ++cm)
    for (int i = 0; i < gc.m; ++i)
      for (int j = 0; j < gc.n; ++j) {
        const size_t idx = size_t(cm) * bt.stride_c + size_t(i) * ldc + j;
        double v = gc.alpha * acc[(size_t(cm) * gc.m + i) * gc.n + j];
        if (gc.beta != 0.0f) v += double(gc.beta) * c0[idx];
        ref_valid.push_back(float(v));
      }
  const int64_t k_total = int64_t(gc.k) * (gc.sum ? gc.batch : 1);

  // Splits a result into its m x n parts and its padding (which must still be the sentinel).
  auto split = [&](const Floats& got, Floats& got_valid) {
    size_t touched = 0;
    got_valid.clear();
    for (size_t i = 0; i < got.size(); ++i) {
      if (valid[i]) got_valid.push_back(got[i]);
      else if (!(got[i] == sentinel)) ++touched;
    }
    return touched;
  };

  Tensor da = Tensor::from_vector(a, {int64_t(size_a)}, kGpu);
  Tensor db = Tensor::from_vector(b, {int64_t(size_b)}, kGpu);
  Tensor dc = Tensor::from_vector(c0, {int64_t(size_c)}, kGpu);
  gemm_cuda(gc.ta, gc.tb, gc.m, gc.n, gc.k, gc.alpha, da.data(), lda, db.data(), ldb, gc.beta,
            dc.data(), ldc, bt);
  Floats ours;
  CHECK(split(dc.to_vector(), ours) == 0u);  // nothing written outside the m x n matrices
  CHECK(rel_err(ours, ref_valid) < gemm_tol(k_total));

  if (gc.batch == 1 && vendor_enabled()) {
    Tensor dc2 = Tensor::from_vector(c0, {int64_t(size_c)}, kGpu);
    gemm_cublas(gc.ta, gc.tb, gc.m, gc.n, gc.k, gc.alpha, da.data(), lda, db.data(), ldb, gc.beta,
                dc2.data(), ldc);
    Floats vendor;
    CHECK(split(dc2.to_vector(), vendor) == 0u);
    CHECK(rel_err(vendor, ref_valid) < gemm_tol(k_total));
    CHECK(rel_err(ours, vendor) < gemm_tol(k_total));
  }
}

}  // namespace

// =================================================================== tensors

TEST_CASE("tensors round-trip between the CPU and the GPU", "[tensor][memcheck]") {
  Generator g(1);
  for (int64_t n : {int64_t(1), int64_t(7), int64_t(1000003)}) {
    INFO("elements " << n);
    const Floats v = randn(size_t(n), g);
    Tensor a = Tensor::from_vector(v, {n}, kGpu);
    CHECK(a.device() == kGpu);
    CHECK(exact_diff(a.to_vector(), v) == "");
    Tensor b = a.clone();  // GPU to GPU
    CHECK(exact_diff(b.to(kCpu).to_vector(), v) == "");
    Tensor c = Tensor::empty({n}, kGpu);
    c.copy_(Tensor::from_vector(v, {n}));  // CPU to GPU
    CHECK(exact_diff(c.to_vector(), v) == "");
    c.fill_(-2.5f);
    CHECK(exact_diff(c.to_vector(), Floats(size_t(n), -2.5f)) == "");
    CHECK(exact_diff(Tensor::zeros({n}, kGpu).to_vector(), Floats(size_t(n), 0.0f)) == "");
    CHECK(exact_diff(b.to_vector(), v) == "");  // the clone kept its own memory
  }
  CHECK(Tensor::full({1}, 3.0f, kGpu).item() == 3.0f);
}

// =================================================================== conv2d

TEST_CASE("conv2d on the GPU matches the CPU on random shapes", "[conv][memcheck]") {
  // n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w
  std::vector<Conv2dShape> shapes = {
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},       // everything 1
      {2, 3, 7, 7, 4, 7, 7, 1, 1, 0, 0},       // kernel as large as the input: a 1x1 output
      {3, 5, 9, 11, 6, 3, 3, 2, 2, 2, 2},      // stride 2, padding 2, odd sizes
      {33, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1},   // the first layer at batch 33
      {1, 64, 8, 8, 70, 3, 3, 1, 1, 1, 1},     // output channels past one 64-wide tile
      {4, 17, 13, 13, 65, 5, 5, 2, 2, 1, 1},
      {2, 130, 6, 6, 129, 3, 3, 1, 1, 1, 1},   // many input and output channels on a small image
      {5, 4, 10, 7, 3, 3, 5, 1, 1, 2, 2},      // a non-square kernel
      {2, 6, 9, 9, 5, 1, 1, 2, 2, 1, 1},       // 1x1 kernel with padding and stride
      {3, 7, 10, 9, 5, 1, 1, 1, 1, 0, 0},      // pointwise 1x1: no im2col
      {2, 5, 11, 8, 6, 3, 5, 2, 1, 1, 2},      // stride (2, 1), padding (1, 2)
      {2, 3, 15, 13, 8, 7, 7, 2, 2, 3, 3},     // ResNet's stem, small
  };
  Generator g(2024);
  const int batches[] = {1, 33, 2, 5};
  const int kernels[] = {1, 2, 3, 5};
  while (shapes.size() < 32) {  // ~20 random ones
    const int r = kernels[g.below(4)];
    const int s = g.below(3) == 0 ? kernels[g.below(4)] : r;
    const int stride = int(1 + g.below(2)), pad = int(g.below(3));
    const bool per_side = g.below(2) == 0;
    Conv2dShape cs{batches[shapes.size() % 4], int(1 + g.below(12)), int(2 + g.below(19)),
                   int(2 + g.below(19)), int(1 + g.below(40)), r, s, stride,
                   per_side ? int(1 + g.below(2)) : stride, pad, per_side ? int(g.below(3)) : pad};
    if (cs.h + 2 * cs.pad_h < cs.r || cs.w + 2 * cs.pad_w < cs.s) continue;
    const double macs = double(cs.n) * cs.k * cs.c * cs.r * cs.s * cs.out_h() * cs.out_w();
    if (macs > 2e7) continue;  // the reference loops stay quick
    shapes.push_back(cs);
  }
  if (!vendor_enabled()) WARN("no cuDNN/cuBLAS in this build (or DLCRAFT_TEST_NO_VENDOR): ours only");

  CpuKernelsScope reference(CpuKernels::Reference);
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Conv2dShape& s = shapes[i];
    const bool bias = i % 5 != 4, input_grad = i % 7 != 6;
    INFO(conv_str(s) << (bias ? "" : "; no bias") << (input_grad ? "" : "; input needs no grad"));
    const ConvData d = conv_data(s, g);
    const ConvOut ref = run_conv(s, d, bias, input_grad, kCpu);
    for (CudaKernels k : gpu_backends()) {
      CudaKernelsScope backend(k);
      INFO("GPU kernels: " << backend_name(k));
      check_conv(s, run_conv(s, d, bias, input_grad, kGpu), ref);
    }
  }
}

TEST_CASE("conv2d on the GPU matches the CPU at the notes model layer shapes", "[conv][model]") {
  // The CNN's six convolutions (3x3, padding 1) at batch 32.
  const Conv2dShape shapes[] = {
      {32, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1},   {32, 16, 32, 32, 32, 3, 3, 1, 1, 1, 1},
      {32, 32, 16, 16, 64, 3, 3, 1, 1, 1, 1},  {32, 64, 16, 16, 128, 3, 3, 1, 1, 1, 1},
      {32, 128, 8, 8, 128, 3, 3, 1, 1, 1, 1},  {32, 128, 8, 8, 256, 3, 3, 1, 1, 1, 1},
  };
  Generator g(32);
  CpuKernelsScope fast(CpuKernels::Fast);
  for (const Conv2dShape& s : shapes) {
    INFO(conv_str(s));
    const ConvData d = conv_data(s, g);
    const ConvOut ref = run_conv(s, d, true, true, kCpu);
    for (CudaKernels k : gpu_backends()) {
      CudaKernelsScope backend(k);
      INFO("GPU kernels: " << backend_name(k));
      check_conv(s, run_conv(s, d, true, true, kGpu), ref);
    }
  }
}

// =================================================================== GEMM

TEST_CASE("gemm_cuda matches a double loop for every transpose and odd sizes", "[gemm][memcheck]") {
  // m, n, k: each of 1, 7, 33, 65, 129, 1000 in each place, exact tiles, and long reductions
  // (split-K when C has few tiles).
  const int dims[][3] = {{1, 1, 1},       {1, 7, 33},       {7, 1, 65},      {33, 65, 1},
                         {65, 33, 7},     {129, 129, 129},  {1000, 7, 33},   {7, 1000, 65},
                         {33, 129, 1000}, {1, 1000, 1000},  {1000, 1, 1000}, {1000, 65, 129},
                         {129, 1000, 65}, {64, 64, 16},     {128, 64, 4096}, {65, 33, 4099}};
  const float alpha_beta[][2] = {{1.0f, 0.0f}, {0.75f, -0.5f}, {-1.25f, 1.0f}, {0.5f, 0.0f}};
  Generator g(77);
  int index = 0;
  for (const auto& d : dims)
    for (int t = 0; t < 4; ++t, ++index) {
      const GemmCase c{(t & 1) != 0, (t & 2) != 0, d[0], d[1], d[2], index % 2 ? 3 : 0,
                       alpha_beta[index % 4][0], alpha_beta[index % 4][1], 1, 0, false, false};
      check_gemm(c, g);
    }
}

TEST_CASE("gemm_cuda batched and summed over batches matches a double loop", "[gemm][memcheck]") {
  // ta, tb, m, n, k, pad, alpha, beta, batch, gap, shared_a, sum
  const GemmCase cases[] = {
      {false, false, 33, 65, 7, 0, 1.0f, 0.0f, 3, 5, false, false},
      {true, false, 7, 33, 129, 3, 0.5f, -1.0f, 4, 0, false, false},
      {false, true, 65, 1, 1000, 0, 1.0f, 0.25f, 3, 7, false, false},
      {true, true, 17, 19, 23, 2, -0.75f, 0.0f, 5, 1, false, false},
      {false, false, 16, 1024, 27, 0, 1.0f, 0.0f, 4, 0, true, false},  // conv forward: one weight
      {false, true, 32, 144, 1024, 0, 1.0f, 0.0f, 8, 0, false, true},  // conv weight gradient
      {false, true, 8, 27, 300, 1, 1.0f, 1.0f, 40, 3, false, true},    // many batches summed
      {true, false, 33, 7, 65, 0, 0.5f, 0.5f, 5, 2, false, true},
      {false, false, 1, 1, 1, 0, 1.0f, 0.0f, 7, 0, false, true},
      {true, true, 129, 65, 33, 3, 1.0f, -0.5f, 2, 0, false, true},
      {false, false, 1000, 7, 33, 0, 2.0f, 0.0f, 1, 0, false, true},   // one batch "summed"
  };
  Generator g(78);
  for (const GemmCase& c : cases) check_gemm(c, g);
}

// =================================================================== linear

TEST_CASE("linear on the GPU matches the CPU", "[linear][memcheck]") {
  std::vector<LinearCase> cases = {
      {{1, 1, 1}, true},       {{33, 7, 65}, true},     {{257, 129, 33}, false},
      {{1, 4096, 2048}, true}, {{32, 4096, 2048}, true}, {{32, 2048, 256}, true},
      {{32, 256, 10}, true},   {{33, 256, 10}, false},
  };
  Generator g(9);
  for (int i = 0; i < 10; ++i)
    cases.push_back({{i % 2 ? 33 : int(1 + g.below(70)), int(1 + g.below(300)), int(1 + g.below(200))},
                     i % 4 != 3});
  for (const LinearCase& c : cases) {
    const LinearShape& s = c.s;
    INFO("linear n " << s.n << " in " << s.in << " out " << s.out << (c.bias ? "" : "; no bias"));
    const Floats x = randn(size_t(s.n) * s.in, g), w = randn(size_t(s.out) * s.in, g),
                 b = randn(size_t(s.out), g), dy = randn(size_t(s.n) * s.out, g);
    const bool small = double(s.n) * s.in * s.out < 2e6;
    LinearOut ref;
    {
      CpuKernelsScope cpu(small ? CpuKernels::Reference : CpuKernels::Fast);
      ref = run_linear(s, c.bias, x, w, b, dy, kCpu);
    }
    for (CudaKernels k : gpu_backends()) {
      CudaKernelsScope backend(k);
      INFO("GPU kernels: " << backend_name(k));
      const LinearOut got = run_linear(s, c.bias, x, w, b, dy, kGpu);
      CHECK(rel_err(got.y, ref.y) < gemm_tol(s.in));
      CHECK(rel_err(got.dx, ref.dx) < gemm_tol(s.out));
      CHECK(rel_err(got.dw, ref.dw) < gemm_tol(s.n));
      if (c.bias) CHECK(rel_err(got.db, ref.db) < gemm_tol(s.n));
    }
  }
}

// =================================================================== element-wise

// relu(x) and its input gradient for upstream dy, computed on `device`.
void relu_forward_backward(const Floats& x, const Floats& dy, Device device, Floats& y, Floats& dx) {
  const int64_t n = int64_t(x.size());
  Tensor t = leaf(x, {n}, device);
  Tensor r = relu(t);
  r.backward(Tensor::from_vector(dy, {n}, device));
  y = r.to_vector();
  dx = grad_of(t);
}

TEST_CASE("relu and add on the GPU match the CPU exactly", "[elementwise][memcheck]") {
  Generator g(10);
  for (int64_t n : {int64_t(1), int64_t(7), int64_t(1000003)}) {
    INFO("elements " << n);
    Floats x = randn(size_t(n), g), x2 = randn(size_t(n), g), dy = randn(size_t(n), g);
    for (size_t i = 0; i < x.size(); i += 97) x[i] = (i / 97) % 2 ? 0.0f : -0.0f;  // exact zeros
    Floats y[2], dx[2], s[2], da[2], db[2], res[2];
    const Device devs[2] = {kCpu, kGpu};
    for (int d = 0; d < 2; ++d) {
      relu_forward_backward(x, dy, devs[d], y[d], dx[d]);

      Tensor a = leaf(x, {n}, devs[d]), b = leaf(x2, {n}, devs[d]);
      Tensor sum = add(a, b);
      sum.backward(Tensor::from_vector(dy, {n}, devs[d]));
      s[d] = sum.to_vector();
      da[d] = grad_of(a);
      db[d] = grad_of(b);

      // A residual join: x reaches the output twice, so its gradient is accumulated (added).
      Tensor u = leaf(x, {n}, devs[d]);
      add(relu(u), u).backward(Tensor::from_vector(dy, {n}, devs[d]));
      res[d] = grad_of(u);
    }
    CHECK(exact_diff(y[1], y[0]) == "");
    CHECK(exact_diff(dx[1], dx[0]) == "");
    CHECK(exact_diff(s[1], s[0]) == "");
    CHECK(exact_diff(da[1], dy) == "");
    CHECK(exact_diff(db[1], dy) == "");
    CHECK(exact_diff(res[1], res[0]) == "");
  }
}

TEST_CASE("relu keeps NaN, Inf and -0 on the GPU as on the CPU, bit for bit", "[elementwise][memcheck]") {
  // PyTorch's semantics on both: relu(NaN) = NaN, relu(-0) = -0, and dy passes where x is NaN.
  Generator g(13);
  const float special[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(), -0.0f, 0.0f};
  for (int64_t n : {int64_t(5), int64_t(7), int64_t(1000003)}) {
    INFO("elements " << n);
    Floats x = randn(size_t(n), g), dy = randn(size_t(n), g);
    for (size_t i = 0; i < x.size(); i += 3) x[i] = special[(i / 3) % 5];
    Floats y[2], dx[2];
    const Device devs[2] = {kCpu, kGpu};
    for (int d = 0; d < 2; ++d) relu_forward_backward(x, dy, devs[d], y[d], dx[d]);
    CHECK(bits_diff(y[1], y[0]) == "");
    CHECK(bits_diff(dx[1], dx[0]) == "");
    CHECK(std::isnan(y[1][0]));
    CHECK(dx[1][0] == dy[0]);
  }
}

TEST_CASE("all_finite on the GPU finds NaN and Inf as the CPU does", "[elementwise][memcheck]") {
  Generator g(14);
  const float bad[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity()};
  for (int64_t n : {int64_t(1), int64_t(31), int64_t(33), int64_t(1000003), int64_t(4687500)}) {
    INFO("elements " << n);
    Floats x = randn(size_t(n), g);
    x[0] = std::numeric_limits<float>::max();
    Tensor ok = Tensor::from_vector(x, {n}, kGpu);
    CHECK(all_finite(ok));
    for (int k = 0; k < 3; ++k) {
      for (int64_t at : {int64_t(0), n / 2, n - 1}) {
        Floats y = x;
        y[size_t(at)] = bad[k];
        Tensor t = Tensor::from_vector(y, {n}, kGpu);
        CHECK_FALSE(all_finite(t));
        CHECK(all_finite(t.to(kCpu)) == all_finite(t));
        // One copy back for all the GPU tensors; CPU and undefined ones mixed in.
        CHECK(first_nonfinite({ok, Tensor(), ok.to(kCpu), t, ok, t}) == 3);
        CHECK(first_nonfinite({ok, t.to(kCpu), t}) == 1);
      }
    }
    CHECK(first_nonfinite({ok, ok, Tensor()}) == -1);
  }
  CHECK(all_finite(Tensor::empty({0}, kGpu)));
}

TEST_CASE("the divergence guard names the tensor on the GPU", "[training][memcheck]") {
  manual_seed(15);
  auto net = small_cnn();
  net->to(kGpu);
  Adam adam(net->named_parameters(), {1e-3f});
  Generator g(16);
  Tensor x = Tensor::normal({4, 3, 32, 32}, g).to(kGpu);
  const std::vector<int32_t> labels{1, 2, 3, 4};
  train_step(*net, adam, x, labels, nullptr, {1, 1});
  const auto named = net->named_parameters();
  // A gradient with an Inf: named, before the update.
  Tensor p = named[2].second;
  Floats gv(size_t(p.numel()), 0.0f);
  gv[gv.size() / 2] = std::numeric_limits<float>::infinity();
  p.set_grad(Tensor::from_vector(gv, p.shape(), kGpu));
  CHECK_THROWS_WITH(check_finite_parameters(*net, true, {2, 9}),
                    "the gradient of " + named[2].first + " has NaN/Inf at epoch 2, step 9: training stopped (try a smaller --lr)");
  CHECK_NOTHROW(check_finite_parameters(*net, false));
  // A NaN weight: named by the parameter check, and it makes the loss NaN (ReLU keeps it).
  Floats w = named[1].second.to_vector();
  w[0] = std::numeric_limits<float>::quiet_NaN();
  Tensor bias = named[1].second;
  bias.copy_from_host(w.data(), int64_t(w.size()));
  CHECK_THROWS_WITH(check_finite_parameters(*net, false), named[1].first + " has NaN/Inf after the update: training stopped (try a smaller --lr)");
  CHECK_THROWS_AS(train_step(*net, adam, x, labels), NonFiniteLossError);
  CHECK(adam.steps() == 1);
}

// =================================================================== pooling

TEST_CASE("max_pool2d on the GPU matches the CPU with ties and overlapping windows", "[pool][memcheck]") {
  Generator g(11);
  const int configs[][2] = {{2, 2}, {3, 2}, {2, 0}, {3, 1}};  // kernel, stride (0: = kernel)
  for (int trial = 0; trial < 24; ++trial) {
    const int kernel = configs[trial % 4][0], stride = configs[trial % 4][1];
    const int n = trial % 3 == 0 ? 33 : trial % 3 == 1 ? 1 : 2;
    const int c = int(1 + g.below(9)), h = kernel + int(g.below(20)), w = kernel + int(g.below(20));
    // Every third trial draws from {0, 1, 2}: many ties, where the first maximum must win.
    const bool ties = trial % 3 == 2;
    INFO("max_pool2d n " << n << " c " << c << " h " << h << " w " << w << " kernel " << kernel
                         << " stride " << stride << (ties ? "; with ties" : ""));
    Floats x = randn(size_t(n) * c * h * w, g);
    if (ties)
      for (float& v : x) v = float(g.below(3));
    // Every fifth trial scatters NaNs: a NaN wins its window (the last one), as on the CPU.
    if (trial % 5 == 4)
      for (size_t i = g.below(7); i < x.size(); i += 7) x[i] = std::numeric_limits<float>::quiet_NaN();
    Floats y[2], dx[2];
    const Device devs[2] = {kCpu, kGpu};
    Floats dy;
    for (int d = 0; d < 2; ++d) {
      Tensor t = leaf(x, {n, c, h, w}, devs[d]);
      Tensor out = max_pool2d(t, kernel, stride);
      if (d == 0) dy = randn(size_t(out.numel()), g);
      out.backward(Tensor::from_vector(dy, out.shape(), devs[d]));
      y[d] = out.to_vector();
      dx[d] = grad_of(t);
    }
    CHECK(bits_diff(y[1], y[0]) == "");
    const int eff_stride = stride == 0 ? kernel : stride;
    if (eff_stride >= kernel)
      CHECK(exact_diff(dx[1], dx[0]) == "");
    else  // an input may win several windows: its gradient is a sum, maybe in another order
      CHECK(rel_err(dx[1], dx[0]) < 1e-6);
  }
}

TEST_CASE("avg_pool2d on the GPU matches the CPU", "[pool][memcheck]") {
  Generator g(12);
  const int configs[][2] = {{2, 2}, {3, 2}, {2, 0}, {3, 1}};
  for (int trial = 0; trial < 16; ++trial) {
    const int kernel = configs[trial % 4][0], stride = configs[trial % 4][1];
    const int n = trial % 2 ? 33 : 1;
    const int c = int(1 + g.below(9)), h = kernel + int(g.below(20)), w = kernel + int(g.below(20));
    INFO("avg_pool2d n " << n << " c " << c << " h " << h << " w " << w << " kernel " << kernel
                         << " stride " << stride);
    const Floats x = randn(size_t(n) * c * h * w, g);
    Floats y[2], dx[2], dy;
    const Device devs[2] = {kCpu, kGpu};
    for (int d = 0; d < 2; ++d) {
      Tensor t = leaf(x, {n, c, h, w}, devs[d]);
      Tensor out = avg_pool2d(t, kernel, stride);
      if (d == 0) dy = randn(size_t(out.numel()), g);
      out.backward(Tensor::from_vector(dy, out.shape(), devs[d]));
      y[d] = out.to_vector();
      dx[d] = grad_of(t);
    }
    CHECK(rel_err(y[1], y[0]) < 1e-6);
    CHECK(rel_err(dx[1], dx[0]) < 1e-6);
  }
}

// =================================================================== loss and accuracy

TEST_CASE("cross_entropy on the GPU matches the CPU loss and logits gradient", "[loss][memcheck]") {
  Generator g(13);
  const int cases[][2] = {{1, 1}, {1, 10}, {7, 10}, {33, 37}, {256, 10}, {64, 1000}, {3, 1025}};
  for (const auto& nc : cases) {
    for (float scale : {3.0f, 1000.0f}) {  // 1000: exp overflows unless the row max is taken out
      const int n = nc[0], classes = nc[1];
      INFO("cross_entropy n " << n << " classes " << classes << " logit scale " << scale);
      const Floats z = randn(size_t(n) * classes, g, scale);
      std::vector<int32_t> labels(n);
      for (int32_t& l : labels) l = int32_t(g.below(uint64_t(classes)));
      float loss[2];
      Floats dz[2];
      const Device devs[2] = {kCpu, kGpu};
      for (int d = 0; d < 2; ++d) {
        Tensor t = leaf(z, {n, classes}, devs[d]);
        Tensor l = cross_entropy(t, labels);
        REQUIRE(l.device() == devs[d]);
        loss[d] = l.item();
        l.backward(Tensor::full(l.shape(), 2.5f, devs[d]));  // dL/dloss read on the device
        dz[d] = grad_of(t);
      }
      CHECK(std::isfinite(loss[1]));
      CHECK(std::fabs(double(loss[1]) - loss[0]) <= 1e-5 * std::max(double(std::fabs(loss[0])), 1e-3));
      CHECK(rel_err(dz[1], dz[0]) < 1e-5);
    }
  }
}

TEST_CASE("argmax and count_correct and softmax on the GPU match the CPU", "[loss][memcheck]") {
  Generator g(14);
  const int shapes[][2] = {{1000, 10}, {33, 1000}, {1, 1}, {5, 3}};
  for (const auto& nc : shapes) {
    const int n = nc[0], classes = nc[1];
    INFO("n " << n << " classes " << classes);
    Floats z = randn(size_t(n) * classes, g);
    std::vector<int32_t> labels(n);
    for (int i = 0; i < n; ++i) {
      labels[i] = int32_t(g.below(uint64_t(classes)));
      float* row = z.data() + size_t(i) * classes;
      if (i % 10 == 0) std::fill(row, row + classes, 0.5f);  // all tied: the first index wins
      if (i % 10 == 1 && classes >= 3) {                      // two maxima: the first wins
        row[classes / 3] = row[classes - 1] = 50.0f;
        labels[i] = i % 20 == 1 ? classes - 1 : classes / 3;
      }
    }
    Tensor cpu = Tensor::from_vector(z, {n, classes}), gpu = Tensor::from_vector(z, {n, classes}, kGpu);
    const std::vector<int32_t> pred = argmax_rows(cpu);
    CHECK(argmax_rows(gpu) == pred);
    CHECK(count_correct(gpu, labels) == count_correct(cpu, labels));
    CHECK(count_correct(gpu, pred) == n);
    Tensor p = softmax(gpu, 1);
    CHECK(p.device() == kGpu);
    CHECK(rel_err(p.to_vector(), softmax(cpu, 1).to_vector()) < 1e-6);
  }
}

// =================================================================== gradients

TEST_CASE("GPU gradients match finite differences", "[gradcheck][memcheck]") {
  Generator g(15);
  auto gpu_normal = [&](const Shape& s) { return Tensor::normal(s, g, kGpu); };
  for (CudaKernels k : gpu_backends()) {
    CudaKernelsScope backend(k);
    INFO("GPU kernels: " << backend_name(k));
    check_gradients(
        "conv2d stride 2 padding 1",
        [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], 2, 1); },
        {gpu_normal({2, 3, 6, 5}), gpu_normal({4, 3, 3, 3}), gpu_normal({4})});
    check_gradients(
        "conv2d 1x3 kernel padding 2",
        [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], Tensor(), 1, 2); },
        {gpu_normal({1, 2, 4, 5}), gpu_normal({3, 2, 1, 3})});
    check_gradients("linear",
                    [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
                    {gpu_normal({3, 7}), gpu_normal({5, 7}), gpu_normal({5})});
  }
  check_gradients("max_pool2d 3/2", [](const std::vector<Tensor>& in) { return max_pool2d(in[0], 3, 2); },
                  {gpu_normal({2, 2, 7, 7})});
  check_gradients("avg_pool2d 3/2", [](const std::vector<Tensor>& in) { return avg_pool2d(in[0], 3, 2); },
                  {gpu_normal({2, 2, 7, 6})});
  check_gradients("relu", [](const std::vector<Tensor>& in) { return relu(in[0]); },
                  {gpu_normal({4, 9})});
  check_gradients("cross_entropy",
                  [](const std::vector<Tensor>& in) { return cross_entropy(in[0], {1, 0, 4}); },
                  {gpu_normal({3, 5})});
}

// =================================================================== optimizers

namespace {
using Params = std::vector<std::pair<std::string, Tensor>>;

// The same parameters on both devices: 40 tensors (more than one ParamSlices launch holds) of
// odd sizes, one of them large.
void make_params(Generator& g, Params& cpu, Params& gpu) {
  for (int i = 0; i < 40; ++i) {
    const int64_t n = i == 0 ? 1 : i == 1 ? 100003 : int64_t(1 + g.below(3000));
    Tensor p = Tensor::normal({n}, g).requires_grad_();
    cpu.emplace_back("p" + std::to_string(i), p);
    gpu.emplace_back("p" + std::to_string(i), p.to(kGpu).requires_grad_());
  }
}

// Step `step`: the same random gradients on both; at step 2 every seventh parameter has none
// (it took no part), and the optimizer must leave it alone.
void set_grads(Generator& g, const Params& cpu, const Params& gpu, int step) {
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (step == 2 && i % 7 == 3) {
      cpu[i].second.zero_grad();
      gpu[i].second.zero_grad();
      continue;
    }
    Tensor grad = Tensor::normal(cpu[i].second.shape(), g);
    cpu[i].second.set_grad(grad);
    gpu[i].second.set_grad(grad.to(kGpu));
  }
}

void check_params(const Params& cpu, const Params& gpu) {
  for (size_t i = 0; i < cpu.size(); ++i) {
    INFO(cpu[i].first);
    CHECK(rel_err(gpu[i].second.to_vector(), cpu[i].second.to_vector()) < 1e-6);
  }
}

void check_state(const Optimizer& cpu, const Optimizer& gpu) {
  const auto a = cpu.state(), b = gpu.state();
  CHECK(a.size() == b.size());
  for (const auto& [name, t] : a) {
    INFO("optimizer state " << name);
    REQUIRE(b.count(name) == 1);
    CHECK(rel_err(b.at(name).to_vector(), t.to_vector()) < 1e-6);
  }
}
}  // namespace

TEST_CASE("Adam on the GPU matches the CPU", "[optim][memcheck]") {
  const AdamOptions configs[] = {{1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f}, {3e-3f, 0.8f, 0.99f, 1e-6f, 0.05f}};
  Generator g(16);
  for (const AdamOptions& o : configs) {
    INFO("Adam lr " << o.lr << " betas " << o.beta1 << "/" << o.beta2 << " eps " << o.eps
                    << " weight decay " << o.weight_decay);
    Params cpu, gpu;
    make_params(g, cpu, gpu);
    Adam a_cpu(cpu, o), a_gpu(gpu, o);
    for (int step = 1; step <= 3; ++step) {
      set_grads(g, cpu, gpu, step);
      a_cpu.step();
      a_gpu.step();
    }
    check_params(cpu, gpu);
    check_state(a_cpu, a_gpu);
  }
}

TEST_CASE("SGD on the GPU matches the CPU", "[optim][memcheck]") {
  // lr, momentum, dampening, weight decay, nesterov
  const SgdOptions configs[] = {{0.05f, 0.9f, 0.0f, 1e-3f, true},
                                {0.1f, 0.9f, 0.1f, 0.0f, false},
                                {0.2f, 0.0f, 0.0f, 0.01f, false}};
  Generator g(17);
  for (const SgdOptions& o : configs) {
    INFO("SGD lr " << o.lr << " momentum " << o.momentum << " dampening " << o.dampening
                   << " weight decay " << o.weight_decay << " nesterov " << o.nesterov);
    Params cpu, gpu;
    make_params(g, cpu, gpu);
    SGD s_cpu(cpu, o), s_gpu(gpu, o);
    for (int step = 1; step <= 3; ++step) {
      set_grads(g, cpu, gpu, step);
      s_cpu.step();
      s_gpu.step();
    }
    check_params(cpu, gpu);
    check_state(s_cpu, s_gpu);
  }
}

// =================================================================== data on the GPU

TEST_CASE("augment_batch_cuda matches augment_image on the CPU", "[data][memcheck]") {
  const ImageDataset ds = make_pattern_dataset(100, 10, 3);
  const Normalization norm = compute_normalization(ds);
  const size_t bytes = ds.images.size();
  auto images = std::make_shared<Buffer>(kGpu, bytes);
  copy_bytes(images->data(), kGpu, ds.images.data(), kCpu, bytes);

  struct Config {
    int padding;
    bool flip;
    uint64_t seed, epoch;
  };
  const Config configs[] = {{4, true, 0, 1}, {0, true, 7, 2}, {4, false, 0xdeadbeefcafeull, 3}, {2, true, 42, 0}};
  Generator g(18);
  for (const Config& cfg : configs) {
    INFO("padding " << cfg.padding << " flip " << cfg.flip << " seed " << cfg.seed << " epoch " << cfg.epoch);
    // A shuffled epoch order, taken in batches of 32 (the last one partial).
    std::vector<int64_t> order(size_t(ds.size()));
    std::iota(order.begin(), order.end(), 0);
    for (int64_t i = ds.size() - 1; i > 0; --i) std::swap(order[size_t(i)], order[size_t(g.below(uint64_t(i) + 1))]);
    AugmentParams a{};
    for (int c = 0; c < 3; ++c) {
      a.mean[c] = norm.mean[size_t(c)];
      a.inv_std[c] = 1.0f / norm.std[size_t(c)];
    }
    a.padding = cfg.padding;
    a.flip = cfg.flip;
    a.seed = cfg.seed;
    a.epoch = cfg.epoch;
    const AugmentOptions opt{cfg.padding > 0, cfg.padding, cfg.flip};
    const int batch = 32;
    for (int64_t first = 0; first < ds.size(); first += batch) {
      const int count = int(std::min<int64_t>(batch, ds.size() - first));
      INFO("positions " << first << " to " << first + count - 1);
      auto indices = std::make_shared<Buffer>(kGpu, sizeof(int64_t) * size_t(count));
      copy_bytes(indices->data(), kGpu, order.data() + first, kCpu, sizeof(int64_t) * size_t(count));
      Tensor out = Tensor::empty({count, 3, 32, 32}, kGpu);
      a.first_position = first;
      augment_batch_cuda(a, static_cast<const uint8_t*>(images->data()),
                         static_cast<const int64_t*>(indices->data()), count, out.data());
      Floats ref(size_t(count) * ImageDataset::kImageBytes);
      for (int i = 0; i < count; ++i) {
        const int64_t pos = first + i;
        const uint64_t random = mix64(cfg.seed + mix64(cfg.epoch * 0x100000000ull + uint64_t(pos)));
        augment_image(ds.image(order[size_t(pos)]), ref.data() + size_t(i) * ImageDataset::kImageBytes,
                      norm, opt, random);
      }
      const Floats got = out.to_vector();
      size_t bad = 0, first_bad = 0;
      for (size_t i = 0; i < ref.size(); ++i)
        if (!(std::fabs(got[i] - ref[i]) <= 1e-5 * std::max(1.0f, std::fabs(ref[i])))) {
          if (bad == 0) first_bad = i;
          ++bad;
        }
      INFO(bad << " elements differ; first at " << first_bad << ": " << got[first_bad] << " vs " << ref[first_bad]);
      CHECK(bad == 0u);
    }
  }
}

// =================================================================== errors

TEST_CASE("ops reject tensors on different devices", "[errors][memcheck]") {
  CHECK_THROWS_AS(conv2d(Tensor::zeros({1, 3, 8, 8}), Tensor::zeros({4, 3, 3, 3}, kGpu), Tensor()), DeviceError);
  CHECK_THROWS_AS(conv2d(Tensor::zeros({1, 3, 8, 8}, kGpu), Tensor::zeros({4, 3, 3, 3}, kGpu),
                         Tensor::zeros({4})), DeviceError);
  CHECK_THROWS_AS(linear(Tensor::zeros({2, 3}, kGpu), Tensor::zeros({4, 3}), Tensor()), DeviceError);
  CHECK_THROWS_AS(add(Tensor::zeros({2}), Tensor::zeros({2}, kGpu)), DeviceError);
  CNN model;
  model.to(kGpu);
  CHECK(model.device() == kGpu);
  CHECK_THROWS_AS(model(Tensor::zeros({2, 3, 32, 32})), DeviceError);  // input left on the CPU
}

TEST_CASE("an impossible GPU allocation throws OutOfMemoryError naming the bytes", "[errors]") {
  bool thrown = false;
  try {
    Tensor::empty({int64_t(1) << 40}, kGpu);  // 4 TiB
  } catch (const OutOfMemoryError& e) {
    thrown = true;
    INFO(e.what());
    CHECK(std::string(e.what()).find("bytes") != std::string::npos);
  }
  CHECK(thrown);
  // The GPU still works afterwards.
  Tensor t = add(Tensor::full({1000}, 1.5f, kGpu), Tensor::full({1000}, 2.0f, kGpu));
  CHECK(exact_diff(t.to_vector(), Floats(1000, 3.5f)) == "");
}

// =================================================================== training

TEST_CASE("a CNN training step on the GPU matches the CPU step", "[training]") {
  manual_seed(0);
  CNN cpu_model, gpu_model;
  gpu_model.to(kGpu);
  gpu_model.load_state_dict(cpu_model.state_dict());  // the same initial weights
  const float lr = 1e-3f;
  AdamOptions adam_opt;
  adam_opt.lr = lr;
  Adam cpu_adam(cpu_model.named_parameters(), adam_opt), gpu_adam(gpu_model.named_parameters(), adam_opt);
  Generator g(19);
  const Tensor x = Tensor::normal({8, 3, 32, 32}, g);
  const std::vector<int32_t> labels{3, 1, 4, 1, 5, 9, 2, 6};
  const float cpu_loss = train_step(cpu_model, cpu_adam, x, labels);
  const float gpu_loss = train_step(gpu_model, gpu_adam, x.to(kGpu), labels);
  INFO("loss: CPU " << cpu_loss << ", GPU " << gpu_loss);
  CHECK(std::isfinite(gpu_loss));
  CHECK(std::fabs(double(gpu_loss) - cpu_loss) <= 1e-4 * std::fabs(cpu_loss));

  const auto cpu_params = cpu_model.named_parameters(), gpu_params = gpu_model.named_parameters();
  REQUIRE(cpu_params.size() == gpu_params.size());
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    const std::string& name = cpu_params[i].first;
    INFO(name);
    REQUIRE(gpu_params[i].first == name);
    REQUIRE(gpu_params[i].second.device() == kGpu);
    // The gradients of the step (train_step leaves them in place).
    const Floats gc = grad_of(cpu_params[i].second), gg = grad_of(gpu_params[i].second);
    CHECK(rel_err(gg, gc) < 1e-3);
    // The parameters after Adam's first step, which moves each by lr * g / (|g| + eps), nearly
    // lr * sign(g). Where g is tiny next to the tensor's largest gradient (or its sign differs
    // between the devices) that is not a stable function of g, so there up to 2 lr is allowed.
    const Floats pc = cpu_params[i].second.to_vector(), pg = gpu_params[i].second.to_vector();
    const double scale = std::max(max_abs(pc), 1e-3), gscale = max_abs(gc);
    size_t bad = 0, first = 0;
    for (size_t j = 0; j < pc.size(); ++j) {
      const bool unstable = std::fabs(gc[j]) <= 1e-3 * gscale || (gc[j] > 0) != (gg[j] > 0);
      const double allowed = 1e-3 * scale + (unstable ? 2.0 * lr : 0.0);
      if (!(std::fabs(double(pg[j]) - pc[j]) <= allowed)) {
        if (bad == 0) first = j;
        ++bad;
      }
    }
    INFO(bad << " of " << pc.size() << " parameters differ; first at " << first << ": GPU "
              << pg[first] << " vs CPU " << pc[first]);
    CHECK(bad == 0u);
  }
}

TEST_CASE("GPU training steps stop allocating after the first", "[training][allocator]") {
  for (CudaKernels k : gpu_backends()) {
    CudaKernelsScope backend(k);
    INFO("GPU kernels: " << backend_name(k));
    manual_seed(2);
    CNN model;
    model.to(kGpu);
    AdamOptions adam_opt;
    adam_opt.lr = 1e-4f;
    Adam adam(model.named_parameters(), adam_opt);
    Generator g(3);
    const Tensor x = Tensor::normal({4, 3, 32, 32}, g, kGpu);
    const std::vector<int32_t> labels{1, 2, 3, 4};
    train_step(model, adam, x, labels);
    const size_t after_first = allocator_stats(kGpu).system_allocs;
    for (int i = 0; i < 4; ++i) train_step(model, adam, x, labels);
    CHECK(allocator_stats(kGpu).system_allocs == after_first);
  }
}

TEST_CASE("training on the GPU reaches the CPU accuracy on a generated data set", "[training]") {
  const ImageDataset train = make_pattern_dataset(600, 10, 1), test = make_pattern_dataset(200, 10, 2);
  DataLoaderOptions opt;
  opt.batch_size = 10;  // 60 steps an epoch, 180 in all
  opt.normalization = compute_normalization(train);
  opt.seed = 5;
  DataLoader train_loader(train, opt);
  DataLoaderOptions eval_opt = opt;
  eval_opt.shuffle = eval_opt.augment = false;
  DataLoader test_loader(test, eval_opt);

  manual_seed(1);
  auto cpu_net = small_cnn(), gpu_net = small_cnn();
  gpu_net->to(kGpu);
  gpu_net->load_state_dict(cpu_net->state_dict());
  AdamOptions adam_opt;
  adam_opt.lr = 3e-3f;
  Adam cpu_adam(cpu_net->named_parameters(), adam_opt), gpu_adam(gpu_net->named_parameters(), adam_opt);
  EpochResult cpu_train, gpu_train;
  for (int epoch = 1; epoch <= 3; ++epoch) cpu_train = train_epoch(*cpu_net, cpu_adam, train_loader, epoch, kCpu);
  for (int epoch = 1; epoch <= 3; ++epoch) gpu_train = train_epoch(*gpu_net, gpu_adam, train_loader, epoch, kGpu);
  const double cpu_acc = evaluate(*cpu_net, test_loader, kCpu).accuracy();
  const double gpu_acc = evaluate(*gpu_net, test_loader, kGpu).accuracy();
  INFO("last epoch train loss: CPU " << cpu_train.loss << ", GPU " << gpu_train.loss
                                     << "; test accuracy: CPU " << cpu_acc << ", GPU " << gpu_acc);
  CHECK(gpu_net->device() == kGpu);
  CHECK(gpu_acc > 0.9);  // chance is 0.1
  CHECK(std::fabs(gpu_acc - cpu_acc) <= 0.05);
}

// =================================================================== main

namespace {
// Catch's listing and help need no GPU (ctest's test discovery lists the tests at build time).
bool listing_only(int argc, char* argv[]) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-l" || a == "-t" || a == "-h" || a == "-?" || a == "--help" || a.rfind("--list", 0) == 0)
      return true;
  }
  return false;
}
}  // namespace

int main(int argc, char* argv[]) {
  if (!listing_only(argc, argv)) {
    if (!dlcraft::cuda_available()) {
      std::printf("test_gpu: no CUDA GPU (or CPU-only build): skipped\n");
      return 77;  // ctest's SKIP_RETURN_CODE
    }
    std::printf("test_gpu: %s; vendor kernels (cuDNN/cuBLAS): %s\n", dlcraft::cuda_build_info().c_str(),
                dlcraft::cuda_vendor_available() ? "yes" : "no");
    std::fflush(stdout);
    dlcraft::set_allocator_poison(true);
  }
  return Catch::Session().run(argc, argv);
}

// =================================================================== data on the GPU

TEST_CASE("GpuDataLoader gives the same batches as the CPU DataLoader", "[data][memcheck]") {
  // 70 images, batch 32: two full batches and a partial one; augmented and plain. Then the
  // shards of a data-parallel run (rank 1 of 3 padded, rank 2 of 3 not): the same images and
  // the same crops and flips as the CPU loader's shard.
  ImageDataset ds = make_pattern_dataset(70, 10, 12);
  struct Shard { int rank, count; bool pad; };
  for (const Shard shard : {Shard{0, 1, true}, Shard{1, 3, true}, Shard{2, 3, false}})
  for (bool augment : {true, false}) {
    DataLoaderOptions opt;
    opt.batch_size = shard.count == 1 ? 32 : 9;
    opt.seed = 5;
    opt.augment = augment;
    opt.normalization = compute_normalization(ds);
    opt.shard_rank = shard.rank;
    opt.shard_count = shard.count;
    opt.shard_pad = shard.pad;
    DataLoader cpu(ds, opt);
    GpuDataLoader gpu(ds, opt, Device::cuda());
    // 70 images: 32 + 32 + 6; a padded shard of 3 holds 24 (9 + 9 + 6), rank 2's unpadded 23.
    REQUIRE(gpu.batches_per_epoch() == 3);
    REQUIRE(cpu.batches_per_epoch() == 3);
    for (int64_t epoch : {1, 2}) {
      cpu.start_epoch(epoch);
      gpu.start_epoch(epoch);
      Tensor a, b;
      std::vector<int32_t> la, lb;
      int batches = 0;
      while (cpu.next_batch(Device::cpu(), a, la)) {
        REQUIRE(gpu.next_batch(Device::cuda(), b, lb));
        CHECK(la == lb);
        REQUIRE(a.shape() == b.shape());
        std::vector<float> va = a.to_vector(), vb = b.to_vector();
        float worst = 0;
        for (size_t i = 0; i < va.size(); ++i) worst = std::max(worst, std::fabs(va[i] - vb[i]));
        INFO("shard " << shard.rank << " of " << shard.count << ", augment " << augment << " epoch " << epoch
                      << " batch " << batches);
        CHECK(worst < 1e-5f);
        ++batches;
      }
      CHECK(batches == 3);
      CHECK_FALSE(gpu.next_batch(Device::cuda(), b, lb));
    }
  }
  CHECK_THROWS_AS(GpuDataLoader(ds, DataLoaderOptions{}, Device::cpu()), DeviceError);
}
