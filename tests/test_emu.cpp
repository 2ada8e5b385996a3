// The emulated build's own checks (DLCRAFT_CUDA=EMU only): each bug in
// tests/emu_broken_kernels.cu is caught, and the correct form of each kernel passes, in every
// thread order. (The out-of-bounds load is test_emu_asan.cpp: it needs AddressSanitizer.)
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/random.hpp"
#include "kernels/cuda/emu/scheduler.hpp"
#include "tests/emu_broken_kernels.hpp"

using namespace dlcraft;
using namespace dlcraft::emu_test;

namespace {

// Runs the threads of every block in this order for a scope (DLCRAFT_EMU_ORDER does the same).
class OrderScope {
 public:
  explicit OrderScope(emu::ThreadOrder order) : previous_(emu::options().order) { emu::options().order = order; }
  ~OrderScope() { emu::options().order = previous_; }
  OrderScope(const OrderScope&) = delete;
  OrderScope& operator=(const OrderScope&) = delete;

 private:
  emu::ThreadOrder previous_;
};

const emu::ThreadOrder kOrders[] = {emu::ThreadOrder::Forward, emu::ThreadOrder::Reverse, emu::ThreadOrder::Random};

std::vector<float> random_floats(size_t n, uint64_t seed) {
  Generator g(seed);
  std::vector<float> v(n);
  for (float& x : v) x = g.normal();
  return v;
}

bool all_nan(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isnan(x)) return false;
  return true;
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) worst = std::isnan(a[i]) ? INFINITY : std::fmax(worst, std::fabs(a[i] - b[i]));
  return worst;
}

std::vector<float> sums_of_runs(const std::vector<float>& x, size_t run) {
  std::vector<float> sums(x.size() / run, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) sums[i / run] += x[i];
  return sums;
}

// The message of the DeviceError that `f` throws ("" if none).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const DeviceError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a block reduction with its barriers is right in every thread order", "[emu]") {
  const std::vector<float> x = random_floats(3 * 256, 1);
  for (emu::ThreadOrder order : kOrders) {
    OrderScope scope(order);
    CHECK(max_diff(block_sums(x, Bug::None), sums_of_runs(x, 256)) < 1e-4f);
  }
}

TEST_CASE("a missing barrier reads __shared__ memory poisoned with NaN", "[emu]") {
  // Thread 0 runs first and reads part[128] before thread 128 stored it: NaN, in every block
  // (each block starts from freshly poisoned shared memory, not from the last block's values).
  const std::vector<float> x = random_floats(3 * 256, 2);
  CHECK(all_nan(block_sums(x, Bug::MissingBarrier)));
}

TEST_CASE("a barrier inside a condition is reported with its line", "[emu]") {
  const std::string what = error_of([] { block_sums(random_floats(256, 3), Bug::DivergentBarrier); });
  INFO(what);
  CHECK(what.find("block_sums (launched at") != std::string::npos);
  CHECK(what.find("__syncthreads() at tests/emu_broken_kernels.cu:") != std::string::npos);
  CHECK(what.find("in block_sum_kernel") != std::string::npos);
  CHECK(what.find("divergent barrier") != std::string::npos);
}

TEST_CASE("reverse and random thread orders catch a barrier that forward order misses", "[emu]") {
  const std::vector<float> x = random_floats(256, 4);
  std::vector<float> want(256, 0.0f);
  for (int i = 1; i < 256; ++i) want[i] = x[i - 1];
  for (emu::ThreadOrder order : kOrders) {
    OrderScope scope(order);
    CHECK(shift_right(x, Bug::None) == want);
  }
  // Forward: thread i-1 always stored before thread i reads, so the bug hides.
  CHECK(shift_right(x, Bug::MissingBarrier) == want);
  for (emu::ThreadOrder order : {emu::ThreadOrder::Reverse, emu::ThreadOrder::Random}) {
    OrderScope scope(order);
    CHECK(shift_right(x, Bug::MissingBarrier) != want);
  }
}

TEST_CASE("a tiled matmul without its second barrier gives wrong results", "[emu]") {
  const int n = 48;
  const std::vector<float> a = random_floats(n * n, 5), b = random_floats(n * n, 6);
  std::vector<float> want(n * n, 0.0f);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < n; ++k)
      for (int j = 0; j < n; ++j) want[i * n + j] += a[i * n + k] * b[k * n + j];
  for (emu::ThreadOrder order : kOrders) {
    OrderScope scope(order);
    CHECK(max_diff(matmul(n, a, b, Bug::None), want) < 1e-3f);
    CHECK(max_diff(matmul(n, a, b, Bug::MissingBarrier), want) > 1e-2f);
  }
}

TEST_CASE("warp shuffles sum a warp, and a shuffle naming an inactive lane is reported", "[emu]") {
  const std::vector<float> x = random_floats(512, 7);
  CHECK(max_diff(warp_sums(x, 256, Bug::None), sums_of_runs(x, 32)) < 1e-4f);

  std::string what = error_of([&] { warp_sums(x, 256, Bug::InactiveLane); });
  INFO(what);
  CHECK(what.find("shuffle at tests/emu_broken_kernels.cu:") != std::string::npos);
  CHECK(what.find("lane 16 (thread 16) has returned (an inactive lane)") != std::string::npos);

  // 48 threads: the second warp has 16 lanes, but the mask names 32.
  what = error_of([&] { warp_sums(std::vector<float>(96, 1.0f), 48, Bug::None); });
  INFO(what);
  CHECK(what.find("lane 16 is in the mask but the block has only 48 threads") != std::string::npos);
}

TEST_CASE("launches beyond the GPU's limits are refused, naming the op", "[emu]") {
  CHECK_NOTHROW(launch_empty(1024, 65535));
  std::string what = error_of([] { launch_empty(1025, 1); });
  INFO(what);
  CHECK(what.find("launch_empty (launched at") != std::string::npos);
  CHECK(what.find("cudaErrorInvalidConfiguration") != std::string::npos);
  CHECK(what.find("at most 1024") != std::string::npos);
  what = error_of([] { launch_empty(32, 65536); });
  INFO(what);
  CHECK(what.find("y and z are at most 65535") != std::string::npos);
}
