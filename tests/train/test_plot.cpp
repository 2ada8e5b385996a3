// Training-curve plots (train/plot.hpp): PNGs decode (datasets/image_io.hpp) to exactly the size
// asked for and hold pixels of the lines' colours (a blank picture fails); SVGs are XML of the
// right size with paths, dashed for validation curves; Keras' and train_cifar's metric names;
// a single epoch, NaN/Inf gaps, accuracies in percent; typed errors that leave an existing
// file as it was.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <string>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "datasets/image_io.hpp"
#include "test_data.hpp"
#include "train/history.hpp"
#include "train/plot.hpp"

using namespace dlcraft;
namespace fs = std::filesystem;

#include "lsan_suppressions.hpp"  // fontconfig's caches, in the sanitizer build

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Rgb {
  int r, g, b;
};
// The first three of the plot's palette (matplotlib's tab10).
constexpr Rgb kBlue{0x1f, 0x77, 0xb4}, kOrange{0xff, 0x7f, 0x0e}, kGreen{0x2c, 0xa0, 0x2c};

// Pixels within `tol` of `c` in every channel.
int count_near(const RgbImage& img, Rgb c, int tol = 8) {
  int n = 0;
  for (size_t i = 0; i + 2 < img.pixels.size(); i += 3)
    n += std::abs(img.pixels[i] - c.r) <= tol && std::abs(img.pixels[i + 1] - c.g) <= tol &&
         std::abs(img.pixels[i + 2] - c.b) <= tol;
  return n;
}

// Keras' names: a falling loss and a rising accuracy with noise, validation a little worse,
// plus a second accuracy ("top5") so that two colours appear in one panel.
History keras_history(int epochs, uint64_t seed) {
  std::mt19937 rng{uint32_t(seed)};
  std::normal_distribution<double> noise(0.0, 0.03);
  History h;
  for (int e = 1; e <= epochs; ++e) {
    const double t = double(e) / epochs;
    const double loss = 2.3 * std::exp(-3 * t) + 0.1 + noise(rng);
    const double acc = std::clamp(0.1 + 0.8 * (1 - std::exp(-4 * t)) + noise(rng), 0.0, 1.0);
    h.add(e, {{"loss", loss},
              {"val_loss", loss * 1.2 + 0.05 + noise(rng)},
              {"accuracy", acc},
              {"val_accuracy", std::clamp(acc - 0.07 + noise(rng), 0.0, 1.0)},
              {"top5_accuracy", std::clamp(acc + 0.08, 0.0, 1.0)},
              {"val_top5_accuracy", std::clamp(acc + 0.02 + noise(rng), 0.0, 1.0)},
              {"lr", 1e-3},
              {"seconds", 12.5 + noise(rng)}});
  }
  return h;
}

std::string read_text(const std::string& path) {
  const std::vector<char> b = read_file_bytes(path);
  return std::string(b.begin(), b.end());
}

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("plot_history: without cairo it says what to install", "[plot]") {
  if (plotting_available()) {
    SUCCEED("built with cairo");
    return;
  }
  const std::string dir = test::fresh_dir("plot_nocairo");
  REQUIRE_THROWS_WITH(plot_history(keras_history(5, 1), dir + "/c.png"), Catch::Contains("libcairo2-dev"));
  CHECK_FALSE(file_exists(dir + "/c.png"));
}

