// Training curves drawn with cairo: one panel per family of metrics (loss, accuracy), epochs
// on the x axis, "nice" 1-2-5 tick values, a legend, into a PNG or SVG file. Note: docs/curves.md.
#include "train/plot.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>
#include <ostream>

#include "core/error.hpp"
#include "core/file_io.hpp"

#ifdef DLCRAFT_WITH_CAIRO
#include <cairo-svg.h>
#include <cairo.h>
#endif

namespace dlcraft {

namespace {

constexpr int kMinWidth = 200, kMinHeight = 150, kMaxSide = 8192;

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

enum class Family { kNone, kLoss, kAccuracy };

Family family_of(const std::string& key) {
  if (key == "loss" || ends_with(key, "_loss")) return Family::kLoss;
  if (key == "accuracy" || key == "acc" || ends_with(key, "_accuracy") || ends_with(key, "_acc"))
    return Family::kAccuracy;
  return Family::kNone;
}

// Validation and test curves are dashed; "val_loss" and "loss" (or "test_acc" and "train_acc")
// share a colour, found by taking the split's prefix off.
bool is_held_out(const std::string& key) { return starts_with(key, "val_") || starts_with(key, "test_"); }
std::string base_name(const std::string& key) {
  for (const char* prefix : {"train_", "val_", "test_"})
    if (starts_with(key, prefix)) return key.substr(std::string(prefix).size());
  return key;
}

struct Series {
  std::string key;
  std::vector<double> values;  // one per epoch, NaN: a gap
  int colour = 0;
  bool dashed = false;
};

struct Panel {
  std::string title;
  std::vector<Series> series;
};

// The panels the history has data for: loss first, then accuracy (in %). A key whose values are
// all NaN/Inf is left out, and so is a panel left with no key.
std::vector<Panel> make_panels(const History& history) {
  std::vector<Panel> panels;
  for (Family family : {Family::kLoss, Family::kAccuracy}) {
    Panel panel{family == Family::kLoss ? "loss" : "accuracy (%)", {}};
    for (const std::string& key : history.keys()) {
      if (family_of(key) != family) continue;
      Series s{key, history[key], 0, is_held_out(key)};
      for (double& v : s.values)
        if (!std::isfinite(v)) v = std::nan("");
      if (std::all_of(s.values.begin(), s.values.end(), [](double v) { return std::isnan(v); })) continue;
      // Accuracies are fractions (Keras, fit, train_cifar); a series with a value above 1 is
      // taken to be in percent already.
      if (family == Family::kAccuracy &&
          std::none_of(s.values.begin(), s.values.end(), [](double v) { return v > 1.0; }))
        for (double& v : s.values) v *= 100.0;
      panel.series.push_back(std::move(s));
    }
    if (panel.series.empty()) continue;
    // Training before held-out for each base name; one colour per base name.
    std::stable_sort(panel.series.begin(), panel.series.end(), [](const Series& a, const Series& b) {
      const std::string ba = base_name(a.key), bb = base_name(b.key);
      return ba != bb ? ba < bb : a.dashed < b.dashed;
    });
    int colour = -1;
    for (size_t i = 0; i < panel.series.size(); ++i) {
      if (i == 0 || base_name(panel.series[i].key) != base_name(panel.series[i - 1].key)) ++colour;
      panel.series[i].colour = colour;
    }
    panels.push_back(std::move(panel));
  }
  return panels;
}

enum class Format { kPng, kSvg };

Format format_of(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash) ? "" : path.substr(dot);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".png") return Format::kPng;
  if (ext == ".svg") return Format::kSvg;
  throw ArgumentError(path + ": cannot tell the plot format from the name " +
                      (ext.empty() ? std::string("(no extension)") : "('" + ext + "')") + ": use .png or .svg");
}

#ifdef DLCRAFT_WITH_CAIRO

// An axis: the range drawn and the values labelled on it.
struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  int decimals = 0;
};

