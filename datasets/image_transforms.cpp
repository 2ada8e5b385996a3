#include "datasets/image_transforms.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "core/error.hpp"

namespace dlcraft {

namespace {
std::string dims(int width, int height) { return std::to_string(width) + "x" + std::to_string(height); }

void check_image(const RgbImage& img, const char* who) {
  if (img.width <= 0 || img.height <= 0 || img.pixels.size() != size_t(img.width) * img.height * 3)
    throw ArgumentError(std::string(who) + ": image is " + dims(img.width, img.height) + " with " +
                        std::to_string(img.pixels.size()) + " bytes (width * height * 3 expected, both >= 1)");
}

void check_size(int height, int width, const char* who) {
  if (height < 1 || width < 1)
    throw ArgumentError(std::string(who) + ": output size must be at least 1x1, got height " +
                        std::to_string(height) + " width " + std::to_string(width));
}

void check_range(const std::array<double, 2>& r, const std::string& who, const char* name) {
  if (!(r[0] > 0) || !(r[0] <= r[1]) || !std::isfinite(r[1]))
    throw ArgumentError(who + ": " + name + " must satisfy 0 < lo <= hi, got (" + std::to_string(r[0]) + ", " +
                        std::to_string(r[1]) + ")");
}

// Python's round() on a float: to nearest, halves to even (the default FP rounding mode).
int round_half_even(double v) { return int(std::nearbyint(v)); }

// Uniform in [lo, hi) from 53 random bits.
double uniform(Generator& gen, double lo, double hi) {
  return lo + (hi - lo) * (double(gen.next_u64() >> 11) * (1.0 / 9007199254740992.0));
}
}  // namespace

namespace {
// Pillow's fixed point for 8-bit images (Resample.c): weights scaled by 2^22, so a sum of
// 255 * weights stays inside an int32.
constexpr int kPrecisionBits = 32 - 8 - 2;

// For each output position along one axis: the first source pixel, how many, and their
// weights. Pillow's precompute_coeffs for the bilinear (triangle) filter, step by step.
struct AxisWeights {
  int taps = 0;                  // weights per output position (unused ones 0)
  std::vector<int> first, count;
  std::vector<int32_t> weights;  // out_size * taps
};

AxisWeights axis_weights(int in_size, int out_size) {
  const double scale = double(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);  // shrinking widens the filter
  const double support = 1.0 * filterscale;          // the triangle's half-width
  AxisWeights a;
  a.taps = int(std::ceil(support)) * 2 + 1;
  a.first.resize(out_size);
  a.count.resize(out_size);
  a.weights.assign(size_t(out_size) * a.taps, 0);
  std::vector<double> k(a.taps);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    const int xmin = std::max(0, int(center - support + 0.5));
    const int n = std::min(in_size, int(center + support + 0.5)) - xmin;
    double ww = 0;
    for (int x = 0; x < n; ++x) {
      const double t = std::fabs((x + xmin - center + 0.5) * ss);
      k[x] = t < 1.0 ? 1.0 - t : 0.0;
      ww += k[x];
    }
    for (int x = 0; x < n; ++x) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      a.weights[size_t(xx) * a.taps + x] = int32_t(0.5 + w * (1 << kPrecisionBits));  // w >= 0
    }
    a.first[xx] = xmin;
    a.count[xx] = n;
  }
  return a;
}

uint8_t clip8(int32_t v) { return uint8_t(std::clamp(v >> kPrecisionBits, 0, 255)); }
}  // namespace

RgbImage resize_antialiased(const RgbImage& src, int width, int height) {
  check_image(src, "resize_antialiased");
  check_size(height, width, "resize_antialiased");
  if (src.width == width && src.height == height) return src;
  const AxisWeights vert = axis_weights(src.height, height);
  // Pass 1, horizontal, over the source rows pass 2 reads; rounded to 8 bits in between.
  RgbImage tmp;
  int row0 = 0;
  if (width != src.width) {
    const AxisWeights horiz = axis_weights(src.width, width);
    int rows = src.height;
    if (height != src.height) {
      row0 = vert.first[0];
      rows = vert.first[height - 1] + vert.count[height - 1] - row0;
    }
    tmp.width = width;
    tmp.height = rows;
    tmp.pixels.resize(size_t(width) * rows * 3);
    for (int y = 0; y < rows; ++y) {
      const uint8_t* in = &src.pixels[size_t(y + row0) * src.width * 3];
      uint8_t* out = &tmp.pixels[size_t(y) * width * 3];
      for (int x = 0; x < width; ++x) {
        const int32_t* k = &horiz.weights[size_t(x) * horiz.taps];
        int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;  // + 0.5: rounding
        for (int i = 0; i < horiz.count[x]; ++i) {
          const uint8_t* p = in + size_t(horiz.first[x] + i) * 3;
          s0 += p[0] * k[i];
          s1 += p[1] * k[i];
          s2 += p[2] * k[i];
        }
        out[x * 3] = clip8(s0);
        out[x * 3 + 1] = clip8(s1);
        out[x * 3 + 2] = clip8(s2);
      }
    }
  } else {
    tmp = src;
  }
  if (height == src.height) return tmp;
  // Pass 2, vertical.
  RgbImage dst;
  dst.width = width;
  dst.height = height;
  dst.pixels.resize(size_t(width) * height * 3);
  const int row_len = width * 3;
  std::vector<int32_t> acc(row_len);
  for (int y = 0; y < height; ++y) {
    const int32_t* k = &vert.weights[size_t(y) * vert.taps];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int i = 0; i < vert.count[y]; ++i) {  // row by row: the inner loop vectorises
      const uint8_t* in = &tmp.pixels[size_t(vert.first[y] - row0 + i) * row_len];
      const int32_t ki = k[i];
      for (int x = 0; x < row_len; ++x) acc[x] += in[x] * ki;
    }
    uint8_t* out = &dst.pixels[size_t(y) * row_len];
    for (int x = 0; x < row_len; ++x) out[x] = clip8(acc[x]);
  }
  return dst;
}

