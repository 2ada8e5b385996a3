// Data-parallel training (docs/distributed.md): every process holds a whole replica of the model
// and trains on its own shard of each batch. Two things keep the replicas equal:
//  - at the start, rank 0's parameters, buffers and optimizer state are copied to every rank
//    (broadcast_parameters, broadcast_optimizer_state), and
//  - after each backward, the gradients are averaged over the ranks (GradientBucketer), so
//    every rank's optimizer takes the same step.
// CPU tensors over MPI, CUDA tensors over NCCL (distributed/process_group.hpp, nccl_comm.hpp).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"
#include "layers/module.hpp"
#include "optim/optimizer.hpp"

namespace dlcraft {
namespace distributed {

// Copies rank `root`'s parameters and buffers into every rank's model, in place. The models
// must have the same names, shapes and dtypes on every rank: otherwise every rank throws a
// DistributedError naming the first that differs (no rank is left waiting). Tensors on a GPU
// go through host memory.
void broadcast_parameters(Module& model, int root = 0);
void broadcast_parameters(const std::vector<std::pair<std::string, Tensor>>& named, int root = 0);

// Copies rank `root`'s optimizer state (moments, step counts: Optimizer::state()) into every
// rank's optimizer with load_state, so a run resumed from a checkpoint read on rank 0 alone
// continues the same on all ranks.
void broadcast_optimizer_state(Optimizer& optimizer, int root = 0);

// 25 MiB, the bucket size of PyTorch's DistributedDataParallel (bucket_cap_mb = 25).
constexpr int64_t kDefaultBucketBytes = int64_t(25) << 20;

// Averages the gradients of a set of parameters over the ranks, several parameters per
// all-reduce: one message per bucket of about `bucket_bytes` instead of one per parameter (a
// ResNet has ~160). The buckets are filled in reverse registration order, as DDP does, because
// backward produces the last layers' gradients first. A parameter larger than a bucket gets a
// bucket of its own. Parameters that do not require grad are left out. A parameter without a
// gradient on this rank (a branch not taken) counts as zeros; after the reduce it has the
// averaged gradient.
//
// CUDA parameters have one flat buffer per bucket on the GPU. With NCCL the bucketer overlaps
// (docs/distributed.md, "CUDA tensors: NCCL"): a hook on each parameter
// (register_post_accumulate_grad_hook) copies its final gradient into the bucket during
// backward, and the bucket whose gradients are all final starts its all-reduce on the comm
// stream at once, while backward goes on on the main stream. Buckets start in order 0, 1, ...
// on every rank (NCCL's collectives must pair up). all_reduce_mean() then starts what backward
// did not (parameters it did not reach), makes the main stream wait for the comm stream, and
// copies the averages into the grads. Without NCCL (or with DLCRAFT_NO_NCCL=1) the buckets go
// through host memory, one after the other in all_reduce_mean().
class GradientBucketer {
 public:
  // ArgumentError for bucket_bytes < 1, a parameter that is not float32, or a mix of CPU and
  // CUDA parameters. `even_alone`: reduce (and overlap) also with one process, which changes
  // nothing but runs the whole path (the 1-GPU check of the NCCL plumbing, tests/gpu/).
  explicit GradientBucketer(std::vector<std::pair<std::string, Tensor>> params,
                            int64_t bucket_bytes = kDefaultBucketBytes, bool even_alone = false);
  ~GradientBucketer();  // removes its hooks
  GradientBucketer(GradientBucketer&&) noexcept;
  GradientBucketer& operator=(GradientBucketer&&) noexcept;
  GradientBucketer(const GradientBucketer&) = delete;
  GradientBucketer& operator=(const GradientBucketer&) = delete;

  // Call after backward and before optimizer.step(): every grad becomes the mean over ranks.
  // With one process (and no even_alone): nothing to do. A second backward before this call
  // (gradient accumulation) is fine: the buckets backward started are then reduced again.
  void all_reduce_mean();
  // Bucket b's parameters, as indices into the constructor's list (in the order reduced).
  const std::vector<std::vector<size_t>>& buckets() const;
  int64_t num_buckets() const { return int64_t(buckets().size()); }
  // Whether the buckets are reduced during backward (CUDA parameters, nccl_enabled(), more than
  // one process or even_alone).
  bool overlaps() const;
  // Buckets whose all-reduce backward has started since the last all_reduce_mean() (tests).
  int64_t buckets_started_in_backward() const;

 private:
  struct State;  // shared with the hooks, which hold it weakly
  std::shared_ptr<State> s_;
};

}  // namespace distributed
}  // namespace dlcraft
