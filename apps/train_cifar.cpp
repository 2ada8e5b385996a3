// train_cifar: trains the notes' CNN on CIFAR-10 and reports test accuracy.
//   train_cifar --data DIR --epochs 100 --lr 1e-4
// Data: the official binary batches or an image-folder tree (see datasets/cifar10.hpp).
// Data-parallel on N processes: mpirun -np N train_cifar ... (docs/distributed.md): each
// process trains on its shard with --batch-size images per step; rank 0 prints and saves.
#include <CLI/CLI.hpp>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <cstdio>
#include <memory>
#include <thread>

#include "apps/app_common.hpp"
#include "train/progress.hpp"
#include "train/training.hpp"
#include "core/error.hpp"
#include "core/file_io.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "core/safetensors.hpp"
#include "core/threads.hpp"
#include "datasets/cifar10.hpp"
#include "datasets/gpu_loader.hpp"
#include "distributed/local_resources.hpp"
#include "distributed/process_group.hpp"
#include "layers/checkpoint.hpp"
#include "layers/cnn.hpp"
#include "train/callbacks.hpp"
#include "train/plot.hpp"
#include "train/tensorboard.hpp"
#include "train/trainer.hpp"

using namespace dlcraft;

namespace {

// The most epochs a run (and a checkpoint's "epoch") may have: far beyond any real run, and
// small enough that epoch + 1 never overflows.
constexpr int64_t kMaxEpochs = 1'000'000'000;

struct Flags {
  std::string data = "data";
  int64_t epochs = 100;
  float lr = 1e-4f;
  int batch_size = 32;
  std::string device = "auto";
  uint64_t seed = 0;
  int threads = 0;  // 0: the machine's cores, shared among the job's processes on it
  int64_t limit_train = 0, limit_test = 0;
  std::string save, resume, metrics;
  std::string optimizer = "adam";
  float momentum = 0.9f, weight_decay = 0.0f;
  bool no_augment = false;
  std::string kernels = "ours";
  std::string conv = "auto";
  std::string feed = "auto";
  std::vector<float> mean, std;  // given normalisation (else computed from the training set)
  std::string plot, tensorboard, lr_schedule = "none";
  float clip_grad_norm = 0.0f;
  bool nesterov = false;
};

// CLI11's PositiveNumber prints its range up to DBL_MAX; say it plainly instead.
const CLI::Validator kPositive(
    [](std::string& s) -> std::string {
      try {
        size_t used = 0;
        double v = std::stod(s, &used);
        if (used == s.size() && std::isfinite(v) && v > 0) return "";
      } catch (const std::exception&) {
      }
      return "must be a positive number, got '" + s + "'";
    },
    "POSITIVE");

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Fails early (before hours of training) when an output file's directory is missing.
void check_output_dir(const std::string& path, const char* flag) {
  if (path.empty()) return;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !is_directory(dir.string()))
    throw IOError(std::string(flag) + " " + path + ": directory " + dir.string() + " does not exist");
}