RgbImage resize_shorter(const RgbImage& img, int size, bool antialias) {
  check_image(img, "resize_shorter");
  if (size < 1) throw ArgumentError("resize_shorter: size must be >= 1, got " + std::to_string(size));
  const bool portrait = img.width <= img.height;
  const int64_t shorter = portrait ? img.width : img.height, longer = portrait ? img.height : img.width;
  // Python's int(size * long / short): the exact product, one rounded division, truncated.
  const double new_long = std::trunc(double(int64_t(size) * longer) / double(shorter));
  if (double(size) * new_long > double(kMaxImagePixels))
    throw ArgumentError("resize_shorter: " + dims(img.width, img.height) + " with shorter side " +
                        std::to_string(size) + " would be more than " + std::to_string(kMaxImagePixels) + " pixels");
  const int w = portrait ? size : int(new_long), h = portrait ? int(new_long) : size;
  return antialias ? resize_antialiased(img, w, h) : resize_bilinear(img, w, h);
}

RgbImage crop(const RgbImage& img, const CropBox& box) {
  check_image(img, "crop");
  if (box.height < 1 || box.width < 1 || box.top < 0 || box.left < 0 || box.top + box.height > img.height ||
      box.left + box.width > img.width)
    throw ArgumentError("crop: window top " + std::to_string(box.top) + " left " + std::to_string(box.left) +
                        " size " + dims(box.width, box.height) + " is not inside the " +
                        dims(img.width, img.height) + " image");
  RgbImage out;
  out.width = box.width;
  out.height = box.height;
  out.pixels.resize(size_t(box.width) * box.height * 3);
  for (int y = 0; y < box.height; ++y)
    std::memcpy(&out.pixels[size_t(y) * box.width * 3],
                &img.pixels[(size_t(box.top + y) * img.width + box.left) * 3], size_t(box.width) * 3);
  return out;
}

RgbImage center_crop(const RgbImage& img, int height, int width) {
  check_image(img, "center_crop");
  check_size(height, width, "center_crop");
  // torchvision pads a side shorter than the crop with (crop - side) / 2 zeros before it and
  // the rest after; the padded side then equals the crop, so its offset is 0.
  const int pad_top = height > img.height ? (height - img.height) / 2 : 0;
  const int pad_left = width > img.width ? (width - img.width) / 2 : 0;
  const int padded_h = std::max(height, img.height), padded_w = std::max(width, img.width);
  const int top = round_half_even((padded_h - height) / 2.0) - pad_top;
  const int left = round_half_even((padded_w - width) / 2.0) - pad_left;
  if (top >= 0 && left >= 0 && top + height <= img.height && left + width <= img.width)
    return crop(img, {top, left, height, width});
  RgbImage out;
  out.width = width;
  out.height = height;
  out.pixels.assign(size_t(width) * height * 3, 0);
  const int x0 = std::max(0, -left), x1 = std::min(width, img.width - left);
  for (int y = std::max(0, -top); y < std::min(height, img.height - top); ++y)
    std::memcpy(&out.pixels[(size_t(y) * width + x0) * 3], &img.pixels[(size_t(y + top) * img.width + x0 + left) * 3],
                size_t(x1 - x0) * 3);
  return out;
}

CropBox random_resized_crop_box(int image_height, int image_width, Generator& gen, std::array<double, 2> scale,
                                std::array<double, 2> ratio) {
  check_range(scale, "random_resized_crop", "scale");
  check_range(ratio, "random_resized_crop", "ratio");
  if (image_height < 1 || image_width < 1)
    throw ArgumentError("random_resized_crop: image is " + dims(image_width, image_height));
  const double area = double(image_height) * image_width;
  const double log_lo = std::log(ratio[0]), log_hi = std::log(ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * uniform(gen, scale[0], scale[1]);
    const double aspect = std::exp(uniform(gen, log_lo, log_hi));
    const int w = round_half_even(std::sqrt(target_area * aspect));
    const int h = round_half_even(std::sqrt(target_area / aspect));
    if (0 < w && w <= image_width && 0 < h && h <= image_height) {
      const int top = int(gen.below(uint64_t(image_height - h) + 1));
      const int left = int(gen.below(uint64_t(image_width - w) + 1));
      return {top, left, h, w};
    }
  }
  // Fallback: a central crop, the whole image when its ratio is in range, else the largest
  // window at the nearest allowed ratio.
  const double in_ratio = double(image_width) / image_height;
  int w = image_width, h = image_height;
  if (in_ratio < ratio[0])
    h = std::clamp(round_half_even(w / ratio[0]), 1, image_height);
  else if (in_ratio > ratio[1])
    w = std::clamp(round_half_even(h * ratio[1]), 1, image_width);
  return {(image_height - h) / 2, (image_width - w) / 2, h, w};
}