TEST_CASE("plot_history: a PNG of the size asked for, with the curves in their colours", "[plot]") {
  if (!plotting_available()) return;
  const std::string dir = test::fresh_dir("plot_png");
  const History h = keras_history(23, 5);
  PlotOptions o;
  o.width = 731;
  o.height = 457;
  o.title = "pattern data, 23 epochs";
  plot_history(h, dir + "/curves.png", o);
  const std::string bytes = read_text(dir + "/curves.png");
  REQUIRE(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  const RgbImage img = read_image(dir + "/curves.png");
  CHECK(img.width == 731);
  CHECK(img.height == 457);
  const int total = img.width * img.height;
  // Mostly white background; blue lines (loss, accuracy and their val_), orange (top5); text.
  CHECK(count_near(img, {255, 255, 255}, 0) > total / 2);
  CHECK(count_near(img, kBlue) > 300);
  CHECK(count_near(img, kOrange) > 100);
  CHECK(count_near(img, {0, 0, 0}, 60) > 200);
  CHECK_FALSE(file_exists(dir + "/curves.png.tmp"));

  // Other sizes, the smallest allowed among them, and an upper-case extension.
  for (auto [w, hgt] : {std::pair{200, 150}, std::pair{1603, 611}, std::pair{333, 999}}) {
    o.width = w;
    o.height = hgt;
    plot_history(h, dir + "/other.PNG", o);
    const RgbImage other = read_image(dir + "/other.PNG");
    CHECK(other.width == w);
    CHECK(other.height == hgt);
    CHECK(count_near(other, kBlue) > 20);
  }
}

TEST_CASE("plot_history: train_cifar's names share a colour per quantity", "[plot]") {
  if (!plotting_available()) return;
  const std::string dir = test::fresh_dir("plot_cifar");
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-0.02, 0.02);
  History h;
  for (int e = 1; e <= 9; ++e)
    h.add(e, {{"train_loss", 2.0 / e + u(rng)}, {"train_acc", 0.3 + 0.06 * e + u(rng)}, {"test_acc", 0.25 + 0.05 * e + u(rng)},
              {"epoch_seconds", 40 + u(rng)}, {"images_per_second", 1200 + u(rng)}});
  plot_history(h, dir + "/cifar.png");
  const RgbImage img = read_image(dir + "/cifar.png");
  CHECK(img.width == 960);  // the default size
  CHECK(img.height == 480);
  CHECK(count_near(img, kBlue) > 300);
  // test_acc is train_acc's colour (dashed), so no second colour appears.
  CHECK(count_near(img, kOrange) == 0);
  CHECK(count_near(img, kGreen) == 0);
}

TEST_CASE("plot_history: an SVG with the size in points and paths, validation dashed", "[plot]") {
  if (!plotting_available()) return;
  const std::string dir = test::fresh_dir("plot_svg");
  PlotOptions o;
  o.width = 517;
  o.height = 389;
  plot_history(keras_history(11, 9), dir + "/curves.svg", o);
  const std::string svg = read_text(dir + "/curves.svg");
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("width=\"517pt\"") != std::string::npos);
  CHECK(svg.find("height=\"389pt\"") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(count_of(svg, "<path") >= 12);  // 6 curves, 6 legend samples, grid, glyphs
  CHECK(svg.find("stroke-dasharray") != std::string::npos);

  // Training curves only: nothing dashed.
  History train_only;
  for (int e = 1; e <= 6; ++e) train_only.add(e, {{"loss", 1.0 / e}, {"accuracy", 0.1 * e}});
  plot_history(train_only, dir + "/train.svg", o);
  const std::string plain = read_text(dir + "/train.svg");
  CHECK(count_of(plain, "<path") >= 4);
  CHECK(plain.find("stroke-dasharray") == std::string::npos);
}

TEST_CASE("plot_history: a single epoch draws points", "[plot]") {
  if (!plotting_available()) return;
  const std::string dir = test::fresh_dir("plot_single");
  History h;
  h.add(1, {{"loss", 0.8}, {"val_loss", 0.9}, {"accuracy", 0.6}, {"val_accuracy", 0.55}});
  plot_history(h, dir + "/one.png");
  const RgbImage img = read_image(dir + "/one.png");
  CHECK(img.width == 960);
  CHECK(img.height == 480);
  CHECK(count_near(img, kBlue) >= 4 * 20);  // four dots
  plot_history(h, dir + "/one.svg");
  CHECK(read_text(dir + "/one.svg").find("</svg>") != std::string::npos);

  // A flat series over several epochs (zero range on the y axis) draws too.
  History flat;
  for (int e = 3; e <= 7; ++e) flat.add(e, {{"loss", 0.0}});
  plot_history(flat, dir + "/flat.png");
  CHECK(count_near(read_image(dir + "/flat.png"), kBlue) > 100);
}

