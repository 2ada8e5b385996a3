// The callbacks of train/callbacks.hpp (PlotCurves and TensorBoardLogger: callbacks_pictures.cpp).
#include "train/callbacks.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "layers/checkpoint.hpp"

namespace dlcraft {

namespace {
bool maximize(const std::string& monitor, MonitorMode mode) {
  if (mode != MonitorMode::Auto) return mode == MonitorMode::Max;
  return monitor.find("acc") != std::string::npos;  // Keras' rule for "auto"
}

double monitored(const Logs& logs, const std::string& monitor, const char* who) {
  auto it = logs.find(monitor);
  if (it != logs.end()) return it->second;
  std::string keys;
  for (const auto& [k, v] : logs) keys += (keys.empty() ? "" : ", ") + k;
  throw ArgumentError(std::string(who) + ": the logs have no '" + monitor + "' (they have: " + keys +
                      "; validation metrics need validation data)");
}

// current better than best by more than min_delta (NaN is never better).
bool improved(double current, double best, bool max, double min_delta) {
  return max ? current - min_delta > best : current + min_delta < best;
}
}  // namespace

// ---------------------------------------------------------------- EarlyStopping

EarlyStopping::EarlyStopping(Options options) : opt_(std::move(options)) {
  if (opt_.patience < 0 || opt_.min_delta < 0)
    throw ArgumentError("EarlyStopping: patience and min_delta must be >= 0");
}

void EarlyStopping::on_train_begin(Trainer&) {
  const bool max = maximize(opt_.monitor, opt_.mode);
  best_ = max ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  best_epoch_ = wait_ = stopped_epoch_ = 0;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(Trainer& trainer, int64_t epoch, Logs& logs) {
  const double current = monitored(logs, opt_.monitor, "EarlyStopping");
  if (improved(current, best_, maximize(opt_.monitor, opt_.mode), opt_.min_delta)) {
    best_ = current;
    best_epoch_ = epoch;
    wait_ = 0;
    if (opt_.restore_best_weights) {
      best_weights_.clear();  // host copies: the model's own tensors change with every step
      for (const auto& [name, t] : trainer.model.state_dict()) best_weights_[name] = t.to(Device::cpu()).clone();
    }
    return;
  }
  if (++wait_ >= opt_.patience) {  // Keras: patience epochs without improvement, then stop
    stopped_epoch_ = epoch;
    trainer.stop_training = true;
  }
}

void EarlyStopping::on_train_end(Trainer& trainer) {
  // The best epoch's weights, also when training ran to the end past it.
  if (opt_.restore_best_weights && !best_weights_.empty()) trainer.model.load_state_dict(best_weights_);
}

// ---------------------------------------------------------------- ModelCheckpoint

ModelCheckpoint::ModelCheckpoint(std::string path, Options options) : path_(std::move(path)), opt_(std::move(options)) {
  if (path_.empty()) throw ArgumentError("ModelCheckpoint: empty path");
}

std::string ModelCheckpoint::path_for(int64_t epoch) const {
  std::string p = path_;
  const std::string key = "{epoch}";
  for (size_t at = p.find(key); at != std::string::npos; at = p.find(key, at))
    p.replace(at, key.size(), std::to_string(epoch));
  return p;
}

void ModelCheckpoint::on_epoch_end(Trainer& trainer, int64_t epoch, Logs& logs) {
  if (opt_.save_best_only) {
    const double current = monitored(logs, opt_.monitor, "ModelCheckpoint");
    if (std::isnan(current)) return;
    if (have_best_ && !improved(current, best_, maximize(opt_.monitor, opt_.mode), 0.0)) return;
    best_ = current;
    have_best_ = true;
  }
  Metadata m = opt_.metadata ? opt_.metadata(epoch) : Metadata{};
  m["epoch"] = std::to_string(epoch);
  // save_checkpoint writes temp files and renames them: a kill at any moment leaves the last
  // complete checkpoint (or the new one) loadable, never a torn file.
  save_checkpoint(path_for(epoch), trainer.model, opt_.save_optimizer ? &trainer.optimizer : nullptr, m);
  last_saved_ = epoch;
}

// ---------------------------------------------------------------- TerminateOnNaN

bool TerminateOnNaN::on_divergence(Trainer& trainer, const std::exception& e) {
  terminated_ = true;
  trainer.stop_training = true;
  if (out_) std::fprintf(out_, "TerminateOnNaN: %s\n", e.what());
  return true;
}

// ---------------------------------------------------------------- MetricsLogger

namespace {
// The rows of an earlier CSV log (header "epoch,key,..."); unreadable rows are dropped.
History read_csv_log(const std::string& path) {
  History h;
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return h;
  std::vector<std::string> header;
  {
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) header.push_back(cell);
  }
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::vector<std::string> cells;
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (cells.empty() || header.empty() || header[0] != "epoch") continue;
    try {
      const int64_t epoch = std::stoll(cells[0]);
      Logs logs;
      for (size_t i = 1; i < cells.size() && i < header.size(); ++i)
        if (!cells[i].empty()) logs[header[i]] = std::stod(cells[i]);
      h.add(epoch, logs);
    } catch (const std::exception&) {
    }
  }
  return h;
}
}  // namespace

MetricsLogger::MetricsLogger(std::string path, Format format, int64_t keep_through_epoch)
    : path_(std::move(path)), format_(format) {
  if (path_.empty()) throw ArgumentError("MetricsLogger: empty path");
  if (keep_through_epoch <= 0 || !file_exists(path_)) return;
  // Resuming: keep the epochs already done.
  History old;
  try {
    old = format_ == Format::JSONL ? History::read_jsonl(path_) : read_csv_log(path_);
  } catch (const IOError&) {
    return;  // an unreadable old log is replaced, as a fresh run would
  }
  for (int64_t i = 0; i < old.size(); ++i)
    if (old.epochs()[size_t(i)] <= keep_through_epoch) rows_.add(old.epochs()[size_t(i)], old.row(i));
}

void MetricsLogger::on_epoch_end(Trainer&, int64_t epoch, Logs& logs) {
  Logs out;
  if (row) {
    for (const auto& [k, v] : row(epoch, logs)) out[k] = v;
  } else {
    out = logs;
  }
  rows_.add(epoch, out);
  write();
}

void MetricsLogger::write() const {
  write_file_atomic(path_, [&](std::ostream& out) {
    if (format_ == Format::JSONL) {
      out << rows_.to_jsonl();
      return;
    }
    const std::vector<std::string> keys = rows_.keys();
    out << "epoch";
    for (const auto& k : keys) out << "," << k;
    out << "\n";
    char buf[32];
    for (int64_t i = 0; i < rows_.size(); ++i) {
      out << rows_.epochs()[size_t(i)];
      for (const auto& k : keys) {
        const double v = rows_[k][size_t(i)];
        out << ",";
        if (std::isfinite(v)) {
          std::snprintf(buf, sizeof buf, "%.9g", v);
          out << buf;
        }
      }
      out << "\n";
    }
  });
}

// ---------------------------------------------------------------- ProgressBar

void ProgressBar::on_epoch_begin(Trainer&, int64_t epoch) { bar_ = std::make_unique<Progress>(epoch, epochs_, out_); }

void ProgressBar::on_batch_end(Trainer&, int64_t, const StepInfo& s) {
  if (bar_) bar_->update(s);
}

void ProgressBar::on_epoch_end(Trainer&, int64_t, Logs&) {
  if (bar_) bar_->finish();
  bar_.reset();
}

void ProgressBar::on_train_abort(Trainer&) {
  if (bar_) bar_->finish();
  bar_.reset();
}

}  // namespace dlcraft
