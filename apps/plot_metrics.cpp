// plot_metrics: the per-epoch metrics of a run (train_cifar --metrics, fit's JSONL logger) as a
// picture of the loss and accuracy curves, training against validation (docs/curves.md).
//   plot_metrics run.jsonl curves.png --title "CIFAR-10, Adam 1e-4"
//   plot_metrics run.jsonl curves.svg --width 1200 --height 500
//   plot_metrics run.jsonl curves.png --tensorboard logs/run1   (the same scalars for TensorBoard)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "apps/app_common.hpp"
#include "core/error.hpp"
#include "train/history.hpp"
#include "train/plot.hpp"
#include "train/tensorboard.hpp"

using namespace dlcraft;

// cairo's font lookup leaves fontconfig's one-time caches (its parsed configuration, a resolved
// pattern per font face) allocated at exit; they do not grow with the number of plots, but
// LeakSanitizer reports them in the sanitizer build (scripts/sanitize.sh). Not our leak: named
// here, in the program, where LeakSanitizer looks for built-in suppressions.
#if defined(__SANITIZE_ADDRESS__)
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
#endif
#endif

int main(int argc, char** argv) {
  std::string metrics, out, tensorboard_dir;
  PlotOptions options;
  CLI::App app{"Draw the loss and accuracy curves of a metrics file (JSON lines, one object per epoch) as PNG or SVG."};
  app.set_version_flag("--version", [] { return version_text(); });
  app.add_option("metrics", metrics, "METRICS.jsonl: {\"epoch\": 1, \"loss\": ..., \"val_loss\": ...} per line")->required();
  app.add_option("out", out, "OUT.png or OUT.svg (written atomically)")->required();
  app.add_option("--width", options.width, "picture width, pixels (PNG) or points (SVG)")->capture_default_str();
  app.add_option("--height", options.height, "picture height")->capture_default_str();
  app.add_option("--title", options.title, "a line above the panels");
  app.add_option("--tensorboard", tensorboard_dir, "also write the metrics as TensorBoard scalars into this log directory");
  CLI11_PARSE(app, argc, argv);
  try {
    const History history = History::read_jsonl(metrics);
    if (history.size() == 0) throw IOError(metrics + ": no metrics in the file (empty)");
    plot_history(history, out, options);
    std::printf("%s: %lld epochs -> %s\n", metrics.c_str(), (long long)history.size(), out.c_str());
    if (!tensorboard_dir.empty()) {
      TensorBoardWriter writer(tensorboard_dir);
      int64_t count = 0;
      for (int64_t i = 0; i < history.size(); ++i)
        for (const auto& [key, value] : history.row(i)) {  // the epoch is the step
          writer.add_scalar(key, value, history.epochs()[size_t(i)]);
          ++count;
        }
      writer.flush();
      std::printf("%lld scalars -> %s\n", (long long)count, writer.path().c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
