// Training curves as a picture: loss and accuracy per epoch, training against validation,
// drawn with cairo (Debian's libcairo2) into a PNG or an SVG file. Note: docs/curves.md.
#pragma once
#include <string>

#include "train/history.hpp"

namespace dlcraft {

struct PlotOptions {
  int width = 960, height = 480;  // pixels (PNG) or points (SVG)
  std::string title;              // above the panels; empty: none
};

// One panel per family found in the history, side by side: "loss" (keys "loss", "val_loss",
// "train_loss", "test_loss", ...: the key is "loss" or ends in "_loss") and "accuracy"
// ("accuracy"/"acc" or ending in "_accuracy"/"_acc", drawn in %). Each key is a line (NaN
// values leave a gap), named in a legend; training solid, validation/test dashed in the same
// colour. The format follows the extension: .png or .svg (ArgumentError otherwise). The file is
// written to a temp name and renamed, so an existing plot is never left half-written.
// ArgumentError when the history has no epochs or none of these keys; Error when dlcraft was
// built without cairo (plotting_available() false).
void plot_history(const History& history, const std::string& path, const PlotOptions& options = {});
bool plotting_available();

}  // namespace dlcraft
