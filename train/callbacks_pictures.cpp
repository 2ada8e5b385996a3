// The callbacks that draw: PlotCurves (train/plot.hpp) and TensorBoardLogger (train/tensorboard.hpp).
#include "core/error.hpp"
#include "train/callbacks.hpp"
#include "train/plot.hpp"
#include "train/tensorboard.hpp"

namespace dlcraft {

void PlotCurves::on_epoch_end(Trainer& trainer, int64_t epoch, Logs& logs) {
  History h;
  if (source) {
    h = source(trainer, epoch, logs);
  } else {
    h = trainer.history();  // the epochs before this one, then this one's logs
    h.add(epoch, logs);
  }
  PlotOptions o;
  o.title = title_;
  plot_history(h, path_, o);
}

struct TensorBoardLogger::Impl {
  explicit Impl(const std::string& logdir) : writer(logdir) {}
  TensorBoardWriter writer;
};

TensorBoardLogger::TensorBoardLogger(const std::string& logdir) : impl_(std::make_unique<Impl>(logdir)) {}
TensorBoardLogger::~TensorBoardLogger() = default;

std::string TensorBoardLogger::path() const { return impl_->writer.path(); }

void TensorBoardLogger::on_epoch_end(Trainer&, int64_t epoch, Logs& logs) {
  for (const auto& [key, value] : logs) impl_->writer.add_scalar(key, value, epoch);
  impl_->writer.flush();
}

}  // namespace dlcraft
