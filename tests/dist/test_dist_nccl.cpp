// CUDA tensors across processes (docs/distributed.md, "CUDA tensors: NCCL"), run by ctest in the
// emulated build (DLCRAFT_CUDA=EMU, label emu) under
//   mpirun -np 2 --oversubscribe test_dist_nccl
// where the "cuda" device is the emulated GPU and NCCL the emulated one over MPI
// (kernels/cuda/emu/nccl_emu.cpp): the same code path as on GPUs, without one. As in
// test_dist_equivalence.cpp, every rank computes what the others hold from seeds and checks
// against a reference of its own; a failed check ends the whole job naming the rank.
// ctest runs it twice: over the emulated NCCL, and with DLCRAFT_NO_NCCL=1, the path of a CUDA
// build without NCCL (through host memory over MPI, no overlap).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <nccl.h>  // the emulated one (kernels/cuda/emu/nccl.h)

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "datasets/tensor_dataset.hpp"
#include "distributed/data_parallel.hpp"
#include "distributed/nccl_comm.hpp"
#include "distributed/process_group.hpp"
#include "layers/layers.hpp"
#include "lsan_suppressions.hpp"  // Open MPI's own allocations at exit, in the sanitizer build
#include "optim/optimizer.hpp"

using namespace dlcraft;
namespace dist = dlcraft::distributed;

namespace {

const Device kCuda = Device::cuda();

// Rank r's own numbers on the host: odd lengths, never zeros.
Tensor rank_values(int r, int64_t n, uint64_t salt = 0) {
  Generator gen(2000 + 37 * salt + uint64_t(r));
  return Tensor::normal({n}, gen);
}

std::vector<float> host_sum(int64_t n, uint64_t salt) {
  std::vector<float> s(size_t(n), 0.0f);
  for (int r = 0; r < dist::world_size(); ++r) {
    const std::vector<float> v = rank_values(r, n, salt).to_vector();
    for (size_t i = 0; i < s.size(); ++i) s[i] += v[i];
  }
  return s;
}

void require_close(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    REQUIRE(got[i] == Approx(want[i]).margin(tol).epsilon(tol));
  }
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<float> va = a.to_vector(), vb = b.to_vector();
  REQUIRE(va.size() == vb.size());
  float m = 0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::fabs(va[i] - vb[i]));
  return m;
}

// A small MLP; `skip` adds a layer that forward leaves out when asked (a branch not taken).
struct Net : Module {
  std::shared_ptr<Linear> fc1, fc2, fc3, side;
  bool use_side = true;
  Net() {
    fc1 = register_module("fc1", std::make_shared<Linear>(7, 16));
    fc2 = register_module("fc2", std::make_shared<Linear>(16, 9));
    side = register_module("side", std::make_shared<Linear>(9, 9));
    fc3 = register_module("fc3", std::make_shared<Linear>(9, 5));
  }
  std::string type_name() const override { return "Net"; }
  Tensor forward(const Tensor& x) override {
    Tensor h = relu(fc2->forward(relu(fc1->forward(x))));
    if (use_side) h = add(h, tanh(side->forward(h)));
    return fc3->forward(h);
  }
};

std::shared_ptr<Net> make_net(uint64_t seed, Device device) {
  manual_seed(seed);
  auto net = std::make_shared<Net>();
  net->to(device);
  return net;
}

// x (n, 7) normal, y classes in [0, 5) that depend on x.
TensorDataset make_data(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Tensor x = Tensor::normal({n, 7}, gen);
  const std::vector<float> xv = x.to_vector();
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float s = xv[size_t(i * 7)] + 0.5f * xv[size_t(i * 7 + 3)] - xv[size_t(i * 7 + 6)];
    y[size_t(i)] = std::min<int64_t>(4, std::max<int64_t>(0, int64_t(std::floor(s + 2.5f))));
  }
  return TensorDataset(x, Tensor::from_vector(y, {n}));
}

// Rank r's batch of 6 rows and their labels.
void rank_batch(int r, Tensor& x, std::vector<int32_t>& labels) {
  Generator gen(3000 + uint64_t(r));
  x = Tensor::normal({6, 7}, gen);
  labels = {int32_t(r % 5), 1, 4, int32_t((r + 2) % 5), 0, 3};
}

}  // namespace

