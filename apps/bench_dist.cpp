// bench_dist: how data parallelism scales the notes' CNN on this machine (docs/distributed.md).
//   bench_dist --batch-size 32 --threads 2                       # one process
//   mpirun -np 2 bench_dist --batch-size 32 --threads 1          # two processes
// Times the parts of a training step on random images: forward + backward (compute), the wait
// for the slowest rank, the gradient all-reduce (GradientBucketer, 25 MiB buckets), the Adam
// update. Prints, on rank 0,
// each part's median over --steps, images/s for the whole job (N x batch per step), and the
// all-reduce's bus bandwidth (ring: each rank sends 2(N-1)/N of the gradient bytes). With
// --model-images-per-second (a one-process figure) it also prints what the scaling model of
// docs/distributed.md predicts for N processes from the measured all-reduce. Nothing passes or
// fails here.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "apps/app_common.hpp"
#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "core/threads.hpp"
#include "distributed/data_parallel.hpp"
#include "distributed/local_resources.hpp"
#include "distributed/process_group.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "layers/cnn.hpp"
#include "optim/optimizer.hpp"

using namespace dlcraft;
namespace dist = dlcraft::distributed;

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// The slowest rank's value: a step waits for the slowest.
double max_over_ranks(double v) {
  std::vector<double> all(size_t(dist::world_size()), 0.0);
  all[size_t(dist::rank())] = v;
  dist::all_reduce_sum(all);
  return *std::max_element(all.begin(), all.end());
}

}  // namespace

int main(int argc, char** argv) {
  int batch = 32, steps = 10, warmup = 2, threads = 0;
  std::string device_name = "cpu";
  double one_process_ips = 0;
  CLI::App app{"Data-parallel scaling of the notes' CNN: compute, all-reduce and update times per step."};
  app.add_option("--batch-size", batch, "images per step and process")->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--steps", steps, "timed steps")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--warmup", warmup, "untimed steps first")->check(CLI::Range(0, 1000))->capture_default_str();
  app.add_option("--threads", threads, "CPU threads per process (default: the cores / processes on this machine)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--device", device_name, "cpu or cuda (one GPU per process)")
      ->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  app.add_option("--model-images-per-second", one_process_ips,
                 "images/s of one process at this batch size: print the scaling model's prediction")
      ->check(CLI::Range(0.0, 1e12));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return dist::run_guarded([&] {
    dist::init();
    const int N = dist::world_size();
    if (threads == 0) threads = std::max(1, int(std::thread::hardware_concurrency()) / dist::local_process_count());
    set_num_threads(threads);
    if (device_name == "cuda") dist::use_local_gpu();
    const Device device = choose_device(device_name);
    auto sync = [&] {
      if (device.is_cuda()) cuda_synchronize();
    };

    manual_seed(1);
    CNN model(10);
    model.to(device);
    dist::broadcast_parameters(model);
    Adam opt(model.named_parameters(), AdamOptions{1e-4f});
    dist::GradientBucketer buckets(model.named_parameters());
    Generator gen(100 + uint64_t(dist::rank()));  // each rank its own images
    const Tensor x = Tensor::normal({batch, 3, 32, 32}, gen).to(device);
    std::vector<int32_t> labels(static_cast<size_t>(batch));
    for (int i = 0; i < batch; ++i) labels[size_t(i)] = int32_t(gen.below(10));

    std::vector<double> compute, wait, reduce, update, step;
    for (int s = 0; s < warmup + steps; ++s) {
      dist::barrier();  // every rank starts the step together
      const double t0 = now_ms();
      opt.zero_grad();
      cross_entropy(model(x), labels).backward();
      sync();
      const double t1 = now_ms();
      // Timed apart: the wait for the slowest rank's backward, then the all-reduce itself
      // (in training the all-reduce does both; the barrier only splits the time).
      dist::barrier();
      const double t2 = now_ms();
      buckets.all_reduce_mean();
      sync();
      const double t3 = now_ms();
      opt.step();
      sync();
      const double t4 = now_ms();
      if (s < warmup) continue;
      compute.push_back(t1 - t0);
      wait.push_back(t2 - t1);
      reduce.push_back(t3 - t2);
      update.push_back(t4 - t3);
      step.push_back(t4 - t0);
    }
    const double c = max_over_ranks(median(compute)), w = max_over_ranks(median(wait));
    const double r = max_over_ranks(median(reduce)), u = max_over_ranks(median(update));
    const double t = max_over_ranks(median(step));
    const double bytes = 4.0 * double(model.parameter_count());
    if (dist::is_main()) {
      std::printf("bench_dist: CNN, %lld parameters (%.1f MB of gradients), %d process%s x batch %d (global %d), "
                  "%d thread%s each, device %s, %d buckets\n",
                  (long long)model.parameter_count(), bytes / 1e6, N, N == 1 ? "" : "es", batch, N * batch, threads,
                  threads == 1 ? "" : "s", device.str().c_str(), int(buckets.num_buckets()));
      std::printf("per step (median of %d, slowest rank): compute %.1f ms | waiting for the slowest %.1f ms | "
                  "all-reduce %.2f ms | update %.1f ms | total %.1f ms\n", steps, c, w, r, u, t);
      std::printf("images/s: %.1f (%d x %d images per %.1f ms)\n", 1000.0 * N * batch / t, N, batch, t);
      if (N > 1)
        std::printf("all-reduce: %.2f GB/s bus bandwidth (ring: 2(N-1)/N x %.1f MB per rank in %.2f ms)\n",
                    2.0 * (N - 1) / N * bytes / (r * 1e6), bytes / 1e6, r);
      if (one_process_ips > 0) {
        // docs/distributed.md §8: t_step(N) = t_step(1) + t_allreduce(N), images/s = N B / t_step.
        const double t1 = 1000.0 * batch / one_process_ips;
        std::printf("scaling model: one process %.1f ms/step + all-reduce %.2f ms -> %.1f images/s predicted for "
                    "%d processes, %.1f measured\n",
                    t1, r, 1000.0 * N * batch / (t1 + r), N, 1000.0 * N * batch / t);
      }
    }
    return 0;
  });
}
