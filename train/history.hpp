// History: what fit() returns and what the loggers and plots read — per epoch, a value for each
// metric, under Keras' names: "loss", "accuracy", "mae", ..., the validation ones prefixed
// "val_", plus "lr" and "seconds". train_cifar's --metrics file uses its own names
// ("train_loss", "test_acc", ...); the plots understand both (train/plot.hpp).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlcraft {

class History {
 public:
  // Appends one epoch. A key new in this epoch gets NaN for the earlier epochs, and a key
  // missing from `logs` gets NaN for this one, so every series has one value per epoch.
  void add(int64_t epoch, const std::map<std::string, double>& logs);
  const std::vector<int64_t>& epochs() const { return epochs_; }
  int64_t size() const { return int64_t(epochs_.size()); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  std::vector<std::string> keys() const;  // sorted
  // The series of `key`, one value per epoch; ArgumentError listing the keys when absent.
  const std::vector<double>& operator[](const std::string& key) const;
  // Epoch `i` (0-based) as a logs map, NaN entries left out.
  std::map<std::string, double> row(int64_t i) const;

  // JSON lines: one object per epoch, {"epoch": 1, "loss": 0.5, ...}; NaN is left out.
  std::string to_jsonl() const;
  // Reads what to_jsonl (or train_cifar --metrics, or the JSONL logger) wrote: every numeric
  // field except "epoch" becomes a series; rows without "epoch" are numbered 1, 2, ....
  // IOError naming the file and line for a line that is not a JSON object.
  static History read_jsonl(const std::string& path);

 private:
  std::vector<int64_t> epochs_;
  std::map<std::string, std::vector<double>> values_;
};

}  // namespace dlcraft
