// Data-parallel pieces that run in one process (docs/distributed.md): shard_indices (disjoint,
// covering, padded as DistributedSampler), the sharded TensorLoader and DataLoader, reading the
// launcher's environment, the gradient buckets' layout, and the collectives with one process.
// The multi-process behaviour is in tests/dist/ (mpirun).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/random.hpp"
#include "datasets/dataloader.hpp"
#include "datasets/tensor_dataset.hpp"
#include "distributed/data_parallel.hpp"
#include "distributed/local_resources.hpp"
#include "distributed/process_group.hpp"

using namespace dlcraft;

namespace {

// A random permutation of 0..n-1 (as an epoch's order).
std::vector<int64_t> shuffled(int64_t n, uint64_t seed) { return epoch_order(n, seed, 3, true); }

// Rows whose single feature is the row's index, so a batch says which rows it holds.
TensorDataset index_rows(int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    x[size_t(i)] = float(i);
    y[size_t(i)] = i % 3;
  }
  return TensorDataset(Tensor::from_vector(x, {n, 1}), Tensor::from_vector(y, {n}));
}

// Every row index a loader hands out in one epoch, in order.
std::vector<int64_t> rows_read(TensorLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<int64_t> rows;
  Tensor x;
  std::vector<int32_t> labels;
  while (loader.next_batch(Device::cpu(), x, labels))
    for (float v : x.to_vector()) rows.push_back(int64_t(v));
  return rows;
}

}  // namespace

TEST_CASE("shard_indices: disjoint shards that cover the order, padded to equal lengths", "[shard]") {
  Generator gen(41);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t n = 1 + int64_t(gen.below(97));
    const int count = 1 + int(gen.below(7));
    const std::vector<int64_t> order = shuffled(n, 100 + trial);
    const int64_t per_rank = (n + count - 1) / count;
    const int64_t padding = per_rank * count - n;
    CAPTURE(n, count);
    std::map<int64_t, int> seen;
    for (int r = 0; r < count; ++r) {
      const std::vector<int64_t> shard = shard_indices(order, r, count);
      REQUIRE(int64_t(shard.size()) == per_rank);
      // DistributedSampler: rank r takes positions r, r + count, ... of the padded order.
      for (int64_t k = 0; k < per_rank; ++k) REQUIRE(shard[size_t(k)] == order[size_t((r + k * count) % n)]);
      for (int64_t i : shard) ++seen[i];
    }
    // Every index is read; only the padding (the order's first elements) is read twice.
    REQUIRE(int64_t(seen.size()) == n);
    int64_t extra = 0;
    for (const auto& [index, times] : seen) extra += times - 1;
    REQUIRE(extra == padding);
    for (int64_t k = 0; k < padding; ++k) REQUIRE(seen[order[size_t(k % n)]] >= 2);
  }
}

TEST_CASE("shard_indices: exact division gives disjoint shards; one shard is the order itself", "[shard]") {
  const std::vector<int64_t> order = shuffled(36, 7);
  std::set<int64_t> all;
  for (int r = 0; r < 4; ++r)
    for (int64_t i : shard_indices(order, r, 4)) REQUIRE(all.insert(i).second);  // no repeats
  REQUIRE(all.size() == 36);
  REQUIRE(shard_indices(order, 0, 1) == order);
  // More ranks than elements: the padding wraps around the order.
  REQUIRE(shard_indices({5, 9}, 4, 5) == std::vector<int64_t>{5});
  REQUIRE(shard_indices({5, 9}, 3, 5) == std::vector<int64_t>{9});
}

TEST_CASE("shard_indices: bad counts and ranks are ArgumentErrors naming them", "[shard]") {
  const std::vector<int64_t> order = shuffled(10, 1);
  REQUIRE_THROWS_MATCHES(shard_indices(order, 0, 0), ArgumentError, Catch::Message("shard_indices: the shard count must be >= 1, got 0"));
  REQUIRE_THROWS_WITH(shard_indices(order, 3, 3), Catch::Contains("rank 3 is outside [0, 3)"));
  REQUIRE_THROWS_WITH(shard_indices(order, -1, 2), Catch::Contains("rank -1"));
  REQUIRE_THROWS_AS(shard_indices({}, 0, 2), ArgumentError);
}