int run(const Flags& flags) {
  Flags f = flags;
  // Data parallelism: join the job first (one process without a launcher). Only rank 0
  // prints; the others' errors still reach stderr, naming their rank.
  distributed::init();
  const int world = distributed::world_size();
  if (!distributed::is_main() && !std::freopen("/dev/null", "w", stdout))
    throw IOError("cannot silence the output of " + distributed::rank_name());
  if (f.threads == 0)
    f.threads = std::max(1, int(std::thread::hardware_concurrency()) / distributed::local_process_count());
  set_num_threads(f.threads);
  check_output_dir(f.save, "--save");
  check_output_dir(f.metrics, "--metrics");
  check_output_dir(f.plot, "--plot");
  if (f.nesterov && (f.optimizer != "sgd" || f.momentum <= 0))
    throw ArgumentError("--nesterov needs --optimizer sgd and --momentum > 0");
  if (!f.plot.empty() && !(ends_with(f.plot, ".png") || ends_with(f.plot, ".svg")))
    throw ArgumentError("--plot " + f.plot + ": the file name must end in .png or .svg");
  if (!f.plot.empty() && !plotting_available())
    throw ArgumentError("--plot: this dlcraft was built without cairo (install libcairo2-dev and rebuild)");
  if (!f.tensorboard.empty() && !tensorboard_available())
    throw ArgumentError("--tensorboard: this dlcraft was built without protobuf (install libprotobuf-dev protobuf-compiler and rebuild)");
  if (f.device != "cpu") distributed::use_local_gpu();  // one GPU per process, before CUDA starts
  const Device device = choose_device(f.device);
  if (f.kernels == "cudnn") set_cuda_kernels(CudaKernels::Vendor);
  set_conv_algorithm(parse_conv_algorithm(f.conv));

  // ---- state from a checkpoint, when resuming
  Metadata resumed;
  uint64_t seed = f.seed;
  int64_t start_epoch = 1;
  if (!f.resume.empty()) {
    // A save killed half-way is finished (or its temps removed) before anything is read: by
    // rank 0, the only writer, while the others wait.
    if (distributed::is_main()) {
      const CheckpointRecovery rec = recover_checkpoint(f.resume);
      if (!rec.note.empty()) std::printf("resume: %s\n", rec.note.c_str());
    }
    distributed::barrier();
    if (!file_exists(f.resume)) throw IOError(f.resume + ": checkpoint not found (--resume)");
    resumed = read_safetensors_metadata(f.resume);
    if (!resumed.count("epoch") || !resumed.count("seed"))
      throw IOError(f.resume + ": not a train_cifar checkpoint (no epoch/seed metadata)");
    start_epoch = get_metadata_int(resumed, "epoch", f.resume, 1, kMaxEpochs) + 1;
    seed = get_metadata_uint64(resumed, "seed", f.resume);
    if (resumed.count("optimizer") && resumed.at("optimizer") != f.optimizer)
      throw IOError(f.resume + ": metadata 'optimizer' is '" + resumed.at("optimizer").substr(0, 100) +
                    "' but this run uses --optimizer " + f.optimizer);
    get_class_names(resumed, f.resume);  // checked here, before the data is read
    get_normalization(resumed, f.resume);
  }
  if (!resumed.empty() && seed != f.seed)
    std::printf("resume: using the checkpoint's seed %llu\n", (unsigned long long)seed);

  // ---- data
  const auto load_start = std::chrono::steady_clock::now();
  Cifar10 data = load_cifar10(f.data);
  const double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  data.train = data.train.random_subset(f.limit_train, seed);
  data.test = data.test.random_subset(f.limit_test, seed + 1);
  std::printf("data: %s (%s layout): %lld train / %lld test images, %zu classes, read in %.1fs\n",
              data.root.c_str(), data.layout.c_str(), (long long)data.train.size(),
              (long long)data.test.size(), data.train.classes.size(), load_seconds);
  if (data.resized) std::printf("data: %lld images were not 32x32 and were resized\n", (long long)data.resized);
  Normalization norm;
  const char* norm_source = "computed from the training set";
  if (!resumed.empty()) {
    norm = get_normalization(resumed, f.resume);
    norm_source = "from the checkpoint";
  } else if (!f.mean.empty()) {
    std::copy(f.mean.begin(), f.mean.end(), norm.mean.begin());
    std::copy(f.std.begin(), f.std.end(), norm.std.begin());
    norm_source = "given by --mean/--std";
  } else {
    norm = compute_normalization(data.train);
  }
  std::printf("normalize: %s (%s)\n", norm.str().c_str(), norm_source);

  // ---- model and optimizer
  manual_seed(seed);
  CNN model(int(data.train.classes.size()));
  model.to(device);
  std::unique_ptr<Optimizer> opt;
  if (f.optimizer == "adam")
    opt = std::make_unique<Adam>(model.named_parameters(), AdamOptions{f.lr, 0.9f, 0.999f, 1e-8f, f.weight_decay});
  else if (f.optimizer == "adamw")
    opt = std::make_unique<AdamW>(model.named_parameters(), AdamWOptions{f.lr, 0.9f, 0.999f, 1e-8f, f.weight_decay});
  else
    opt = std::make_unique<SGD>(model.named_parameters(), SgdOptions{f.lr, f.momentum, 0.0f, f.weight_decay, f.nesterov});
  if (!resumed.empty()) {
    load_weights(f.resume, model);
    check_finite_weights(model, f.resume);
    load_optimizer_state(f.resume, *opt, resumed);
    std::printf("resume: %s at the end of epoch %lld\n", f.resume.c_str(), (long long)(start_epoch - 1));
  }
  std::printf("model: CNN, %lld parameters, device %s%s, %d threads, %s lr %g, batch %d\n",
              (long long)model.parameter_count(), device.str().c_str(),
              device.is_cuda() ? (f.kernels == "cudnn" ? " (cuDNN/cuBLAS kernels)" : " (our kernels)") : "",
              f.threads, f.optimizer.c_str(), f.lr, f.batch_size);
  if (world > 1)
    std::printf("distributed: %d processes (%s), batch %d per process = global batch %lld per step; "
                "rank 0 prints and writes the files\n",
                world, distributed::launch_from_environment().launcher.c_str(), f.batch_size,
                (long long)world * f.batch_size);

  DataLoaderOptions train_opt;
  train_opt.batch_size = f.batch_size;
  train_opt.augment = !f.no_augment;
  train_opt.normalization = norm;
  train_opt.seed = seed;
  // Each process reads its shard of every epoch's order (padded, so all take the same steps),
  // and evaluates its part of the test set (not padded: the sums count each image once).
  train_opt.shard_rank = distributed::rank();
  train_opt.shard_count = world;
  DataLoaderOptions test_opt = train_opt;
  test_opt.batch_size = 256;
  test_opt.shuffle = test_opt.augment = false;
  test_opt.shard_pad = false;
  // --feed gpu: the data sets live on the GPU and a kernel augments each batch there;
  // --feed cpu: a CPU thread augments into page-locked buffers that are copied up.
  const bool gpu_feed = device.is_cuda() && f.feed != "cpu";
  if (f.feed == "gpu" && !device.is_cuda()) throw ArgumentError("--feed gpu needs --device cuda");
  std::unique_ptr<BatchSource> train_loader, test_loader;
  if (gpu_feed) {
    train_loader = std::make_unique<GpuDataLoader>(data.train, train_opt, device);
    test_loader = std::make_unique<GpuDataLoader>(data.test, test_opt, device);
  } else {
    train_loader = std::make_unique<DataLoader>(data.train, train_opt);
    test_loader = std::make_unique<DataLoader>(data.test, test_opt);
  }
  std::printf("feed: %s\n", gpu_feed ? "data on the GPU, augmented by a kernel" : "CPU loader thread");

  // ---- training: fit() with train_cifar's own lines, files and pictures as callbacks
  const std::string save_path = !f.save.empty() ? f.save : f.resume;
  if (start_epoch > f.epochs)
    std::printf("resume: the checkpoint already has %lld epochs (--epochs %lld)\n",
                (long long)(start_epoch - 1), (long long)f.epochs);
  Trainer trainer(model, *opt, LossKind::CrossEntropy, {MetricKind::Accuracy}, device);
  FitOptions fit;
  fit.epochs = f.epochs;
  fit.initial_epoch = start_epoch - 1;
  fit.validation = test_loader.get();
  fit.validation_prefix = "test_";
  fit.verbose = 0;  // the bar and this program's own epoch line below
  fit.clip_grad_norm = f.clip_grad_norm;
  fit.callbacks.push_back(std::make_shared<ProgressBar>(f.epochs));
  auto line = std::make_shared<LambdaCallback>();
  line->main_only = true;
  line->epoch_end = [&](Trainer&, int64_t epoch, Logs& l) {
    std::printf("epoch %lld/%lld: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%% | %s, %.1f img/s\n",
                (long long)epoch, (long long)f.epochs, l["loss"], 100 * l["accuracy"], l["test_loss"],
                100 * l["test_accuracy"], format_duration(l["seconds"]).c_str(), l["examples_per_second"]);
    std::fflush(stdout);
  };
  fit.callbacks.push_back(line);
  if (!f.metrics.empty()) {
    // One JSON object per epoch under this program's names, rewritten atomically each epoch.
    auto metrics = JsonlLogger(f.metrics, start_epoch - 1);
    metrics->row = [](int64_t epoch, const Logs& l) -> std::vector<std::pair<std::string, double>> {
      return {{"train_loss", l.at("loss")}, {"train_acc", l.at("accuracy")},
              {"test_loss", l.at("test_loss")}, {"test_acc", l.at("test_accuracy")},
              {"epoch_seconds", l.at("seconds")}, {"images_per_second", l.at("examples_per_second")},
              {"lr", l.at("lr")}};
    };
    fit.callbacks.push_back(metrics);
  }
  if (!f.lr_schedule.empty() && f.lr_schedule != "none") {
    // Per epoch (cosine, step) or per batch (onecycle), over the whole run: a resumed run jumps
    // to where the schedule was.
    const int64_t steps_per_epoch = train_loader->batches_per_epoch();
    std::shared_ptr<LRScheduler> schedule;
    bool per_batch = false;
    if (f.lr_schedule == "cosine") {
      schedule = std::make_shared<CosineAnnealingLR>(*opt, f.epochs);
      schedule->set_steps(start_epoch - 1);
    } else if (f.lr_schedule == "step") {
      schedule = std::make_shared<StepLR>(*opt, std::max<int64_t>(1, f.epochs / 3), 0.1);
      schedule->set_steps(start_epoch - 1);
    } else {
      schedule = std::make_shared<OneCycleLR>(*opt, f.lr, f.epochs * steps_per_epoch);
      schedule->set_steps((start_epoch - 1) * steps_per_epoch);
      per_batch = true;
    }
    fit.callbacks.push_back(std::make_shared<LearningRateScheduler>(schedule, per_batch));
  }
  std::shared_ptr<ModelCheckpoint> checkpoint;
  if (!save_path.empty()) {
    ModelCheckpoint::Options o;
    o.save_best_only = false;
    o.metadata = [&](int64_t) {
      Metadata m{{"seed", std::to_string(seed)}, {"format", "dlcraft-cnn"}, {"optimizer", f.optimizer}};
      put_class_names(m, data.train.classes);
      put_normalization(m, norm);
      return m;
    };
    checkpoint = std::make_shared<ModelCheckpoint>(save_path, o);
    fit.callbacks.push_back(checkpoint);
  }
  if (!f.plot.empty()) fit.callbacks.push_back(std::make_shared<PlotCurves>(f.plot, "train_cifar: CNN on CIFAR-10"));
  if (!f.tensorboard.empty()) fit.callbacks.push_back(std::make_shared<TensorBoardLogger>(f.tensorboard));
  // The newest checkpoint on disk: where a resumed run began, then each epoch saved.
  const int64_t resumed_from = (!f.resume.empty() && save_path == f.resume) ? start_epoch - 1 : 0;
  History history;
  if (start_epoch <= f.epochs) {
    try {
      history = trainer.fit(*train_loader, fit);
    } catch (const DivergenceError& e) {
      // NaN/Inf in the loss, a gradient or a parameter: stop before anything is saved (every
      // step checks after its update, so no diverged weights ever reach the checkpoint). Every
      // process of a job sees it in the same step (the loss and gradients are averaged first).
      if (!distributed::is_main()) return 3;
      std::fprintf(stderr, "error: %s\n", e.what());
      const int64_t last = checkpoint && checkpoint->last_saved_epoch() ? checkpoint->last_saved_epoch() : resumed_from;
      if (last > 0)
        std::fprintf(stderr, "the last good checkpoint is %s (epoch %lld)\n", save_path.c_str(), (long long)last);
      return 3;
    }
  }
  const int64_t test_seen = data.test.size();
  const double test_acc = history.size() ? history["test_accuracy"].back() : trainer.evaluate(*test_loader)["accuracy"];
  const int64_t test_correct = std::llround(test_acc * double(test_seen));
  std::printf("test accuracy: %.2f%% (%lld/%lld)\n", 100 * test_acc, (long long)test_correct,
              (long long)test_seen);
  return 0;
}