TEST_CASE("CUDA all_reduce and broadcast over NCCL: odd sizes, against the host sum", "[dist][nccl]") {
  const int W = dist::world_size(), R = dist::rank();
  REQUIRE(W >= 2);
  REQUIRE(dist::built_with_nccl());
  std::printf("rank %d: CUDA tensors over %s\n", R, dist::nccl_enabled() ? "NCCL" : "host memory and MPI");
  for (int64_t n : {int64_t(1), int64_t(1031), int64_t(65537)}) {
    CAPTURE(n);
    const std::vector<float> sum = host_sum(n, uint64_t(n));
    Tensor t = rank_values(R, n, uint64_t(n)).to(kCuda);
    dist::all_reduce_sum(t);
    REQUIRE(t.device().is_cuda());
    require_close(t.to_vector(), sum, 1e-6f);

    Tensor m = rank_values(R, n, uint64_t(n)).to(kCuda);
    dist::all_reduce_mean(m);
    std::vector<float> mean = sum;
    for (float& v : mean) v /= float(W);
    require_close(m.to_vector(), mean, 1e-6f);

    // Straight on the comm stream; the main stream waits for it before reading.
    Tensor c = rank_values(R, n, uint64_t(n)).to(kCuda);
    dist::comm_waits_for_main();
    dist::nccl_all_reduce(c, dist::NcclOp::kSum, dist::CudaStream::kComm);
    dist::main_waits_for_comm();
    require_close(c.to_vector(), sum, 1e-6f);
  }
  // Broadcast from the last rank: exactly its numbers, float32 and int64.
  Tensor b = rank_values(R, 999, 5).to(kCuda);
  dist::broadcast(b, W - 1);
  REQUIRE(b.to_vector() == rank_values(W - 1, 999, 5).to_vector());
  Tensor ints = Tensor::from_vector(std::vector<int64_t>{R * 10 + 3, -R - 1, int64_t(1) << 41}, {3}).to(kCuda);
  dist::broadcast(ints, 0);
  REQUIRE(ints.to(Device::cpu()).values_as<int64_t>() == std::vector<int64_t>{3, -1, int64_t(1) << 41});

  // Bad input: typed errors naming the rank.
  Tensor i64 = Tensor::from_vector(std::vector<int64_t>{1, 2, 3, 4}, {4}).to(kCuda);
  REQUIRE_THROWS_AS(dist::all_reduce_sum(i64), DTypeError);
  Tensor host = rank_values(R, 5);
  REQUIRE_THROWS_WITH(dist::nccl_all_reduce(host, dist::NcclOp::kSum),
                      Catch::StartsWith("rank " + std::to_string(R) + " of " + std::to_string(W) +
                                        ": nccl_all_reduce: tensor Tensor[5] cpu is not on the GPU"));
  REQUIRE_THROWS_AS(dist::nccl_broadcast(b, W), ArgumentError);
}

TEST_CASE("the emulated NCCL refuses ranks that were given different unique ids", "[dist][nccl]") {
  // What the id's broadcast in nccl_comm.cpp prevents: real NCCL would hang or fail to connect.
  const int W = dist::world_size(), R = dist::rank();
  ncclUniqueId id;
  REQUIRE(ncclGetUniqueId(&id) == ncclSuccess);  // each rank its own: they differ
  ncclComm_t comm = nullptr;
  REQUIRE(ncclCommInitRank(&comm, W, id, R) == ncclInvalidUsage);
  REQUIRE(comm == nullptr);
  REQUIRE(std::string(ncclGetLastError(nullptr)) == "emulated NCCL: the ranks were given different unique ids");
  REQUIRE(std::string(ncclGetErrorString(ncclInvalidUsage)) == "invalid usage (run with NCCL_DEBUG=WARN for details)");
  // The same id on every rank (rank 0's, sent as the library does) makes a communicator.
  std::string bytes(id.internal, NCCL_UNIQUE_ID_BYTES);
  dist::broadcast(bytes, 0);
  std::memcpy(id.internal, bytes.data(), NCCL_UNIQUE_ID_BYTES);
  REQUIRE(ncclCommInitRank(&comm, W, id, R) == ncclSuccess);
  int count = 0, rank = -1;
  REQUIRE(ncclCommCount(comm, &count) == ncclSuccess);
  REQUIRE(ncclCommUserRank(comm, &rank) == ncclSuccess);
  REQUIRE((count == W && rank == R));
  REQUIRE(ncclCommDestroy(comm) == ncclSuccess);
}