RgbImage random_resized_crop(const RgbImage& img, int height, int width, Generator& gen, std::array<double, 2> scale,
                             std::array<double, 2> ratio) {
  check_image(img, "random_resized_crop");
  check_size(height, width, "random_resized_crop");
  const CropBox box = random_resized_crop_box(img.height, img.width, gen, scale, ratio);
  return resize_antialiased(crop(img, box), width, height);
}

RgbImage random_resized_crop(const RgbImage& img, int height, int width, uint64_t random, std::array<double, 2> scale,
                             std::array<double, 2> ratio) {
  Generator gen(random);
  return random_resized_crop(img, height, width, gen, scale, ratio);
}

RgbImage horizontal_flip(const RgbImage& img) {
  check_image(img, "horizontal_flip");
  RgbImage out = img;
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* src = &img.pixels[size_t(y) * img.width * 3];
    uint8_t* dst = &out.pixels[size_t(y) * img.width * 3];
    for (int x = 0; x < img.width; ++x) std::memcpy(dst + size_t(img.width - 1 - x) * 3, src + size_t(x) * 3, 3);
  }
  return out;
}

void to_chw_normalized(const RgbImage& img, const std::array<float, 3>& mean, const std::array<float, 3>& std,
                       float* out) {
  check_image(img, "to_chw_normalized");
  const size_t plane = size_t(img.width) * img.height;
  for (int c = 0; c < 3; ++c) {
    // The same float32 steps as torch: ToTensor's x / 255, then Normalize's (x - mean) / std.
    const float m = mean[c], s = std[c];
    float* dst = out + c * plane;
    for (size_t p = 0; p < plane; ++p) dst[p] = (float(img.pixels[p * 3 + c]) / 255.0f - m) / s;
  }
}

void ImageTransform::check(const std::string& who) const {
  if (crop < 1) throw ArgumentError(who + ": crop size must be >= 1, got " + std::to_string(crop));
  if (kind == Kind::Eval && resize < 0)
    throw ArgumentError(who + ": resize must be >= 0 (0: none), got " + std::to_string(resize));
  for (int c = 0; c < 3; ++c)
    if (!std::isfinite(mean[c]) || !(std[c] > 0) || !std::isfinite(std[c]))
      throw ArgumentError(who + ": channel " + std::to_string(c) + " has mean " + std::to_string(mean[c]) +
                          " std " + std::to_string(std[c]) + " (a finite mean and a std > 0 are needed)");
  if (kind == Kind::Train) {
    check_range(scale, who, "scale");
    check_range(ratio, who, "ratio");
  }
}

void ImageTransform::apply(const RgbImage& img, uint64_t random, float* out) const {
  check("ImageTransform");
  if (kind == Kind::Eval) {
    const RgbImage resized = resize > 0 ? resize_shorter(img, resize, antialias) : img;
    to_chw_normalized(center_crop(resized, crop, crop), mean, std, out);
    return;
  }
  Generator gen(random);
  const CropBox box = random_resized_crop_box(img.height, img.width, gen, scale, ratio);
  RgbImage x = antialias ? resize_antialiased(dlcraft::crop(img, box), crop, crop)
                         : resize_bilinear(dlcraft::crop(img, box), crop, crop);
  if (flip && (gen.next_u64() >> 63)) x = horizontal_flip(x);
  to_chw_normalized(x, mean, std, out);
}

std::string ImageTransform::str() const {
  std::ostringstream s;
  s.precision(4);
  if (kind == Kind::Eval) {
    if (resize > 0) s << "Resize(" << resize << ") ";
    s << "CenterCrop(" << crop << ") ";
  } else {
    s << "RandomResizedCrop(" << crop << ", scale (" << scale[0] << ", " << scale[1] << "), ratio (" << ratio[0]
      << ", " << ratio[1] << ")) ";
    if (flip) s << "RandomHorizontalFlip ";
  }
  if (!antialias) s << "(resize_bilinear) ";
  s << "Normalize(mean (" << mean[0] << ", " << mean[1] << ", " << mean[2] << ") std (" << std[0] << ", " << std[1]
    << ", " << std[2] << "))";
  return s.str();
}

ImageTransform eval_transform(int resize, int crop) {
  ImageTransform t;
  t.kind = ImageTransform::Kind::Eval;
  t.resize = resize;
  t.crop = crop;
  t.check("eval_transform");
  return t;
}

ImageTransform train_transform(int crop) {
  ImageTransform t;
  t.kind = ImageTransform::Kind::Train;
  t.crop = crop;
  t.check("train_transform");
  return t;
}

}  // namespace dlcraft