TEST_CASE("plot_history: NaN and Inf leave gaps; an all-NaN key is left out", "[plot]") {
  if (!plotting_available()) return;
  const std::string dir = test::fresh_dir("plot_gaps");
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> u(0.0, 0.1);
  History h;
  for (int e = 1; e <= 15; ++e) {
    std::map<std::string, double> logs{{"loss", 1.5 / e + u(rng)}};
    if (e % 4 == 0) logs["val_loss"] = 1.7 / e + u(rng);  // every 4th epoch: isolated points
    if (e >= 9) logs["test_acc"] = 0.5 + 0.03 * e;        // a key that starts late
    if (e == 6) logs["loss"] = std::numeric_limits<double>::infinity();
    if (e == 7) logs["loss"] = kNaN;
    h.add(e, logs);
  }
  REQUIRE(std::isnan(h["test_acc"][0]));
  plot_history(h, dir + "/gaps.png");
  const RgbImage img = read_image(dir + "/gaps.png");
  CHECK(img.width == 960);
  CHECK(count_near(img, kBlue) > 200);

  // Only NaN accuracies and no loss: nothing to plot.
  History all_nan;
  for (int e = 1; e <= 4; ++e) all_nan.add(e, {{"val_accuracy", kNaN}, {"lr", 0.1}});
  REQUIRE_THROWS_AS(plot_history(all_nan, dir + "/nan.png"), ArgumentError);
  CHECK_FALSE(file_exists(dir + "/nan.png"));
}

TEST_CASE("plot_history: very large, very small and negative values draw", "[plot]") {
  if (!plotting_available()) return;
  const std::string dir = test::fresh_dir("plot_extreme");
  std::mt19937 rng(29);
  std::uniform_real_distribution<double> u(0.5, 1.5);
  for (double scale : {3e9, 2e-9, -4.0, 1e-300}) {
    INFO("scale " << scale);
    History h;
    for (int e = 1; e <= 12; ++e) h.add(e, {{"loss", scale * u(rng) / e}, {"val_loss", scale * u(rng)}});
    plot_history(h, dir + "/extreme.png");
    CHECK(count_near(read_image(dir + "/extreme.png"), kBlue) > 200);
  }
}

TEST_CASE("plot_history: accuracies in percent draw as the same fractions", "[plot]") {
  if (!plotting_available()) return;
  const std::string dir = test::fresh_dir("plot_percent");
  const History fractions = keras_history(8, 21);
  History percent;
  for (int64_t i = 0; i < fractions.size(); ++i) {
    std::map<std::string, double> row = fractions.row(i);
    for (auto& [key, v] : row)
      if (key.find("accuracy") != std::string::npos) v *= 100;
    percent.add(fractions.epochs()[size_t(i)], row);
  }
  plot_history(fractions, dir + "/f.png");
  plot_history(percent, dir + "/p.png");
  const RgbImage a = read_image(dir + "/f.png"), b = read_image(dir + "/p.png");
  REQUIRE(a.pixels.size() == b.pixels.size());
  size_t differ = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) differ += std::abs(a.pixels[i] - b.pixels[i]) > 2;
  CHECK(differ < a.pixels.size() / 1000);
}

TEST_CASE("plot_history: typed errors, and an existing file is left as it was", "[plot]") {
  const std::string dir = test::fresh_dir("plot_errors");
  const History h = keras_history(6, 2);
  const std::string old_png = dir + "/old.png";
  { std::ofstream(old_png) << "the previous plot"; }

  auto expect_argument_error = [&](const History& hist, const std::string& path, const PlotOptions& o,
                                   const std::string& text) {
    INFO(path);
    REQUIRE_THROWS_AS(plot_history(hist, path, o), ArgumentError);
    REQUIRE_THROWS_WITH(plot_history(hist, path, o), Catch::Contains(text));
  };
  expect_argument_error(h, dir + "/curves.jpg", {}, "curves.jpg");
  expect_argument_error(h, dir + "/curves", {}, "no extension");
  expect_argument_error(h, dir + "/dir.png/curves", {}, "use .png or .svg");
  expect_argument_error(History(), old_png, {}, "no epochs");
  History no_curves;
  no_curves.add(1, {{"lr", 0.1}, {"seconds", 3.0}});
  expect_argument_error(no_curves, old_png, {}, "lr, seconds");
  PlotOptions tiny;
  tiny.width = 199;
  expect_argument_error(h, old_png, tiny, "199");
  PlotOptions huge;
  huge.height = 9000;
  expect_argument_error(h, old_png, huge, "9000");
  CHECK(read_text(old_png) == "the previous plot");

  if (!plotting_available()) return;
  const std::string missing = dir + "/no/such/dir/c.png";
  REQUIRE_THROWS_AS(plot_history(h, missing), IOError);
  REQUIRE_THROWS_WITH(plot_history(h, missing), Catch::Contains(missing));
  // A good call replaces the old file, leaving no temp behind.
  plot_history(h, old_png);
  CHECK(read_image(old_png).width == 960);
  CHECK_FALSE(file_exists(old_png + ".tmp"));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  CHECK(names == std::vector<std::string>{"old.png"});
}