TEST_CASE("GradientBucketer on CUDA: the averaged grads equal the CPU bucketer's, buckets started in backward",
          "[dist][nccl]") {
  const int R = dist::rank();
  for (const bool use_side : {true, false}) {
    CAPTURE(use_side);
    auto cpu = make_net(31, Device::cpu());
    auto gpu = make_net(31, kCuda);
    cpu->use_side = gpu->use_side = use_side;
    dist::GradientBucketer cpu_bucketer(cpu->named_parameters(), 200);
    // 200 bytes: fc3's weight (180 B) and bias (20 B) fill one bucket; 7 buckets in all.
    dist::GradientBucketer gpu_bucketer(gpu->named_parameters(), 200);
    REQUIRE(gpu_bucketer.buckets() == cpu_bucketer.buckets());
    REQUIRE(gpu_bucketer.num_buckets() == 7);
    REQUIRE(gpu_bucketer.overlaps() == dist::nccl_enabled());
    REQUIRE_FALSE(cpu_bucketer.overlaps());

    Tensor x;
    std::vector<int32_t> labels;
    rank_batch(R, x, labels);
    cross_entropy(cpu->forward(x), labels).backward();
    cross_entropy(gpu->forward(x.to(kCuda)), labels).backward();
    // Every parameter that backward reached started its bucket in backward. Without `side`,
    // its bucket waits for all_reduce_mean (its gradient counts as zeros), and so do the
    // buckets after it (they start in order).
    const int64_t started = gpu_bucketer.buckets_started_in_backward();
    if (!dist::nccl_enabled()) REQUIRE(started == 0);  // through host memory: all in all_reduce_mean()
    if (dist::nccl_enabled() && use_side) REQUIRE(started == gpu_bucketer.num_buckets());
    if (dist::nccl_enabled() && !use_side) REQUIRE((started > 0 && started < gpu_bucketer.num_buckets()));
    cpu_bucketer.all_reduce_mean();
    gpu_bucketer.all_reduce_mean();
    REQUIRE(gpu_bucketer.buckets_started_in_backward() == 0);  // ready for the next backward
    const auto c = cpu->named_parameters(), g = gpu->named_parameters();
    for (size_t i = 0; i < c.size(); ++i) {
      CAPTURE(c[i].first);
      REQUIRE(g[i].second.grad().defined());
      REQUIRE(g[i].second.grad().device().is_cuda());
      REQUIRE(c[i].second.grad().defined());
      require_close(g[i].second.grad().to_vector(), c[i].second.grad().to_vector(), 1e-5f);
    }
    // The averages differ from this rank's own gradient (the check can fail).
    auto own = make_net(31, Device::cpu());
    own->use_side = use_side;
    cross_entropy(own->forward(x), labels).backward();
    REQUIRE(max_abs_diff(own->fc1->weight.grad(), gpu->fc1->weight.grad()) > 1e-4f);
  }
}

TEST_CASE("GradientBucketer on CUDA: two backwards before the reduce (accumulation) average the sum", "[dist][nccl]") {
  const int R = dist::rank();
  auto cpu = make_net(32, Device::cpu());
  auto gpu = make_net(32, kCuda);
  dist::GradientBucketer cpu_bucketer(cpu->named_parameters(), 300);
  dist::GradientBucketer gpu_bucketer(gpu->named_parameters(), 300);
  Tensor x;
  std::vector<int32_t> labels;
  for (int pass = 0; pass < 2; ++pass) {
    rank_batch(R + 10 * pass, x, labels);
    cross_entropy(cpu->forward(x), labels).backward();
    cross_entropy(gpu->forward(x.to(kCuda)), labels).backward();
  }
  cpu_bucketer.all_reduce_mean();
  gpu_bucketer.all_reduce_mean();
  const auto c = cpu->named_parameters(), g = gpu->named_parameters();
  for (size_t i = 0; i < c.size(); ++i) {
    CAPTURE(c[i].first);
    require_close(g[i].second.grad().to_vector(), c[i].second.grad().to_vector(), 1e-5f);
  }
}

