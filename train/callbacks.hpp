// Callbacks: code that fit() (train/trainer.hpp) calls at the start and end of training, of
// each epoch and after each step, as Keras' callbacks. They read the logs, and may stop
// training (trainer.stop_training), change the lr, save or write files. Note: docs/fit.md.
#pragma once
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "layers/checkpoint_metadata.hpp"
#include "optim/lr_scheduler.hpp"
#include "train/history.hpp"
#include "train/progress.hpp"
#include "train/trainer.hpp"

namespace dlcraft {

using Logs = std::map<std::string, double>;

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Trainer&) {}
  virtual void on_epoch_begin(Trainer&, int64_t /*epoch*/) {}
  virtual void on_batch_end(Trainer&, int64_t /*epoch*/, const StepInfo&) {}
  // logs: this epoch's metrics; a callback may add to them (the History gets what it leaves).
  virtual void on_epoch_end(Trainer&, int64_t /*epoch*/, Logs& /*logs*/) {}
  virtual void on_train_end(Trainer&) {}
  // fit is leaving by an exception (divergence, a bad batch): tidy up (end a progress line).
  virtual void on_train_abort(Trainer&) {}
  // A step diverged (NaN/Inf); return true to stop training quietly instead of throwing.
  virtual bool on_divergence(Trainer&, const std::exception&) { return false; }
  // Data-parallel runs (docs/distributed.md): true for callbacks that print or write files
  // (progress, loggers, checkpoints, plots), which then run on rank 0 only; the others
  // (early stopping, schedules) run on every rank, where the logs are the same.
  virtual bool main_process_only() const { return false; }
};

// Keras' "min"/"max"/"auto" (auto: max for accuracy-like names, else min).
enum class MonitorMode { Auto, Min, Max };

// Stops when `monitor` has not improved by more than min_delta for `patience` epochs; with
// restore_best_weights the model gets the weights of its best epoch back at the end. A
// monitor key missing from the logs raises ArgumentError naming the keys there are.
class EarlyStopping : public Callback {
 public:
  struct Options {
    std::string monitor = "val_loss";
    int64_t patience = 0;
    double min_delta = 0.0;
    MonitorMode mode = MonitorMode::Auto;
    bool restore_best_weights = false;
  };
  explicit EarlyStopping(Options options);
  void on_train_begin(Trainer&) override;
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;
  void on_train_end(Trainer&) override;
  int64_t stopped_epoch() const { return stopped_epoch_; }  // 0: ran to the end
  int64_t best_epoch() const { return best_epoch_; }
  double best() const { return best_; }

 private:
  Options opt_;
  double best_ = 0;
  int64_t best_epoch_ = 0, wait_ = 0, stopped_epoch_ = 0;
  std::map<std::string, Tensor> best_weights_;  // host copies of the state_dict
};

// Saves a checkpoint (layers/checkpoint.hpp: safetensors weights with PyTorch's names, the
// optimizer state beside it, committed atomically so a kill at any moment leaves a loadable
// pair) after every epoch, or only when `monitor` improved (save_best_only). The path may
// contain "{epoch}", replaced by the epoch number.
class ModelCheckpoint : public Callback {
 public:
  bool main_process_only() const override { return true; }
  struct Options {
    std::string monitor = "val_loss";
    MonitorMode mode = MonitorMode::Auto;
    bool save_best_only = false;
    bool save_optimizer = true;
    // Extra metadata for the file (the epoch is always added as "epoch").
    std::function<Metadata(int64_t epoch)> metadata;
  };
  ModelCheckpoint(std::string path, Options options);
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;
  int64_t last_saved_epoch() const { return last_saved_; }
  std::string path_for(int64_t epoch) const;

 private:
  std::string path_;
  Options opt_;
  double best_ = 0;
  bool have_best_ = false;
  int64_t last_saved_ = 0;
};

// A NaN or infinite loss (or gradient, or parameter) stops training instead of raising; the
// weights are those of the last good step (the guard runs before the update). Says so on `out`.
class TerminateOnNaN : public Callback {
 public:
  explicit TerminateOnNaN(std::FILE* out = stderr) : out_(out) {}
  bool on_divergence(Trainer&, const std::exception& e) override;
  bool terminated() const { return terminated_; }

 private:
  std::FILE* out_;
  bool terminated_ = false;
};