TEST_CASE("shard_indices without padding (evaluation): an exact partition, lengths within one", "[shard]") {
  for (const int64_t n : {1, 2, 5, 37, 100}) {
    for (const int count : {1, 2, 3, 7}) {
      const std::vector<int64_t> order = shuffled(n, uint64_t(n * 10 + count));
      std::vector<int64_t> all;
      int64_t shortest = n, longest = 0;
      for (int r = 0; r < count; ++r) {
        const std::vector<int64_t> shard = shard_indices(order, r, count, /*pad=*/false);
        INFO("n " << n << ", rank " << r << " of " << count);
        REQUIRE(int64_t(shard.size()) == shard_size(n, r, count, false));
        // Rank r holds the order's positions r, r + count, ...
        for (size_t k = 0; k < shard.size(); ++k) REQUIRE(shard[k] == order[size_t(r) + k * size_t(count)]);
        shortest = std::min<int64_t>(shortest, int64_t(shard.size()));
        longest = std::max<int64_t>(longest, int64_t(shard.size()));
        all.insert(all.end(), shard.begin(), shard.end());
      }
      REQUIRE(longest - shortest <= 1);
      std::sort(all.begin(), all.end());
      std::vector<int64_t> expected(static_cast<size_t>(n));
      std::iota(expected.begin(), expected.end(), 0);
      REQUIRE(all == expected);  // every element exactly once
    }
  }
  // Fewer elements than ranks: the last ranks get nothing (they evaluate nothing).
  REQUIRE(shard_indices({4, 9}, 2, 3, false).empty());
  REQUIRE(shard_size(2, 2, 3, false) == 0);
  REQUIRE(shard_size(2, 2, 3, true) == 1);
}

TEST_CASE("TensorLoader and DataLoader with shard_pad = false read every row once over the ranks", "[shard]") {
  const int64_t n = 23;
  const TensorDataset data = index_rows(n);
  std::vector<int64_t> all;
  for (int r = 0; r < 4; ++r) {
    TensorLoader loader(data, {4, true, false, 6, r, 4, /*shard_pad=*/false});
    const std::vector<int64_t> rows = rows_read(loader, 2);
    REQUIRE(int64_t(rows.size()) == (r < 3 ? 6 : 5));
    REQUIRE(loader.batches_per_epoch() == 2);
    all.insert(all.end(), rows.begin(), rows.end());
  }
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < n; ++i) REQUIRE(all[size_t(i)] == i);

  ImageDataset images;
  images.images.assign(size_t(n) * ImageDataset::kImageBytes, 7);
  for (int64_t i = 0; i < n; ++i) images.labels.push_back(int32_t(i));
  std::vector<int32_t> labels_seen;
  for (int r = 0; r < 4; ++r) {
    DataLoaderOptions opt;
    opt.batch_size = 4;
    opt.prefetch = 1;
    opt.shard_rank = r;
    opt.shard_count = 4;
    opt.shard_pad = false;
    DataLoader loader(images, opt);
    loader.start_epoch(1);
    while (const Batch* b = loader.next()) labels_seen.insert(labels_seen.end(), b->labels.begin(), b->labels.begin() + b->size);
  }
  std::sort(labels_seen.begin(), labels_seen.end());
  REQUIRE(labels_seen.size() == size_t(n));
  for (int64_t i = 0; i < n; ++i) REQUIRE(labels_seen[size_t(i)] == i);
}

