// NCCL with one process on one GPU (docs/distributed.md, "CUDA tensors: NCCL"): the plumbing
// that test_dist_nccl checks with two emulated ranks, here on the real GPU with its real
// asynchrony: the communicator made from a unique id, all-reduce and broadcast on the main and
// the comm stream, and the gradient bucketer with `even_alone`, whose all-reduces run on the
// comm stream while backward goes on. The average over one rank is the rank's own gradient, so
// any missing wait between the streams shows as a stale or half-written gradient.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "distributed/data_parallel.hpp"
#include "distributed/nccl_comm.hpp"
#include "distributed/process_group.hpp"
#include "layers/layers.hpp"

using namespace dlcraft;
namespace dist = dlcraft::distributed;

namespace {

// Wide enough that a copy or an all-reduce takes a while on the GPU: a race would show.
std::shared_ptr<Sequential> make_wide_mlp(uint64_t seed) {
  manual_seed(seed);
  auto m = std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
      std::make_shared<Linear>(301, 513), std::make_shared<ReLU>(), std::make_shared<Linear>(513, 509),
      std::make_shared<ReLU>(), std::make_shared<Linear>(509, 257), std::make_shared<ReLU>(),
      std::make_shared<Linear>(257, 11)});
  m->to(Device::cuda());
  return m;
}

}  // namespace

TEST_CASE("NCCL on one GPU: all_reduce and broadcast on both streams", "[nccl]") {
  if (!dist::built_with_nccl()) {
    WARN("built without NCCL: nothing to check here (" << dist::nccl_version() << ")");
    return;
  }
  REQUIRE(dist::world_size() == 1);
  std::printf("gpu_nccl: %s\n", dist::nccl_version().c_str());
  Generator gen(91);
  for (int64_t n : {int64_t(1), int64_t(1029), int64_t(1000003)}) {
    CAPTURE(n);
    const Tensor host = Tensor::normal({n}, gen);
    Tensor t = host.to(Device::cuda());
    dist::nccl_all_reduce(t, dist::NcclOp::kSum);
    REQUIRE(t.to_vector() == host.to_vector());  // the sum over one rank
    // On the comm stream, right after a kernel on the main stream wrote the input (x * 3).
    Tensor c = mul(host.to(Device::cuda()), 3.0);
    dist::comm_waits_for_main();
    dist::nccl_all_reduce(c, dist::NcclOp::kAvg, dist::CudaStream::kComm);
    dist::main_waits_for_comm();
    REQUIRE(c.to_vector() == mul(host, 3.0).to_vector());
    Tensor b = host.to(Device::cuda());
    dist::nccl_broadcast(b, 0);
    REQUIRE(b.to_vector() == host.to_vector());
  }
  Tensor b = Tensor::normal({7}, gen).to(Device::cuda());
  REQUIRE_THROWS_WITH(dist::nccl_broadcast(b, 1), Catch::Contains("root 1 is not a rank"));
  Tensor host = Tensor::normal({7}, gen);
  REQUIRE_THROWS_AS(dist::nccl_all_reduce(host, dist::NcclOp::kSum), DeviceError);
}

TEST_CASE("NCCL on one GPU: GradientBucketer (even_alone) overlaps and leaves the grads exact", "[nccl]") {
  if (!dist::built_with_nccl()) {
    WARN("built without NCCL: nothing to check here");
    return;
  }
  auto model = make_wide_mlp(5), reference = make_wide_mlp(5);
  // 300 KiB buckets: the 513x509 weight (about 1 MiB) alone, others split: several buckets.
  dist::GradientBucketer bucketer(model->named_parameters(), 300 << 10, /*even_alone=*/true);
  REQUIRE(bucketer.num_buckets() >= 4);
  REQUIRE(bucketer.overlaps() == dist::nccl_enabled());
  Generator gen(17);
  for (int step = 0; step < 3; ++step) {  // new data each step: a stale bucket would show
    CAPTURE(step);
    const Tensor x = Tensor::normal({67, 301}, gen).to(Device::cuda());
    std::vector<int32_t> labels(67);
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = int32_t((i * 7 + size_t(step)) % 11);
    for (auto& p : model->parameters()) p.set_grad(Tensor());
    for (auto& p : reference->parameters()) p.set_grad(Tensor());
    cross_entropy(model->forward(x), labels).backward();
    if (dist::nccl_enabled()) REQUIRE(bucketer.buckets_started_in_backward() == bucketer.num_buckets());
    bucketer.all_reduce_mean();
    cross_entropy(reference->forward(x), labels).backward();
    const auto got = model->named_parameters(), want = reference->named_parameters();
    for (size_t i = 0; i < got.size(); ++i) {
      CAPTURE(got[i].first);
      const std::vector<float> g = got[i].second.grad().to_vector(), w = want[i].second.grad().to_vector();
      REQUIRE(g.size() == w.size());
      size_t bad = 0;
      for (size_t k = 0; k < g.size(); ++k) bad += !(std::fabs(g[k] - w[k]) <= 1e-6f * (1 + std::fabs(w[k])));
      REQUIRE(bad == 0);
    }
  }
}