TEST_CASE("equivalence on cuda: W ranks x batch B == 1 process x batch W*B, after k SGD steps", "[dist][nccl]") {
  const int W = dist::world_size(), R = dist::rank();
  const int64_t B = 5, steps_per_epoch = 3, epochs = 2;  // k = 6 steps with momentum
  const TensorDataset data = make_data(W * B * steps_per_epoch, 12);
  auto train = [](Module& model, TensorLoader& loader, int n_epochs, dist::GradientBucketer* bucketer) {
    SgdOptions o;
    o.lr = 0.1f;
    o.momentum = 0.9f;
    o.weight_decay = 1e-3f;
    SGD opt(model.named_parameters(), o);
    for (int e = 0; e < n_epochs; ++e) {
      loader.start_epoch(e);
      Tensor x;
      std::vector<int32_t> labels;
      while (loader.next_batch(kCuda, x, labels)) {
        opt.zero_grad();
        cross_entropy(model.forward(x), labels).backward();
        if (bucketer) bucketer->all_reduce_mean();
        opt.step();
      }
    }
  };
  // The reference on every rank: one process, batch W*B, on the (emulated) GPU.
  auto single = make_net(8, kCuda);
  TensorLoaderOptions one;
  one.batch_size = W * B;
  one.seed = 6;
  TensorLoader single_loader(data, one);
  train(*single, single_loader, int(epochs), nullptr);

  // Data-parallel: other initial weights until rank 0's are broadcast (over NCCL now).
  auto replica = make_net(R == 0 ? 8 : 800 + uint64_t(R), kCuda);
  dist::broadcast_parameters(*replica);
  TensorLoaderOptions shard = one;
  shard.batch_size = B;
  shard.shard_rank = R;
  shard.shard_count = W;
  TensorLoader shard_loader(data, shard);
  dist::GradientBucketer bucketer(replica->named_parameters(), 256);
  REQUIRE(bucketer.num_buckets() >= 4);
  REQUIRE(bucketer.overlaps() == dist::nccl_enabled());
  train(*replica, shard_loader, int(epochs), &bucketer);

  const auto a = replica->named_parameters(), b = single->named_parameters();
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(a[i].first);
    REQUIRE(a[i].second.device().is_cuda());
    const float d = max_abs_diff(a[i].second, b[i].second);
    worst = std::max(worst, d);
    REQUIRE(d <= 1e-6f);
  }
  std::printf("rank %d (cuda, %s): largest difference to the single process after %d steps: %.3g\n", R,
              dist::nccl_enabled() ? dist::nccl_version().c_str() : "through host memory", int(steps_per_epoch * epochs), double(worst));
  REQUIRE(max_abs_diff(replica->fc1->weight, make_net(8, kCuda)->fc1->weight) > 1e-2f);
}

// A failed check ends the whole job at once, naming the rank and the check (the others would
// wait in the next collective).
struct AbortOnFailure : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    const Catch::AssertionResult& r = stats.assertionResult;
    if (r.isOk()) return true;
    std::string what = r.getSourceInfo().file + std::string(":") + std::to_string(r.getSourceInfo().line) +
                       ": " + r.getExpressionInMacro();
    if (r.hasExpandedExpression()) what += " with expansion " + r.getExpandedExpression();
    if (r.hasMessage()) what += ": " + r.getMessage();
    for (const Catch::MessageInfo& m : stats.infoMessages) what += " [" + m.message + "]";
    dist::abort_job("test failed: " + what);
  }
};
CATCH_REGISTER_LISTENER(AbortOnFailure)

int main(int argc, char** argv) {
  return dist::run_guarded([&] {
    dist::init();
    const int failed = Catch::Session().run(argc, argv) != 0;
    return dist::all_reduce_min(failed ? 0 : 1) == 1 ? 0 : 1;
  });
}