TEST_CASE("local_process_count: the launcher's count of processes on this machine", "[distributed]") {
  std::map<std::string, std::string> env;
  auto getenv = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  REQUIRE(distributed::local_process_count(getenv) == 1);
  env["SLURM_NTASKS_PER_NODE"] = "2(x3)";  // Slurm's per-node list: not a plain count
  REQUIRE(distributed::local_process_count(getenv) == 1);
  env["SLURM_NTASKS_PER_NODE"] = "6";
  REQUIRE(distributed::local_process_count(getenv) == 6);
  env["MPI_LOCALNRANKS"] = "3";
  REQUIRE(distributed::local_process_count(getenv) == 3);
  env["OMPI_COMM_WORLD_LOCAL_SIZE"] = "4";
  REQUIRE(distributed::local_process_count(getenv) == 4);
  env["OMPI_COMM_WORLD_LOCAL_SIZE"] = "-2";
  REQUIRE(distributed::local_process_count(getenv) == 3);
}

TEST_CASE("TensorLoader: shards of an epoch are disjoint, cover it, and keep the step count equal", "[shard]") {
  const int64_t n = 53;
  const TensorDataset data = index_rows(n);
  for (int count : {2, 3, 5}) {
    CAPTURE(count);
    std::vector<int64_t> all;
    int64_t batches = -1;
    for (int r = 0; r < count; ++r) {
      TensorLoaderOptions opt;
      opt.batch_size = 4;
      opt.seed = 9;
      opt.shard_rank = r;
      opt.shard_count = count;
      TensorLoader loader(data, opt);
      const std::vector<int64_t> rows = rows_read(loader, 2);
      // The shard is shard_indices of the unsharded epoch order.
      REQUIRE(rows == shard_indices(epoch_order(n, 9, 2, true), r, count));
      REQUIRE(loader.rows_per_epoch() == int64_t(rows.size()));
      if (batches >= 0) REQUIRE(loader.batches_per_epoch() == batches);  // every rank steps together
      batches = loader.batches_per_epoch();
      all.insert(all.end(), rows.begin(), rows.end());
    }
    std::set<int64_t> distinct(all.begin(), all.end());
    REQUIRE(int64_t(distinct.size()) == n);
    REQUIRE(int64_t(all.size()) == (n + count - 1) / count * count);
  }
}

TEST_CASE("TensorLoader: shard 0 of 1 reads what an unsharded loader reads", "[shard]") {
  const TensorDataset data = index_rows(29);
  TensorLoaderOptions plain;
  plain.batch_size = 6;
  plain.seed = 4;
  TensorLoaderOptions one = plain;
  one.shard_rank = 0;
  one.shard_count = 1;
  TensorLoader a(data, plain), b(data, one);
  REQUIRE(rows_read(a, 1) == rows_read(b, 1));
  REQUIRE(rows_read(a, 1) == epoch_order(29, 4, 1, true));
  REQUIRE(a.batches_per_epoch() == 5);
}

TEST_CASE("TensorLoader: a shard that does not exist is an ArgumentError", "[shard]") {
  TensorLoaderOptions opt;
  opt.shard_rank = 2;
  opt.shard_count = 2;
  REQUIRE_THROWS_WITH(TensorLoader(index_rows(8), opt), Catch::Contains("shard 2 of 2 does not exist"));
  opt.shard_rank = 0;
  opt.shard_count = 4;
  opt.batch_size = 3;
  opt.drop_last = true;  // 10 rows / 4 ranks = shards of 3: one batch each
  REQUIRE(TensorLoader(index_rows(10), opt).batches_per_epoch() == 1);
  opt.batch_size = 4;    // but not of 4
  REQUIRE_THROWS_WITH(TensorLoader(index_rows(10), opt), Catch::Contains("a shard of 3 rows leaves no batch"));
}

