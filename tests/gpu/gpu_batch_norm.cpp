// batch_norm and dropout on the GPU against their CPU references: our kernels (and cuDNN's
// where the build has it), training and eval, affine or not, random odd shapes, channels long
// enough for many loads per thread, and tensors large enough that the element-wise kernels'
// capped grid makes each thread walk several elements (kernels/cuda/batch_norm.cu). The
// outputs, the running statistics and the gradients of x, weight and bias must agree; dropout
// must drop the same elements on both devices for the same seed.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/creation.hpp"
#include "core/ops.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {

struct BnRun {
  std::vector<double> y, running_mean, running_var, dx, dweight, dbias;
};

struct BnCase {
  Tensor x, weight, bias, running_mean, running_var, dy;  // on the CPU
};

BnCase make_case(const Shape& shape, Generator& gen) {
  const int64_t c = shape[1];
  BnCase k;
  // Channel means of different sizes, so a wrong channel index shows.
  std::vector<float> v = uniform_tensor(shape, gen).to_vector();
  const int64_t inner = numel(shape) / (shape[0] * c);
  for (size_t e = 0; e < v.size(); ++e) v[e] += float(int64_t(e) / inner % c % 7) - 3.0f;
  k.x = Tensor::from_vector(v, shape);
  k.weight = uniform_tensor({c}, gen, 0.5f, 2.0f);
  k.bias = uniform_tensor({c}, gen);
  k.running_mean = uniform_tensor({c}, gen, -1.0f, 1.0f);
  k.running_var = uniform_tensor({c}, gen, 0.5f, 2.0f);
  k.dy = Tensor::normal(shape, gen);
  return k;
}

BnRun run(const BnCase& k, Device d, bool training, bool affine, bool track) {
  Tensor x = k.x.to(d).clone().requires_grad_();
  Tensor w = affine ? k.weight.to(d).clone().requires_grad_() : Tensor();
  Tensor b = affine ? k.bias.to(d).clone().requires_grad_() : Tensor();
  Tensor rm = track ? k.running_mean.to(d).clone() : Tensor();
  Tensor rv = track ? k.running_var.to(d).clone() : Tensor();
  Tensor y = batch_norm(x, rm, rv, w, b, training, 0.1, 1e-5);
  REQUIRE(y.device() == d);
  y.backward(k.dy.to(d));
  BnRun r;
  r.y = y.values_as<double>();
  if (track) {
    r.running_mean = rm.values_as<double>();
    r.running_var = rv.values_as<double>();
  }
  r.dx = x.grad().values_as<double>();
  if (affine) {
    r.dweight = w.grad().values_as<double>();
    r.dbias = b.grad().values_as<double>();
  }
  return r;
}

// GPU sums are float trees, the CPU's double loops: 1e-4 relative to the largest value. dx
// is a difference of terms of size |w invstd dy| ~ 1 that nearly cancel when a channel has
// few values (with 2, dx is 0 up to eps), so its error is measured against at least 1.
void check_same(const BnRun& gpu, const BnRun& cpu) {
  CHECK(relative_error(gpu.y, cpu.y) < 1e-4);
  CHECK(relative_error(gpu.running_mean, cpu.running_mean) < 1e-5);
  CHECK(relative_error(gpu.running_var, cpu.running_var) < 1e-5);
  CHECK(relative_error(gpu.dx, cpu.dx, 1.0) < 1e-4);
  CHECK(relative_error(gpu.dweight, cpu.dweight) < 1e-4);
  CHECK(relative_error(gpu.dbias, cpu.dbias) < 1e-4);
}

bool vendor_enabled() {
  const char* off = std::getenv("DLCRAFT_TEST_NO_VENDOR");
  if (off && *off && std::string(off) != "0") return false;
  return cuda_vendor_available();
}

struct Backend {
  explicit Backend(CudaKernels k) : previous(cuda_kernels()) { set_cuda_kernels(k); }
  ~Backend() { set_cuda_kernels(previous); }
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  CudaKernels previous;
};

}  // namespace

