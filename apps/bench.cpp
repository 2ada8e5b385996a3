// bench: how fast the notes' CNN trains, and where the time goes.
//   bench --device cpu --threads 2 --batch-sizes 32,128
// Prints images/s of a full training step (forward, loss, backward, Adam) per batch size, then
// forward/backward times of each op at the model's layer shapes. --tensor-ops adds the tensor
// library's element-wise and reduction kernels against memory bandwidth; --kernel-steps the
// teaching kernels' versions side by side (docs/kernel_steps.md). Timings are medians over
// --repeats runs after --warmup runs; nothing here passes or fails. The training table adds the
// allocations per step in the steady state; the peak RSS comes last; --json writes it all for
// scripts/bench_cpu_vs_torch.py (beside PyTorch).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "apps/app_common.hpp"
#include "train/training.hpp"
#include "core/allocator.hpp"
#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "core/threads.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernel_steps.hpp"
#include "kernels/cuda/kernels_cuda.hpp"
#include "layers/cnn.hpp"
#include "layers/models.hpp"

using namespace dlcraft;

namespace {

double median_ms(int warmup, int repeats, const std::function<void()>& fn, Device device) {
  for (int i = 0; i < warmup; ++i) fn();
  if (device.is_cuda()) cuda_synchronize();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    if (device.is_cuda()) cuda_synchronize();  // GPU work is asynchronous: wait for it
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// What --json writes (scripts/bench_cpu_vs_torch.py reads it beside PyTorch's figures).
struct Report {
  nlohmann::json train = nlohmann::json::array();
  nlohmann::json ops = nlohmann::json::object();  // batch -> [{name, shape, fwd_ms, bwd_ms}]
};

void bench_training(Device device, int batch, int warmup, int repeats, Report& report) {
  manual_seed(0);
  CNN model;
  model.to(device);
  Adam opt(model.named_parameters(), {1e-4f});
  Generator gen(1);
  Tensor x = Tensor::normal({batch, 3, 32, 32}, gen, device);
  std::vector<int32_t> labels(batch);
  for (int i = 0; i < batch; ++i) labels[i] = i % 10;
  // Allocations per step in the steady state (after the warm-up): blocks from the system
  // (malloc/cudaMalloc: should be 0 once the cache holds a step's shapes) and from the cache.
  AllocatorStats before;
  int timed = 0;
  double ms = median_ms(warmup, repeats, [&] {
    if (timed++ == warmup) before = allocator_stats(device);
    train_step(model, opt, x, labels);
  }, device);
  const AllocatorStats after = allocator_stats(device);
  const double steps = double(std::max(1, timed - warmup));
  const double system_allocs = double(after.system_allocs - before.system_allocs) / steps;
  const double cached_allocs = double(after.cached_allocs - before.cached_allocs) / steps;
  std::printf("%-10s %6d %12.2f %12.1f %14.1f %14.1f\n", "train_step", batch, ms, batch / (ms / 1000.0),
              system_allocs, cached_allocs);
  report.train.push_back({{"batch", batch}, {"ms", ms}, {"images_per_second", batch / (ms / 1000.0)},
                          {"system_allocs_per_step", system_allocs}, {"cached_allocs_per_step", cached_allocs}});
}

// The process's peak resident memory so far (Linux: ru_maxrss is in KiB).
double peak_rss_mb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

struct ConvCase { const char* name; int c, k, hw; };

// Inference of a model-zoo model (random weights: the speed does not depend on them) on
// (batch, 3, size, size) in eval mode without the graph, as `classify` runs it.
void bench_model_inference(const std::string& name, Device device, const std::vector<int>& batches, int size,
                           int warmup, int repeats) {
  manual_seed(0);
  auto model = make_model(name);
  model->to(device);
  model->eval();
  NoGradGuard no_grad;
  std::printf("\n%s inference on %s, %dx%d images, median of %d:\n%-10s %6s %12s %12s\n", name.c_str(),
              device.str().c_str(), size, size, repeats, "model", "batch", "ms/batch", "images/s");
  Generator gen(2);
  for (int b : batches) {
    Tensor x = Tensor::normal({b, 3, size, size}, gen, device);
    const double ms = median_ms(warmup, repeats, [&] { (*model)(x); }, device);
    std::printf("%-10s %6d %12.2f %12.2f\n", name.c_str(), b, ms, b / (ms / 1000.0));
  }
}

void bench_ops(Device device, int batch, int warmup, int repeats, const char* backend, Report& report) {
  nlohmann::json& rows = report.ops[std::to_string(batch)] = nlohmann::json::array();
  auto row = [&](const char* name, const char* shape, double fwd, double bwd) {
    rows.push_back({{"name", name}, {"shape", shape}, {"fwd_ms", fwd}, {"bwd_ms", bwd}});
  };
  Generator gen(2);
  std::printf("\nper-op times at batch %d (%s, %s kernels), median of %d:\n", batch, device.str().c_str(),
              backend, repeats);
  std::printf("%-16s %-22s %10s %10s %10s\n", "op", "shape", "fwd ms", "bwd ms", "GFLOP/s");
  const ConvCase convs[] = {{"block1.conv1", 3, 16, 32},   {"block1.conv2", 16, 32, 32},
                            {"block2.conv1", 32, 64, 16},  {"block2.conv2", 64, 128, 16},
                            {"block3.conv1", 128, 128, 8}, {"block3.conv2", 128, 256, 8}};
  for (const ConvCase& c : convs) {
    Tensor x = Tensor::normal({batch, c.c, c.hw, c.hw}, gen, device).requires_grad_();
    Tensor w = Tensor::normal({c.k, c.c, 3, 3}, gen, device).requires_grad_();
    Tensor b = Tensor::normal({c.k}, gen, device).requires_grad_();
    Tensor gy = Tensor::normal({batch, c.k, c.hw, c.hw}, gen, device);
    double fwd = median_ms(warmup, repeats, [&] { NoGradGuard g; conv2d(x, w, b, 1, 1); }, device);
    double fb = median_ms(warmup, repeats, [&] { conv2d(x, w, b, 1, 1).backward(gy); }, device);
    double flops = 2.0 * batch * c.k * c.hw * c.hw * c.c * 9 * 3;  // forward + two backward GEMMs
    char shape[64];
    std::snprintf(shape, sizeof shape, "%dx%dx%d -> %d", c.c, c.hw, c.hw, c.k);
    std::printf("%-16s %-22s %10.3f %10.3f %10.1f\n", c.name, shape, fwd, fb - fwd, flops / (fb * 1e6));
    row(c.name, shape, fwd, fb - fwd);
  }
  const int fcs[][2] = {{4096, 2048}, {2048, 256}, {256, 10}};
  for (int i = 0; i < 3; ++i) {
    Tensor x = Tensor::normal({batch, fcs[i][0]}, gen, device).requires_grad_();
    Tensor w = Tensor::normal({fcs[i][1], fcs[i][0]}, gen, device).requires_grad_();
    Tensor b = Tensor::normal({fcs[i][1]}, gen, device).requires_grad_();
    Tensor gy = Tensor::normal({batch, fcs[i][1]}, gen, device);
    double fwd = median_ms(warmup, repeats, [&] { NoGradGuard g; linear(x, w, b); }, device);
    double fb = median_ms(warmup, repeats, [&] { linear(x, w, b).backward(gy); }, device);
    double flops = 2.0 * batch * fcs[i][0] * fcs[i][1] * 3;
    char name[16], shape[64];
    std::snprintf(name, sizeof name, "fc%d", i + 1);
    std::snprintf(shape, sizeof shape, "%d -> %d", fcs[i][0], fcs[i][1]);
    std::printf("%-16s %-22s %10.3f %10.3f %10.1f\n", name, shape, fwd, fb - fwd, flops / (fb * 1e6));
    row(name, shape, fwd, fb - fwd);
  }
  {
    Tensor x = Tensor::normal({batch, 32, 32, 32}, gen, device).requires_grad_();
    Tensor gy = Tensor::normal({batch, 32, 16, 16}, gen, device);
    Tensor gr = Tensor::normal({batch, 32, 32, 32}, gen, device);
    double pf = median_ms(warmup, repeats, [&] { NoGradGuard g; max_pool2d(x, 2, 2); }, device);
    double pb = median_ms(warmup, repeats, [&] { max_pool2d(x, 2, 2).backward(gy); }, device);
    std::printf("%-16s %-22s %10.3f %10.3f %10s\n", "block1.pool", "32x32x32 -> 16x16", pf, pb - pf, "-");
    row("block1.pool", "32x32x32 -> 16x16", pf, pb - pf);
    double rf = median_ms(warmup, repeats, [&] { NoGradGuard g; relu(x); }, device);
    double rb = median_ms(warmup, repeats, [&] { relu(x).backward(gr); }, device);
    std::printf("%-16s %-22s %10.3f %10.3f %10s\n", "relu", "32x32x32", rf, rb - rf, "-");
    row("relu", "32x32x32", rf, rb - rf);
    Tensor z = Tensor::normal({batch, 10}, gen, device).requires_grad_();
    std::vector<int32_t> labels(batch, 3);
    double cf = median_ms(warmup, repeats, [&] { NoGradGuard g; cross_entropy(z, labels); }, device);
    double cb = median_ms(warmup, repeats, [&] { cross_entropy(z, labels).backward(); }, device);
    std::printf("%-16s %-22s %10.3f %10.3f %10s\n", "cross_entropy", "10 classes", cf, cb - cf, "-");
    row("cross_entropy", "10 classes", cf, cb - cf);
  }
}

// Our GEMM against cuBLAS on the model's linear shapes and a large square one.
// --conv-passes: each pass of each CPU conv algorithm alone, on the CNN's conv shapes and a few
// more that place Auto's thresholds (docs/winograd.md, "Which one runs").
void bench_conv_passes(const std::vector<int>& batches, int warmup, int repeats) {
  const ConvCase cases[] = {{"block1.conv1", 3, 16, 32},   {"block1.conv2", 16, 32, 32},  {"block2.conv1", 32, 64, 16},
                            {"block2.conv2", 64, 128, 16}, {"block3.conv1", 128, 128, 8}, {"block3.conv2", 128, 256, 8},
                            {"4 channels", 4, 16, 32},     {"8 channels", 8, 16, 32},      {"16 channels", 16, 32, 16},
                            {"24 channels", 24, 32, 32},   {"4x4 output", 256, 256, 4},
                            {"2x2 output", 512, 512, 2}};
  const Device cpu = Device::cpu();
  std::printf("\nCPU conv passes (3x3, stride 1, padding 1), ms, median of %d: f forward, bi backward to the "
              "input, bw backward to the weight\n%-14s %5s %-16s", repeats, "layer", "batch", "C->K, size");
  for (const char* a : {"im2col", "F(2x2,3x3)", "F(4x4,3x3)"}) std::printf(" | %-22s", a);
  std::printf(" | auto\n");
  for (int n : batches)
    for (const ConvCase& c : cases) {
      const Conv2dShape s{n, c.c, c.hw, c.hw, c.k, 3, 3, 1, 1, 1, 1};
      Generator gen(3);
      const std::vector<float> x = Tensor::normal({n, c.c, c.hw, c.hw}, gen).to_vector(),
                               w = Tensor::normal({c.k, c.c, 3, 3}, gen).to_vector(),
                               b = Tensor::normal({c.k}, gen).to_vector(),
                               dy = Tensor::normal({n, c.k, c.hw, c.hw}, gen).to_vector();
      std::vector<float> y(dy.size()), dx(x.size()), dw(w.size()), db(b.size());
      char shape[48];
      std::snprintf(shape, sizeof shape, "%d->%d, %dx%d", c.c, c.k, c.hw, c.hw);
      std::printf("%-14s %5d %-16s", c.name, n, shape);
      for (int tile : {0, 2, 4}) {
        const double f = median_ms(warmup, repeats, [&] {
          if (tile) conv2d_forward_winograd_cpu(tile, s, x.data(), w.data(), b.data(), y.data());
          else conv2d_forward_cpu(s, x.data(), w.data(), b.data(), y.data());
        }, cpu);
        const double bi = median_ms(warmup, repeats, [&] {
          if (tile) conv2d_backward_input_winograd_cpu(tile, s, dy.data(), w.data(), dx.data());
          else conv2d_backward_input_cpu(s, dy.data(), w.data(), dx.data());
        }, cpu);
        const double bw = median_ms(warmup, repeats, [&] {
          if (tile) conv2d_backward_weight_winograd_cpu(tile, s, x.data(), dy.data(), dw.data(), db.data());
          else conv2d_backward_weight_cpu(s, x.data(), dy.data(), dw.data(), db.data());
        }, cpu);
        std::printf(" | f %5.2f bi %5.2f bw %5.2f", f, bi, bw);
      }
      const ConvAlgorithm a = conv_algorithm_for({n, c.c, c.hw, c.hw}, {c.k, c.c, 3, 3}, 1, 1);
      std::printf(" | %s\n", a == ConvAlgorithm::Im2col ? "im2col" : a == ConvAlgorithm::Winograd2 ? "F(2x2)" : "F(4x4)");
    }
}

void bench_gemm(int warmup, int repeats) {
  const Device gpu = Device::cuda();
  Generator gen(3);
  std::printf("\nGEMM (C = A * B^T as in linear forward), median of %d:\n", repeats);
  std::printf("%-22s %12s %12s %12s %8s\n", "m x n x k", "ours ms", "ours GFLOP/s", "cuBLAS GFLOP/s", "ratio");
  const int shapes[][3] = {{32, 2048, 4096}, {256, 2048, 4096}, {32, 256, 2048}, {4096, 4096, 4096}};
  for (const auto& sh : shapes) {
    const int m = sh[0], n = sh[1], k = sh[2];
    Tensor a = Tensor::normal({m, k}, gen, gpu), b = Tensor::normal({n, k}, gen, gpu), c = Tensor::empty({m, n}, gpu);
    const double ours = median_ms(warmup, repeats, [&] {
      gemm_cuda(false, true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n);
    }, gpu);
    const double flop = 2.0 * m * n * k;
    char shape[48];
    std::snprintf(shape, sizeof shape, "%d x %d x %d", m, n, k);
    if (cuda_vendor_available()) {
      const double theirs = median_ms(warmup, repeats, [&] {
        gemm_cublas(false, true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n);
      }, gpu);
      std::printf("%-22s %12.3f %12.0f %12.0f %7.2fx\n", shape, ours, flop / (ours * 1e6), flop / (theirs * 1e6), ours / theirs);
    } else {
      std::printf("%-22s %12.3f %12.0f %12s %8s\n", shape, ours, flop / (ours * 1e6), "-", "-");
    }
  }
}

// The teaching kernels (kernels/cuda/gemm_steps.cu, reduce_steps.cu), each version beside the
// others and beside the shipped code: GEMM v0..v3 and cuBLAS in GFLOP/s, sum v0..v2 and the
// sum op in GB/s (4 bytes read per element).
void bench_kernel_steps(int warmup, int repeats) {
  const Device gpu = Device::cuda();
  Generator gen(5);
  std::printf("\nkernel steps, GEMM C = A * B (docs/kernel_steps.md), median of %d:\n", repeats);
  std::printf("%-24s %12s %10s %12s %8s\n", "version", "m = n = k", "ms", "GFLOP/s", "vs v3");
  for (int s : {512, 2048}) {
    Tensor a = Tensor::normal({s, s}, gen, gpu), b = Tensor::normal({s, s}, gen, gpu), c = Tensor::empty({s, s}, gpu);
    const double flop = 2.0 * s * s * s;
    std::vector<std::pair<std::string, double>> rows;
    for (int v = 0; v < kGemmSteps; ++v)
      rows.emplace_back(gemm_step_name(v), median_ms(warmup, repeats, [&] {
        gemm_step_cuda(v, s, s, s, a.data(), b.data(), c.data());
      }, gpu));
    if (cuda_vendor_available())
      rows.emplace_back("cuBLAS", median_ms(warmup, repeats, [&] {
        gemm_cublas(false, false, s, s, s, 1.0f, a.data(), s, b.data(), s, 0.0f, c.data(), s);
      }, gpu));
    const double v3 = rows[kGemmSteps - 1].second;
    for (const auto& [name, ms] : rows)
      std::printf("%-24s %12d %10.3f %12.0f %7.2fx\n", name.c_str(), s, ms, flop / (ms * 1e6), v3 / ms);
  }
  std::printf("\nkernel steps, sum of n floats, median of %d (GB/s = 4n bytes read / time):\n", repeats);
  std::printf("%-24s %12s %10s %12s\n", "version", "n", "ms", "GB/s");
  for (int64_t n : {int64_t(1) << 20, int64_t(1) << 24}) {
    Tensor x = Tensor::normal({n}, gen, gpu), out = Tensor::empty({1}, gpu);
    std::vector<std::pair<std::string, double>> rows;
    for (int v = 0; v < kSumSteps; ++v)
      rows.emplace_back(sum_step_name(v), median_ms(warmup, repeats, [&] {
        sum_step_cuda(v, n, x.data(), out.data());
      }, gpu));
    NoGradGuard no_grad;
    rows.emplace_back("sum(x) op", median_ms(warmup, repeats, [&] { sum(x); }, gpu));  // reduce_sum_cuda
    for (const auto& [name, ms] : rows)
      std::printf("%-24s %12lld %10.3f %12.1f\n", name.c_str(), static_cast<long long>(n), ms, 4.0 * n / (ms * 1e6));
  }
}

}  // namespace

// The tensor library's element-wise and reduction kernels, forward only, at a few sizes:
// time and the bandwidth they reach (bytes read + written / time), beside a plain copy of the
// same tensor (clone: the most a memory-bound kernel can hope for) measured in the same run.
void bench_tensor_ops(Device device, int warmup, int repeats) {
  std::printf("\ntensor ops on %s, median of %d (GB/s = bytes read + written / time; copy = clone):\n",
              device.str().c_str(), repeats);
  std::printf("%-26s %12s %10s %10s %8s\n", "op", "elements", "ms", "GB/s", "vs copy");
  Generator gen(4);
  for (int64_t n : {int64_t(1) << 16, int64_t(1) << 20, int64_t(1) << 24}) {
    const int64_t cols = 1024, rows = n / cols;
    Tensor a = Tensor::normal({rows, cols}, gen, device), b = Tensor::normal({rows, cols}, gen, device);
    Tensor row = Tensor::normal({1, cols}, gen, device);
    const double bytes = 4.0 * double(n);
    NoGradGuard no_grad;
    const double copy_ms = median_ms(warmup, repeats, [&] { a.clone(); }, device);
    struct Case {
      const char* name;
      double traffic;  // in units of n floats: reads + writes
      std::function<void()> run;
    };
    const Case cases[] = {
        {"copy (clone)", 2, [&] { a.clone(); }},
        {"add", 3, [&] { add(a, b); }},
        {"add, broadcast row", 2, [&] { add(a, row); }},
        {"mul", 3, [&] { mul(a, b); }},
        {"mul by scalar", 2, [&] { mul(a, 0.5); }},
        {"exp", 2, [&] { exp(a); }},
        {"sigmoid", 2, [&] { sigmoid(a); }},
        {"gelu", 2, [&] { gelu(a); }},
        {"sum (all)", 1, [&] { sum(a); }},
        {"sum rows (dim 1)", 1, [&] { sum(a, 1); }},
        {"sum columns (dim 0)", 1, [&] { sum(a, 0); }},
        {"max along dim 1", 1, [&] { max(a, 1); }},
        {"softmax (dim 1)", 2, [&] { softmax(a, 1); }},
        {"transpose", 2, [&] { transpose(a, 0, 1); }},
        // a as (n/4096, 64, 8, 8): statistics over n/64 values per channel, then normalise.
        {"batch_norm (train, 64 ch)", 2, [&] {
           batch_norm(view(a, {n / 4096, 64, 8, 8}), Tensor(), Tensor(), Tensor(), Tensor(), true);
         }},
    };
    for (const Case& c : cases) {
      const double ms = median_ms(warmup, repeats, c.run, device);
      const double gbs = c.traffic * bytes / (ms * 1e6);
      const double copy_gbs = 2 * bytes / (copy_ms * 1e6);
      std::printf("%-26s %12lld %10.3f %10.1f %7.2fx\n", c.name, static_cast<long long>(n), ms, gbs,
                  gbs / copy_gbs);
    }
  }
}

int main(int argc, char** argv) {
  std::string device_name = "auto";
  std::vector<int> batches{32, 128};
  int threads = std::max(1u, std::thread::hardware_concurrency()), warmup = 2, repeats = 10;
  bool no_ops = false;
  std::string kernels = "ours";
  CLI::App app{"Benchmark the notes' CNN: training images/s and per-op times."};
  app.set_version_flag("--version", [] { return version_text(); });
  app.add_option("--device", device_name, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app.add_option("--batch-sizes", batches, "batch sizes for the training step")->delimiter(',')->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--threads", threads, "CPU threads")->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("--warmup", warmup, "untimed runs first")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--repeats", repeats, "timed runs (the median is printed)")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_flag("--no-ops", no_ops, "skip the per-op table");
  bool tensor_ops = false, tensor_ops_only = false;
  app.add_flag("--tensor-ops", tensor_ops, "also time the tensor library's element-wise and reduction kernels (GB/s)");
  app.add_flag("--tensor-ops-only", tensor_ops_only, "only the tensor-library table");
  bool kernel_steps = false;
  app.add_flag("--kernel-steps", kernel_steps, "also time each version of the teaching kernels (GEMM, sum; --device cuda)");
  app.add_option("--kernels", kernels, "GPU kernels for the training step: ours, cudnn, or both (per-op tables for each)")
      ->check(CLI::IsMember({"ours", "cudnn", "both"}))->capture_default_str();
  std::string model_name;
  std::vector<int> model_batches{1, 32};
  int image_size = 224;
  bool model_only = false;
  app.add_option("--model", model_name, "also time inference of a model-zoo model (resnet50, vgg16, ...)");
  app.add_option("--model-batch-sizes", model_batches, "batch sizes for --model")->delimiter(',')->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--image-size", image_size, "image side for --model")->check(CLI::Range(32, 1024))->capture_default_str();
  app.add_flag("--model-only", model_only, "only the --model table");
  std::string conv = "auto";
  app.add_option("--conv", conv, "CPU algorithm of the 3x3 convs: auto (by layer shape), im2col, winograd2, winograd4 or benchmark (timed; docs/winograd.md)")
      ->check(CLI::IsMember(kConvAlgorithmNames))->capture_default_str();
  bool conv_passes = false;
  app.add_flag("--conv-passes", conv_passes, "only time each pass of each CPU conv algorithm alone, at --batch-sizes (docs/winograd.md)");
  std::string json_path;
  app.add_option("--json", json_path, "also write the training and per-op figures, and the peak RSS, to this JSON file");
  CLI11_PARSE(app, argc, argv);
  try {
    set_num_threads(threads);
    set_conv_algorithm(parse_conv_algorithm(conv));
    const Device device = choose_device(device_name);
    std::printf("%s, device %s, %d threads, conv %s\n", version_text().c_str(), device.str().c_str(), threads,
                conv.c_str());
    if (!model_name.empty()) bench_model_inference(model_name, device, model_batches, image_size, warmup, repeats);
    if (model_only) return 0;
    if (conv_passes) {
      bench_conv_passes(batches, warmup, repeats);
      return 0;
    }
    if (tensor_ops || tensor_ops_only) bench_tensor_ops(device, warmup, repeats);
    if (tensor_ops_only) return 0;
    std::vector<std::string> backends{"ours"};
    if (device.is_cuda() && kernels != "ours") backends = kernels == "both" ? std::vector<std::string>{"ours", "cudnn"} : std::vector<std::string>{"cudnn"};
    Report report;
    for (const std::string& backend : backends) {
      set_cuda_kernels(backend == "cudnn" ? CudaKernels::Vendor : CudaKernels::Ours);
      std::printf("\ntraining step, %s kernels:\n%-10s %6s %12s %12s %14s %14s\n", backend.c_str(), "what", "batch",
                  "ms/step", "images/s", "sys allocs/st", "cache allocs/st");
      for (int b : batches) bench_training(device, b, warmup, repeats, report);
      if (!no_ops)
        for (int b : batches) bench_ops(device, b, warmup, repeats, backend.c_str(), report);
    }
    std::printf("\npeak RSS: %.1f MB\n", peak_rss_mb());
    if (!json_path.empty()) {
      const nlohmann::json out{{"program", "dlcraft"}, {"version", version_text()}, {"device", device.str()},
                               {"threads", threads}, {"conv", conv}, {"warmup", warmup}, {"repeats", repeats},
                               {"train", report.train}, {"ops", report.ops}, {"peak_rss_mb", peak_rss_mb()}};
      write_file_atomic(json_path, [&](std::ostream& os) { os << out.dump(1) << "\n"; });
    }
    set_cuda_kernels(CudaKernels::Ours);
    if (device.is_cuda()) bench_gemm(warmup, repeats);
    if (kernel_steps && device.is_cuda())
      bench_kernel_steps(warmup, repeats);
    else if (kernel_steps)
      std::printf("\nkernel steps: SKIP (--kernel-steps times GPU kernels; the device is %s)\n", device.str().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