// The smallest of 1, 2, 5 x 10^k that is at least `raw`: ticks people can read at a glance.
double nice_step(double raw) {
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag;
}

// The data's range and 5% more on each side, so that no point sits on the frame (half of it
// clipped), labelled at multiples of a nice step giving about `target` intervals. A flat series
// (lo == hi) gets a small range around its value.
Axis value_axis(double lo, double hi, int target) {
  if (!(hi - lo > 1e-12 * std::max(std::fabs(lo), std::fabs(hi)))) {
    const double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  Axis axis;
  axis.lo = lo - 0.05 * (hi - lo);
  axis.hi = hi + 0.05 * (hi - lo);
  const double step = nice_step((axis.hi - axis.lo) / target);
  for (double k = std::ceil(axis.lo / step); k * step <= axis.hi && axis.ticks.size() < 50; k += 1.0) axis.ticks.push_back(k * step);
  axis.decimals = std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
  return axis;
}

// Epochs: integer ticks (a step of 1, 2, 5, 10, ...) over first..last epoch and 3% more on
// each side, or one epoch either side when there is a single one.
Axis epoch_axis(int64_t first, int64_t last, int target) {
  Axis axis;
  const double pad = first == last ? 1.0 : 0.03 * double(last - first);
  axis.lo = double(first) - pad;
  axis.hi = double(last) + pad;
  const double step = std::max(1.0, nice_step((axis.hi - axis.lo) / target));
  for (double t = std::ceil(axis.lo / step) * step; t <= axis.hi && axis.ticks.size() < 50; t += step) axis.ticks.push_back(t);
  return axis;
}

// Fixed-point with as many decimals as the step needs ("0.25", "1.5", "40"); very large or very
// fine values in exponent form ("2.5e+07"), which fixed-point would make unreadably long.
std::string format_tick(double v, int decimals) {
  char text[64];
  if (std::fabs(v) >= 1e6 || decimals > 6) std::snprintf(text, sizeof(text), "%.4g", v);
  else std::snprintf(text, sizeof(text), "%.*f", decimals, v);
  std::string s = text;
  if (s.find_first_not_of("-0.") == std::string::npos && s[0] == '-') s.erase(0, 1);  // no "-0.0"
  return s;
}

// Matplotlib's "tab10" colours: distinct, and readable by most colour-blind people.
constexpr double kColours[][3] = {{0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28},
                                  {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f},
                                  {0xbc, 0xbd, 0x22}, {0x17, 0xbe, 0xcf}};

void set_colour(cairo_t* cr, int i) {
  const double* c = kColours[size_t(i) % (sizeof(kColours) / sizeof(kColours[0]))];
  cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
}

struct Rect {
  double x, y, w, h;
  bool contains(double px, double py) const { return px >= x && px <= x + w && py >= y && py <= y + h; }
};

double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

// Text with its left (align 0), centre (0.5) or right (1) end at x and its middle at height y.
void draw_text(cairo_t* cr, const std::string& s, double x, double y, double align) {
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  cairo_move_to(cr, x - align * text_width(cr, s), y + (fe.ascent - fe.descent) / 2);
  cairo_show_text(cr, s.c_str());
}

class PanelPainter {
 public:
  PanelPainter(cairo_t* cr, const std::vector<int64_t>& epochs, double font_size)
      : cr_(cr), epochs_(epochs), fs_(font_size) {}

  // The panel inside `area`: title, grid and tick labels, curves, legend.
  void draw(const Panel& panel, const Rect& area) {
    cairo_set_font_size(cr_, fs_);
    double lo = INFINITY, hi = -INFINITY;
    for (const Series& s : panel.series)
      for (double v : s.values)
        if (!std::isnan(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    const double label_w = fs_ * 4;  // room for the y labels, refined below
    const double top = area.y + fs_ * 2.2, bottom = area.y + area.h - fs_ * 3.2;
    y_ = value_axis(lo, hi, std::clamp(int((bottom - top) / (fs_ * 3)), 3, 8));
    double widest = 0;
    for (double t : y_.ticks) widest = std::max(widest, text_width(cr_, format_tick(t, y_.decimals)));
    const double left = area.x + std::max(label_w * 0.5, widest + fs_ * 1.2), right = area.x + area.w - fs_ * 1.2;
    plot_ = Rect{left, top, std::max(1.0, right - left), std::max(1.0, bottom - top)};
    x_ = epoch_axis(*std::min_element(epochs_.begin(), epochs_.end()),
                    *std::max_element(epochs_.begin(), epochs_.end()),
                    std::clamp(int(plot_.w / (fs_ * 5)), 3, 10));

    cairo_set_source_rgb(cr_, 0, 0, 0);
    draw_text(cr_, panel.title, plot_.x + plot_.w / 2, area.y + fs_ * 1.1, 0.5);
    draw_grid();
    cairo_save(cr_);
    cairo_rectangle(cr_, plot_.x, plot_.y, plot_.w, plot_.h);
    cairo_clip(cr_);
    for (const Series& s : panel.series) draw_series(s);
    cairo_restore(cr_);
    draw_legend(panel);
  }

 private:
  double px(double epoch) const { return plot_.x + (epoch - x_.lo) / (x_.hi - x_.lo) * plot_.w; }
  double py(double v) const { return plot_.y + plot_.h - (v - y_.lo) / (y_.hi - y_.lo) * plot_.h; }
  double line_width() const { return std::max(1.5, fs_ / 6); }

  void draw_grid() {
    cairo_set_line_width(cr_, 1);
    for (double t : y_.ticks) {
      const double y = std::round(py(t)) + 0.5;  // on a pixel row: a sharp 1-pixel line
      cairo_set_source_rgb(cr_, 0.88, 0.88, 0.88);
      cairo_move_to(cr_, plot_.x, y);
      cairo_line_to(cr_, plot_.x + plot_.w, y);
      cairo_stroke(cr_);
      cairo_set_source_rgb(cr_, 0.2, 0.2, 0.2);
      draw_text(cr_, format_tick(t, y_.decimals), plot_.x - fs_ * 0.5, py(t), 1.0);
    }
    for (double t : x_.ticks) {
      const double x = std::round(px(t)) + 0.5;
      cairo_set_source_rgb(cr_, 0.88, 0.88, 0.88);
      cairo_move_to(cr_, x, plot_.y);
      cairo_line_to(cr_, x, plot_.y + plot_.h);
      cairo_stroke(cr_);
      cairo_set_source_rgb(cr_, 0.2, 0.2, 0.2);
      draw_text(cr_, format_tick(t, 0), px(t), plot_.y + plot_.h + fs_ * 0.9, 0.5);
    }
    draw_text(cr_, "epoch", plot_.x + plot_.w / 2, plot_.y + plot_.h + fs_ * 2.3, 0.5);
    cairo_set_source_rgb(cr_, 0.35, 0.35, 0.35);
    cairo_rectangle(cr_, std::round(plot_.x) + 0.5, std::round(plot_.y) + 0.5, std::round(plot_.w), std::round(plot_.h));
    cairo_stroke(cr_);
  }

  void set_line_style(const Series& s) {
    set_colour(cr_, s.colour);
    cairo_set_line_width(cr_, line_width());
    const double dash[] = {fs_ * 0.6, fs_ * 0.35};
    cairo_set_dash(cr_, dash, s.dashed ? 2 : 0, 0);
  }

  // A polyline through the finite values; NaN breaks it. A value with no finite neighbour (a
  // single epoch, or one between gaps) would be an invisible zero-length line: a dot instead.
  void draw_series(const Series& s) {
    set_line_style(s);
    cairo_set_line_join(cr_, CAIRO_LINE_JOIN_ROUND);
    const size_t n = s.values.size();
    auto finite = [&](size_t i) { return i < n && !std::isnan(s.values[i]); };
    bool drawing = false;
    for (size_t i = 0; i < n; ++i) {
      if (!finite(i)) {
        drawing = false;
        continue;
      }
      const double x = px(double(epochs_[i])), y = py(s.values[i]);
      if (drawing) cairo_line_to(cr_, x, y);
      else cairo_move_to(cr_, x, y);
      drawing = true;
    }
    cairo_stroke(cr_);
    for (size_t i = 0; i < n; ++i) {
      if (!finite(i) || (i > 0 && finite(i - 1)) || finite(i + 1)) continue;
      cairo_arc(cr_, px(double(epochs_[i])), py(s.values[i]), line_width() * 2, 0, 2 * M_PI);
      cairo_fill(cr_);
    }
    cairo_set_dash(cr_, nullptr, 0, 0);
  }

  // A box naming each line, in the corner of the plot that covers the fewest data points.
  void draw_legend(const Panel& panel) {
    const double row = fs_ * 1.4, sample = fs_ * 2.2, pad = fs_ * 0.6;
    double widest = 0;
    for (const Series& s : panel.series) widest = std::max(widest, text_width(cr_, s.key));
    const double w = pad + sample + pad + widest + pad, h = pad + row * double(panel.series.size()) + pad * 0.4;
    const double m = fs_ * 0.5;
    const Rect corners[] = {{plot_.x + plot_.w - w - m, plot_.y + m, w, h},
                            {plot_.x + m, plot_.y + m, w, h},
                            {plot_.x + plot_.w - w - m, plot_.y + plot_.h - h - m, w, h},
                            {plot_.x + m, plot_.y + plot_.h - h - m, w, h}};
    const Rect* best = &corners[0];
    int best_count = -1;
    for (const Rect& r : corners) {
      int count = 0;
      for (const Series& s : panel.series)
        for (size_t i = 0; i < s.values.size(); ++i) {
          if (std::isnan(s.values[i])) continue;
          count += r.contains(px(double(epochs_[i])), py(s.values[i]));
          // Midpoints of segments too: a few epochs drawn across the box count.
          if (i + 1 < s.values.size() && !std::isnan(s.values[i + 1]))
            count += r.contains(px(0.5 * double(epochs_[i] + epochs_[i + 1])), py(0.5 * (s.values[i] + s.values[i + 1])));
        }
      if (best_count < 0 || count < best_count) best = &r, best_count = count;
    }
    cairo_rectangle(cr_, best->x, best->y, best->w, best->h);
    cairo_set_source_rgba(cr_, 1, 1, 1, 0.88);
    cairo_fill_preserve(cr_);
    cairo_set_source_rgb(cr_, 0.7, 0.7, 0.7);
    cairo_set_line_width(cr_, 1);
    cairo_stroke(cr_);
    for (size_t i = 0; i < panel.series.size(); ++i) {
      const Series& s = panel.series[i];
      const double y = best->y + pad + row * (double(i) + 0.5);
      set_line_style(s);
      cairo_move_to(cr_, best->x + pad, y);
      cairo_line_to(cr_, best->x + pad + sample, y);
      cairo_stroke(cr_);
      cairo_set_dash(cr_, nullptr, 0, 0);
      cairo_set_source_rgb(cr_, 0.1, 0.1, 0.1);
      draw_text(cr_, s.key, best->x + pad + sample + pad, y, 0.0);
    }
  }

  cairo_t* cr_;
  const std::vector<int64_t>& epochs_;
  double fs_;
  Axis x_, y_;
  Rect plot_{0, 0, 1, 1};
};

void draw_figure(cairo_t* cr, const std::vector<Panel>& panels, const std::vector<int64_t>& epochs,
                 const PlotOptions& options) {
  const double W = options.width, H = options.height;
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  // Text in proportion to the picture, readable from 200 x 150 up to posters.
  const double fs = std::clamp(std::min(W / (30.0 * double(panels.size())), H / 30.0), 7.0, 28.0);
  double top = fs * 0.4;
  if (!options.title.empty()) {
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, fs * 1.25);
    cairo_set_source_rgb(cr, 0, 0, 0);
    draw_text(cr, options.title, W / 2, top + fs * 0.9, 0.5);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    top += fs * 2;
  }
  const double panel_w = W / double(panels.size());
  for (size_t i = 0; i < panels.size(); ++i) {
    PanelPainter painter(cr, epochs, fs);
    painter.draw(panels[i], Rect{panel_w * double(i), top, panel_w, H - top});
  }
}

// cairo writes PNG and SVG bytes through a callback: into a string, so that the file is written
// (atomically) only once the picture is complete, and no C++ exception crosses cairo's C code.
cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  try {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
  } catch (...) {
    return CAIRO_STATUS_NO_MEMORY;
  }
}

void check(cairo_status_t status, const std::string& path, const char* what) {
  if (status != CAIRO_STATUS_SUCCESS)
    throw Error(path + ": cairo could not " + what + " (" + cairo_status_to_string(status) + ")");
}

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using ContextPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

std::string render(Format format, const std::vector<Panel>& panels, const std::vector<int64_t>& epochs,
                   const PlotOptions& options, const std::string& path) {
  std::string bytes;
  SurfacePtr surface(format == Format::kPng
                         ? cairo_image_surface_create(CAIRO_FORMAT_RGB24, options.width, options.height)
                         : cairo_svg_surface_create_for_stream(append_to_string, &bytes, options.width, options.height),
                     cairo_surface_destroy);
  check(cairo_surface_status(surface.get()), path, "create the surface");
#if CAIRO_VERSION >= CAIRO_VERSION_ENCODE(1, 16, 0)
  // Sizes in points, whatever this cairo's default unit (1.16 wrote none, 1.17 "pt").
  if (format == Format::kSvg) cairo_svg_surface_set_document_unit(surface.get(), CAIRO_SVG_UNIT_PT);
#endif
  {
    ContextPtr cr(cairo_create(surface.get()), cairo_destroy);
    draw_figure(cr.get(), panels, epochs, options);
    check(cairo_status(cr.get()), path, "draw the plot");
  }
  if (format == Format::kPng) {
    cairo_surface_flush(surface.get());
    check(cairo_surface_write_to_png_stream(surface.get(), append_to_string, &bytes), path, "encode the PNG");
  } else {
    cairo_surface_finish(surface.get());  // writes the SVG's last bytes
    check(cairo_surface_status(surface.get()), path, "write the SVG");
  }
  return bytes;
}

#endif  // DLCRAFT_WITH_CAIRO

}  // namespace