TEST_CASE("batch_norm on the GPU matches the CPU in training and eval with and without affine for ours and cuDNN",
          "[batch_norm][memcheck]") {
  Generator gen(31);
  std::vector<Shape> shapes = {Shape{3, 5, 7, 3}, Shape{6, 4}, Shape{2, 3, 9}, Shape{1, 2, 1, 2}, Shape{2, 1, 1, 1},
                               Shape{33, 70}};
  for (int i = 0; i < 6; ++i) {  // random odd shapes, 2-D to 4-D
    const int rank = 2 + int(gen.below(3));
    Shape s{int64_t(1 + gen.below(9)), int64_t(1 + gen.below(40))};
    while (int(s.size()) < rank) s.push_back(int64_t(1 + gen.below(17)));
    if (numel(s) / s[1] < 2) s[0] = 2;  // training needs 2 values per channel
    shapes.push_back(s);
  }
  std::vector<CudaKernels> backends{CudaKernels::Ours};
  if (vendor_enabled()) backends.push_back(CudaKernels::Vendor);
  for (const Shape& shape : shapes) {
    const BnCase k = make_case(shape, gen);
    for (bool training : {true, false})
      for (bool affine : {true, false}) {
        INFO(to_string(shape) << (training ? " training" : " eval") << (affine ? " affine" : ""));
        const BnRun cpu = run(k, Device::cpu(), training, affine, true);
        for (CudaKernels b : backends) {
          Backend scope(b);
          INFO((b == CudaKernels::Ours ? "ours" : "cuDNN"));
          check_same(run(k, Device::cuda(), training, affine, true), cpu);
          if (training) check_same(run(k, Device::cuda(), true, affine, false), run(k, Device::cpu(), true, affine, false));
        }
      }
  }
}

TEST_CASE("batch_norm on the GPU with long channels and many channels and tensors past the element kernels grid",
          "[batch_norm]") {
  Generator gen(32);
  // (64,3,40,40): 102,400 values per channel, 200 per thread of the statistics block;
  // (8,19,61,61) and (1100,600): more elements than 2048 blocks of 256 threads, so each
  // thread walks on (with inner 3721, and inner 1 where the channel changes every element).
  for (Shape shape : {Shape{64, 3, 40, 40}, Shape{8, 19, 61, 61}, Shape{1100, 600}}) {
    INFO(to_string(shape));
    const BnCase k = make_case(shape, gen);
    for (bool training : {true, false}) {
      INFO((training ? "training" : "eval"));
      check_same(run(k, Device::cuda(), training, true, true), run(k, Device::cpu(), training, true, true));
    }
  }
}

TEST_CASE("batch_norm on the GPU repeats bit for bit", "[batch_norm]") {
  Generator gen(33);
  const BnCase k = make_case({5, 7, 11, 3}, gen);
  const BnRun a = run(k, Device::cuda(), true, true, true), b = run(k, Device::cuda(), true, true, true);
  CHECK(a.y == b.y);
  CHECK(a.dx == b.dx);
  CHECK(a.dweight == b.dweight);
  CHECK(a.running_var == b.running_var);
}

TEST_CASE("dropout drops the same elements on the GPU as on the CPU for the same seed", "[batch_norm][memcheck]") {
  Generator values(34);
  Tensor x = uniform_tensor({9, 31, 5}, values, 1.0f, 2.0f);
  for (double p : {0.2, 0.5, 1.0}) {
    INFO("p " << p);
    Generator g_cpu(12), g_gpu(12);
    Tensor xc = x.clone().requires_grad_(), xg = x.to(Device::cuda()).requires_grad_();
    Tensor yc = dropout(xc, p, true, &g_cpu), yg = dropout(xg, p, true, &g_gpu);
    REQUIRE(yg.device().is_cuda());
    CHECK(yg.to_vector() == yc.to_vector());
    Tensor dy = Tensor::normal(x.shape(), values);
    yc.backward(dy);
    yg.backward(dy.to(Device::cuda()));
    CHECK(xg.grad().to_vector() == xc.grad().to_vector());
  }
  Tensor xg = x.to(Device::cuda());
  CHECK(dropout(xg, 0.5, false).impl() == xg.impl());
}
