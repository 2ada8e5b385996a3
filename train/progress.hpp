// A progress bar for terminals (redrawn in place) and plain periodic lines for logs.
#pragma once
#include <cstdio>
#include <string>

#include "train/training.hpp"

namespace dlcraft {

class Progress {
 public:
  Progress(int64_t epoch, int64_t epochs, std::FILE* out = stdout);
  void update(const StepInfo& s);
  void finish();  // ends the bar's line

 private:
  int64_t epoch_, epochs_;
  std::FILE* out_;
  bool tty_;
  double last_print_ = -1;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12.3s"

}  // namespace dlcraft