TEST_CASE("DataLoader: the shards' images and crops are those of the one-process epoch", "[shard]") {
  // Every image different; its label is its index, so a batch says which images it holds.
  ImageDataset data;
  const int64_t n = 37;
  data.images.resize(size_t(n) * ImageDataset::kImageBytes);
  for (int64_t i = 0; i < n; ++i)
    for (int k = 0; k < ImageDataset::kImageBytes; ++k)
      data.images[size_t(i * ImageDataset::kImageBytes + k)] = uint8_t((i * 7 + k * 13) % 251);
  for (int64_t i = 0; i < n; ++i) data.labels.push_back(int32_t(i));  // the label names the image
  auto read_epoch = [&](int rank, int count, std::vector<std::vector<float>>& images) {
    DataLoaderOptions opt;
    opt.batch_size = 5;
    opt.seed = 12;
    opt.prefetch = 1;
    opt.shard_rank = rank;
    opt.shard_count = count;
    DataLoader loader(data, opt);
    loader.start_epoch(1);
    std::vector<int32_t> labels;
    while (const Batch* b = loader.next())
      for (int64_t i = 0; i < b->size; ++i) {
        labels.push_back(b->labels[size_t(i)]);
        images.emplace_back(b->images.begin() + i * ImageDataset::kImageBytes,
                            b->images.begin() + (i + 1) * ImageDataset::kImageBytes);
      }
    REQUIRE(loader.batches_per_epoch() == (int64_t(labels.size()) + 4) / 5);
    return labels;
  };
  DataLoaderOptions bad;
  bad.shard_rank = 3;
  bad.shard_count = 3;
  REQUIRE_THROWS_MATCHES(DataLoader(data, bad), ArgumentError, Catch::Message("DataLoader: shard 3 of 3 does not exist"));
  std::vector<std::vector<float>> whole_images;
  const std::vector<int32_t> whole = read_epoch(0, 1, whole_images);
  REQUIRE(whole.size() == size_t(n));
  for (int r = 0; r < 3; ++r) {
    std::vector<std::vector<float>> images;
    const std::vector<int32_t> shard = read_epoch(r, 3, images);
    REQUIRE(shard.size() == size_t((n + 2) / 3));
    for (size_t k = 0; k < shard.size(); ++k) {
      const size_t global = size_t(r + int64_t(k) * 3);
      if (global >= size_t(n)) continue;  // padding: a repeat of the epoch's first image
      REQUIRE(shard[k] == whole[global]);
      REQUIRE(images[k] == whole_images[global]);  // the same crop and flip as in one process
    }
  }
}