bool plotting_available() {
#ifdef DLCRAFT_WITH_CAIRO
  return true;
#else
  return false;
#endif
}

void plot_history(const History& history, const std::string& path, const PlotOptions& options) {
  const Format format = format_of(path);
  if (options.width < kMinWidth || options.width > kMaxSide || options.height < kMinHeight || options.height > kMaxSide)
    throw ArgumentError(path + ": plot size " + std::to_string(options.width) + " x " + std::to_string(options.height) +
                        " (width " + std::to_string(kMinWidth) + " to " + std::to_string(kMaxSide) + ", height " +
                        std::to_string(kMinHeight) + " to " + std::to_string(kMaxSide) + ")");
  if (history.size() == 0) throw ArgumentError(path + ": the history has no epochs: nothing to plot");
  const std::vector<Panel> panels = make_panels(history);
  if (panels.empty()) {
    std::string names;
    for (const auto& k : history.keys()) names += (names.empty() ? "" : ", ") + k;
    throw ArgumentError(path + ": no loss or accuracy values to plot (the history has: " +
                        (names.empty() ? "nothing" : names) + ")");
  }
#ifdef DLCRAFT_WITH_CAIRO
  const std::string bytes = render(format, panels, history.epochs(), options, path);
  write_file_atomic(path, [&](std::ostream& out) { out.write(bytes.data(), std::streamsize(bytes.size())); });
#else
  (void)format;
  throw Error("dlcraft was built without cairo: install libcairo2-dev and rebuild (plot " + path + ")");
#endif
}

}  // namespace dlcraft