// Per-epoch logs to a file: CSV (a header of every key, one row per epoch) or JSON lines (one
// object per epoch, History::read_jsonl and plot_metrics read it). The whole file is rewritten
// atomically each epoch. keep_through_epoch > 0 (resuming): the rows of those epochs already in
// the file are kept and continued.
class MetricsLogger : public Callback {
 public:
  bool main_process_only() const override { return true; }
  enum class Format { CSV, JSONL };
  MetricsLogger(std::string path, Format format, int64_t keep_through_epoch = 0);
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;
  // What to write for an epoch (default: "epoch" then every log); train_cifar renames keys.
  std::function<std::vector<std::pair<std::string, double>>(int64_t epoch, const Logs&)> row;

 private:
  void write() const;
  std::string path_;
  Format format_;
  History rows_;  // what the file holds
};
inline std::shared_ptr<MetricsLogger> CSVLogger(const std::string& path, int64_t keep = 0) {
  return std::make_shared<MetricsLogger>(path, MetricsLogger::Format::CSV, keep);
}
inline std::shared_ptr<MetricsLogger> JsonlLogger(const std::string& path, int64_t keep = 0) {
  return std::make_shared<MetricsLogger>(path, MetricsLogger::Format::JSONL, keep);
}

// Steps an LR schedule after every epoch (or every batch, for OneCycleLR); the lr used in each
// epoch appears in the logs as "lr" (fit records it).
class LearningRateScheduler : public Callback {
 public:
  LearningRateScheduler(std::shared_ptr<LRScheduler> scheduler, bool per_batch = false)
      : scheduler_(std::move(scheduler)), per_batch_(per_batch) {}
  void on_batch_end(Trainer&, int64_t, const StepInfo&) override {
    if (per_batch_) scheduler_->step();
  }
  void on_epoch_end(Trainer&, int64_t, Logs&) override {
    if (!per_batch_) scheduler_->step();
  }

 private:
  std::shared_ptr<LRScheduler> scheduler_;
  bool per_batch_;
};

// The curves so far as a PNG/SVG picture (train/plot.hpp), redrawn after every epoch.
class PlotCurves : public Callback {
 public:
  bool main_process_only() const override { return true; }
  explicit PlotCurves(std::string path, std::string title = "") : path_(std::move(path)), title_(std::move(title)) {}
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;
  // History to draw (default: the trainer's, with this epoch's logs); train_cifar's names.
  std::function<History(const Trainer&, int64_t epoch, const Logs&)> source;

 private:
  std::string path_, title_;
};

// Every log as a TensorBoard scalar at step = epoch (train/tensorboard.hpp).
class TensorBoardLogger : public Callback {
 public:
  bool main_process_only() const override { return true; }
  explicit TensorBoardLogger(const std::string& logdir);
  ~TensorBoardLogger() override;
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;
  std::string path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The progress bar of train_cifar (train/progress.hpp), one per epoch.
class ProgressBar : public Callback {
 public:
  bool main_process_only() const override { return true; }
  ProgressBar(int64_t epochs, std::FILE* out = stdout) : epochs_(epochs), out_(out) {}
  void on_epoch_begin(Trainer&, int64_t epoch) override;
  void on_batch_end(Trainer&, int64_t epoch, const StepInfo& s) override;
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override;
  void on_train_abort(Trainer&) override;

 private:
  int64_t epochs_;
  std::FILE* out_;
  std::unique_ptr<Progress> bar_;
};

// Keras' LambdaCallback: any of the hooks as a function.
class LambdaCallback : public Callback {
 public:
  std::function<void(Trainer&)> train_begin, train_end;
  std::function<void(Trainer&, int64_t)> epoch_begin;
  std::function<void(Trainer&, int64_t, Logs&)> epoch_end;
  std::function<void(Trainer&, int64_t, const StepInfo&)> batch_end;
  bool main_only = false;  // true: run on rank 0 only in a data-parallel run (it prints, say)
  bool main_process_only() const override { return main_only; }
  void on_train_begin(Trainer& t) override { if (train_begin) train_begin(t); }
  void on_train_end(Trainer& t) override { if (train_end) train_end(t); }
  void on_epoch_begin(Trainer& t, int64_t e) override { if (epoch_begin) epoch_begin(t, e); }
  void on_epoch_end(Trainer& t, int64_t e, Logs& l) override { if (epoch_end) epoch_end(t, e, l); }
  void on_batch_end(Trainer& t, int64_t e, const StepInfo& s) override { if (batch_end) batch_end(t, e, s); }
};

}  // namespace dlcraft