TEST_CASE("launch_from_environment: Open MPI, PMI and Slurm variables, and none", "[distributed]") {
  std::map<std::string, std::string> env;
  auto get = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  using distributed::launch_from_environment;
  REQUIRE(launch_from_environment(get).world_size == 1);
  REQUIRE(launch_from_environment(get).launcher.empty());

  env = {{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"}};
  auto info = launch_from_environment(get);
  REQUIRE((info.rank == 5 && info.world_size == 8 && info.local_rank == 1 && info.launcher == "Slurm"));

  env = {{"PMI_RANK", "2"}, {"PMI_SIZE", "3"}};
  info = launch_from_environment(get);
  REQUIRE((info.rank == 2 && info.world_size == 3 && info.local_rank == 0 && info.launcher == "PMI"));

  // mpirun inside a Slurm allocation: Open MPI's own variables win.
  env = {{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
         {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}};
  info = launch_from_environment(get);
  REQUIRE((info.rank == 3 && info.world_size == 4 && info.local_rank == 1 && info.launcher == "Open MPI"));

  env = {{"OMPI_COMM_WORLD_RANK", "4"}, {"OMPI_COMM_WORLD_SIZE", "4"}};
  REQUIRE_THROWS_WITH(launch_from_environment(get), Catch::Contains("OMPI_COMM_WORLD_RANK=4 is outside"));
  env = {{"SLURM_PROCID", "x1"}, {"SLURM_NTASKS", "2"}};
  REQUIRE_THROWS_MATCHES(launch_from_environment(get), ArgumentError,
                         Catch::Message("distributed: the launcher's variable SLURM_PROCID=\"x1\" is not a non-negative number"));
  env = {{"PMI_RANK", "0"}, {"PMI_SIZE", "0"}};
  REQUIRE_THROWS_WITH(launch_from_environment(get), Catch::Contains("PMI_SIZE=0"));
}

TEST_CASE("GradientBucketer: buckets in reverse registration order, split at the byte cap", "[distributed]") {
  // Parameters of 10, 30, 7, 50, 3 floats (40, 120, 28, 200, 12 bytes); one is frozen.
  std::vector<std::pair<std::string, Tensor>> params;
  const std::vector<int64_t> sizes = {10, 30, 7, 50, 3};
  Generator gen(5);
  for (size_t i = 0; i < sizes.size(); ++i)
    params.emplace_back("p" + std::to_string(i), Tensor::normal({sizes[i]}, gen).requires_grad_(true));
  Tensor frozen = Tensor::normal({4}, gen);
  params.emplace_back("frozen", frozen);

  // Cap 160 bytes, from the last parameter: [4: 12 B, 3: 200 B > cap -> own bucket]...
  distributed::GradientBucketer small(params, 160);
  using B = std::vector<std::vector<size_t>>;
  REQUIRE(small.buckets() == B{{4}, {3}, {2, 1}, {0}});
  // The default 25 MiB: one bucket, last parameter first; the frozen one is not in it.
  distributed::GradientBucketer one(params);
  REQUIRE(one.buckets() == B{{4, 3, 2, 1, 0}});
  REQUIRE_THROWS_WITH(distributed::GradientBucketer(params, 0), Catch::Contains("bucket_bytes must be >= 1"));
  std::vector<std::pair<std::string, Tensor>> missing = {{"fc.weight", Tensor()}};
  REQUIRE_THROWS_MATCHES(distributed::GradientBucketer(missing, 100), ArgumentError,
                         Catch::Message("GradientBucketer: parameter fc.weight is undefined"));
}

TEST_CASE("distributed: one process without a launcher; collectives leave the values as they are", "[distributed]") {
  // ctest runs this program without mpirun: world of one.
  REQUIRE(distributed::world_size() == 1);
  REQUIRE(distributed::rank() == 0);
  REQUIRE(distributed::is_main());
  REQUIRE(distributed::rank_name() == "rank 0 of 1");
  Generator gen(3);
  Tensor t = Tensor::normal({17}, gen);
  const std::vector<float> before = t.to_vector();
  distributed::all_reduce_mean(t);
  distributed::broadcast(t, 0);
  REQUIRE(t.to_vector() == before);
  std::vector<double> sums = {1.5, -2.25};
  distributed::all_reduce_sum(sums);
  REQUIRE(sums == std::vector<double>{1.5, -2.25});
  distributed::barrier();
  REQUIRE_THROWS_AS(distributed::broadcast(t, 1), ArgumentError);
  Tensor ints = Tensor::zeros({3}).to(DType::Int64);
  REQUIRE_THROWS_MATCHES(distributed::all_reduce_sum(ints), DTypeError,
                         Catch::Message("rank 0 of 1: all_reduce: tensor " + ints.str() + " is int64; it takes float32"));
  Tensor undefined;
  REQUIRE_THROWS_AS(distributed::all_reduce_sum(undefined), ArgumentError);
}

// Hidden: ctest runs it only in a build without MPI (dist.without_mpi), with the environment of
// a launcher that started two processes.
TEST_CASE("distributed: a build without MPI refuses a launch of more than one process", "[.][no-mpi]") {
  REQUIRE_FALSE(distributed::built_with_mpi());
  REQUIRE(distributed::launch_from_environment().world_size == 2);
  REQUIRE_THROWS_AS(distributed::init(), distributed::DistributedError);
  REQUIRE_THROWS_WITH(distributed::init(), Catch::Contains("(Open MPI) started 2 processes, but dlcraft was "
                                                           "built without MPI: install libopenmpi-dev openmpi-bin"));
  REQUIRE_FALSE(distributed::initialized());
  REQUIRE_THROWS_AS(distributed::world_size(), distributed::DistributedError);
}
