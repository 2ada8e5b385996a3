// Data-parallel training (docs/distributed.md): every process holds a whole replica of the model
// and trains on its own shard of each batch. Two things keep the replicas equal:
//  - at the start, rank 0's parameters, buffers and optimizer state are copied to every rank
//    (broadcast_parameters, broadcast_optimizer_state), and
//  - after each backward, the gradients are averaged over the ranks (GradientBucketer), so
//    every rank's optimizer takes the same step.
// CPU tensors over MPI in this version (distributed/process_group.hpp).
#pragma once
#include <cstdint>
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
// backward produces the last layers' gradients first (with NCCL, a bucket can then be reduced
// while backward goes on). A parameter larger than a bucket gets a bucket of its own.
// Parameters that do not require grad are left out. A parameter without a gradient on this rank
// (a branch not taken) counts as zeros; after the reduce it has the averaged gradient.
class GradientBucketer {
 public:
  // ArgumentError for bucket_bytes < 1 or a parameter that is not float32 in host memory.
  explicit GradientBucketer(std::vector<std::pair<std::string, Tensor>> params,
                            int64_t bucket_bytes = kDefaultBucketBytes);
  // Call after backward and before optimizer.step(): every grad becomes the mean over ranks.
  // With one process: nothing to do.
  void all_reduce_mean();
  // Bucket b's parameters, as indices into the constructor's list (in the order reduced).
  const std::vector<std::vector<size_t>>& buckets() const { return buckets_; }
  int64_t num_buckets() const { return int64_t(buckets_.size()); }

 private:
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::vector<size_t>> buckets_;
  std::vector<int64_t> bucket_numel_;
  std::vector<Tensor> flat_;  // one buffer per bucket, allocated once (as DDP keeps them)
};

}  // namespace distributed
}  // namespace dlcraft