// An error: "error: ..." and exit status 1. In a job of several processes the whole job ends
// (distributed::abort_job names the rank), so no other process waits for this one forever.
int fail(const std::string& message) {
  if (distributed::initialized() && distributed::world_size() > 1)
    distributed::abort_job("error: " + message);
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // whole lines, also into a pipe or log file
  Flags f;
  CLI::App app{"Train the notes' CNN (3 BasicBlocks + 3 fully connected layers) on CIFAR-10."};
  app.set_version_flag("--version", [] { return version_text(); });
  app.add_option("--data", f.data, "CIFAR-10 directory: binary batches or train/ and test/ image folders")
      ->capture_default_str();
  app.add_option("--epochs", f.epochs, "number of epochs")->check(kPositive)->check(CLI::Range(int64_t(1), kMaxEpochs))->capture_default_str();
  app.add_option("--lr", f.lr, "learning rate")->check(kPositive)->capture_default_str();
  app.add_option("--batch-size", f.batch_size, "images per step (per process under mpirun)")->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--device", f.device, "auto (GPU if there is one), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app.add_option("--seed", f.seed, "seed for init, shuffling and augmentation")->capture_default_str();
  app.add_option("--threads", f.threads, "CPU threads (default: the cores, shared among the processes on this machine)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--limit-train", f.limit_train, "use only N training images (0: all)")->check(CLI::Range(int64_t(0), INT64_MAX));
  app.add_option("--limit-test", f.limit_test, "use only N test images (0: all)")->check(CLI::Range(int64_t(0), INT64_MAX));
  app.add_option("--save", f.save, "checkpoint file (safetensors) written after every epoch; optimizer state goes to FILE.optim");
  app.add_option("--resume", f.resume, "continue from this checkpoint (saves back into it unless --save is given)");
  app.add_option("--metrics", f.metrics, "write one JSON object per epoch to this file");
  app.add_option("--optimizer", f.optimizer, "adam, adamw (decoupled weight decay) or sgd")
      ->check(CLI::IsMember({"adam", "adamw", "sgd"}))->capture_default_str();
  app.add_flag("--nesterov", f.nesterov, "SGD with Nesterov momentum");
  app.add_option("--momentum", f.momentum, "SGD momentum")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_option("--weight-decay", f.weight_decay, "weight decay: L2 in the gradient (adam, sgd) or decoupled (adamw)")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_flag("--no-augment", f.no_augment, "no random crop / flip");
  auto* mean = app.add_option("--mean", f.mean, "per-channel mean R,G,B for Normalize (default: computed from the training set)")
                   ->delimiter(',')->expected(3);
  auto* std_opt = app.add_option("--std", f.std, "per-channel std R,G,B for Normalize (with --mean)")
                      ->delimiter(',')->expected(3)->check(kPositive);
  mean->needs(std_opt);
  std_opt->needs(mean);
  app.add_option("--plot", f.plot, "draw the loss and accuracy curves into this PNG or SVG file after every epoch");
  app.add_option("--tensorboard", f.tensorboard, "write TensorBoard event files (scalars per epoch) into this directory");
  app.add_option("--lr-schedule", f.lr_schedule, "none, cosine (to 0 over --epochs), step (x0.1 every epochs/3) or onecycle (per batch, peak --lr)")
      ->check(CLI::IsMember({"none", "cosine", "step", "onecycle"}))->capture_default_str();
  app.add_option("--clip-grad-norm", f.clip_grad_norm, "clip the gradients' total L2 norm to this value before each step (0: off)")
      ->check(CLI::Range(0.0, 1e30))->capture_default_str();
  app.add_option("--feed", f.feed, "where augmentation runs with --device cuda: auto (= gpu), gpu (data set on the GPU) or cpu (loader thread)")
      ->check(CLI::IsMember({"auto", "gpu", "cpu"}))->capture_default_str();
  app.add_option("--conv", f.conv, "CPU algorithm of the 3x3 convs: auto (by layer shape), im2col, winograd2, winograd4, or benchmark (the fastest per layer, timed once; docs/winograd.md)")
      ->check(CLI::IsMember(kConvAlgorithmNames))->capture_default_str();
  app.add_option("--kernels", f.kernels, "GPU kernels: ours, or cudnn (cuDNN conv + cuBLAS GEMM, when built)")
      ->check(CLI::IsMember({"ours", "cudnn"}))->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run(f);
  } catch (const std::bad_alloc&) {
    return fail("out of memory (try a smaller --batch-size)");
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
