#include "train/progress.hpp"

#include <unistd.h>

#include <cmath>

namespace dlcraft {

std::string format_duration(double s) {
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s / 3600), int(std::fmod(s, 3600) / 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s / 60), int(std::fmod(s, 60)));
  else
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

Progress::Progress(int64_t epoch, int64_t epochs, std::FILE* out)
    : epoch_(epoch), epochs_(epochs), out_(out), tty_(::isatty(::fileno(out))) {}

void Progress::update(const StepInfo& s) {
  const double eta = s.elapsed_seconds / s.step * (s.steps - s.step);
  if (tty_) {
    // Redraw at most ~10 times a second.
    if (s.step != s.steps && s.elapsed_seconds - last_print_ < 0.1) return;
    last_print_ = s.elapsed_seconds;
    const int width = 30, filled = int(width * s.step / s.steps);
    std::fprintf(out_, "\repoch %lld/%lld [%s%s] %lld/%lld loss %.4f %.0f img/s ETA %s   ",
                 (long long)epoch_, (long long)epochs_, std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), (long long)s.step, (long long)s.steps,
                 s.mean_loss, s.images_per_second, format_duration(eta).c_str());
  } else {
    // Logs: a line every 30 s (and none for short epochs).
    if (s.elapsed_seconds - last_print_ < 30 && last_print_ >= 0) return;
    if (last_print_ < 0) { last_print_ = 0; return; }
    last_print_ = s.elapsed_seconds;
    std::fprintf(out_, "epoch %lld/%lld step %lld/%lld loss %.4f %.0f img/s ETA %s\n",
                 (long long)epoch_, (long long)epochs_, (long long)s.step, (long long)s.steps,
                 s.mean_loss, s.images_per_second, format_duration(eta).c_str());
  }
  std::fflush(out_);
}

void Progress::finish() {
  if (tty_) std::fprintf(out_, "\r%*s\r", 100, "");
  std::fflush(out_);
}

}  // namespace dlcraft
