// The ImageNet-style pipeline: transforms on images of any size (datasets/image_transforms.hpp)
// against torchvision's formulas and golden outputs (tests/golden/image_pipeline.*, made by
// scripts/make_image_golden.py), the image-file data set scan and split
// (datasets/image_files.hpp), and the batch loader (datasets/image_loader.hpp): every image
// once per epoch, labels with their images, determinism over seeds and thread counts, a broken
// file mid-epoch, destruction mid-epoch. Images are PNGs and JPEGs written here
// (tests/image_encode.hpp) at odd sizes, RGB and grayscale.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "core/error.hpp"
#include "core/safetensors.hpp"
#include "core/threads.hpp"
#include "datasets/image_files.hpp"
#include "datasets/image_loader.hpp"
#include "datasets/image_transforms.hpp"
#include "image_encode.hpp"
#include "test_data.hpp"

#ifndef DLCRAFT_GOLDEN_DIR
#define DLCRAFT_GOLDEN_DIR "tests/golden"
#endif

using namespace dlcraft;
using namespace dlcraft::test;
namespace fs = std::filesystem;

namespace {

// Each pixel names its place: R = x mod 256, G = y mod 256, B = 100 + x / 256 + 2 * (y / 256).
RgbImage coord_image(int width, int height) {
  RgbImage img;
  img.width = width;
  img.height = height;
  img.pixels.resize(size_t(width) * height * 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &img.pixels[(size_t(y) * width + x) * 3];
      p[0] = uint8_t(x & 255);
      p[1] = uint8_t(y & 255);
      p[2] = uint8_t(100 + (x >> 8) + 2 * (y >> 8));
    }
  return img;
}

// The (x, y) a coord_image pixel came from.
std::pair<int, int> where(const RgbImage& img, int x, int y) {
  const uint8_t* p = &img.pixels[(size_t(y) * img.width + x) * 3];
  return {p[0] + 256 * ((p[2] - 100) % 2), p[1] + 256 * ((p[2] - 100) / 2)};
}

// Noise, seeded: a stand-in for a photo where every crop differs.
RgbImage noise_image(int width, int height, uint64_t seed) {
  RgbImage img;
  img.width = width;
  img.height = height;
  img.pixels.resize(size_t(width) * height * 3);
  Generator gen(seed);
  for (uint8_t& v : img.pixels) v = uint8_t(gen.next_u64() >> 56);
  return img;
}

void write_png(const std::string& path, const RgbImage& img) {
  PngSpec spec;
  spec.width = img.width;
  spec.height = img.height;
  spec.color_type = 2;
  spec.samples = img.pixels;
  write_bytes(path, encode_png(spec));
}

void write_gray_png(const std::string& path, int width, int height, uint64_t seed) {
  PngSpec spec;
  spec.width = width;
  spec.height = height;
  spec.color_type = 0;
  spec.samples = noise_image(width, height, seed).pixels;
  spec.samples.resize(size_t(width) * height);
  write_bytes(path, encode_png(spec));
}

void write_jpeg(const std::string& path, const RgbImage& img, int components = 3) {
  Bytes pixels = img.pixels;
  if (components == 1) {
    pixels.resize(size_t(img.width) * img.height);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = img.pixels[i * 3];
  }
  write_bytes(path, encode_jpeg(img.width, img.height, components, pixels, 90, false));
}

void touch(const std::string& path, const std::string& text = "x") { std::ofstream(path) << text; }

std::vector<float> floats(const Tensor& t) { return t.to_vector(); }

// The epoch's batches: images flattened, labels in order.
struct Epoch {
  std::vector<std::vector<float>> images;
  std::vector<Shape> shapes;
  std::vector<int32_t> labels;
};

Epoch run_epoch(ImageBatchLoader& loader, int64_t epoch) {
  Epoch e;
  loader.start_epoch(epoch);
  Tensor images;
  std::vector<int32_t> labels;
  while (loader.next_batch(Device::cpu(), images, labels)) {
    e.images.push_back(floats(images));
    e.shapes.push_back(images.shape());
    e.labels.insert(e.labels.end(), labels.begin(), labels.end());
  }
  return e;
}

// root/cNN/img.{png,jpg}: one image per class, so a label names its image. Odd sizes, RGB and
// grayscale, PNG and JPEG.
ImageFileDataset one_per_class(const std::string& name) {
  const std::string root = fresh_dir(name);
  const std::vector<std::pair<int, int>> sizes = {{50, 37}, {300, 200}, {31, 64}, {24, 24}, {23, 17},
                                                  {64, 31}, {40, 90},   {33, 33}, {17, 60}, {90, 41},
                                                  {25, 26}, {120, 80},  {29, 30}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    char cls[8];
    std::snprintf(cls, sizeof cls, "c%02zu", i);
    const std::string dir = root + "/" + cls;
    fs::create_directories(dir);
    const auto [w, h] = sizes[i];
    const RgbImage img = noise_image(w, h, 100 + i);
    switch (i % 4) {
      case 0: write_png(dir + "/img.png", img); break;
      case 1: write_jpeg(dir + "/img.jpg", img); break;
      case 2: write_gray_png(dir + "/img.png", w, h, i); break;
      default: write_jpeg(dir + "/img.jpeg", img, 1); break;
    }
  }
  return scan_image_files(root);
}

}  // namespace

// ------------------------------------------------------------------ transforms

TEST_CASE("resize_shorter: the shorter side becomes size, the longer one truncated as torchvision") {
  struct Case {
    int w, h, size, want_w, want_h;
  };
  // 32 * 50 / 37 = 43.24 -> 43; 224 * 500 / 375 = 298.67 -> 298 (not 299: truncation);
  // 256 * 500 / 375 = 341.33 -> 341; exact quotients stay exact (384, 7).
  for (const Case& c : std::vector<Case>{{50, 37, 32, 43, 32},
                                         {300, 200, 256, 384, 256},
                                         {31, 64, 32, 32, 66},
                                         {375, 500, 224, 224, 298},
                                         {500, 375, 256, 341, 256},
                                         {3, 7, 3, 3, 7},
                                         {10, 3, 7, 23, 7},
                                         {100, 100, 256, 256, 256},
                                         {256, 300, 256, 256, 300}}) {
    INFO(c.w << "x" << c.h << " -> " << c.size);
    const RgbImage img = noise_image(c.w, c.h, 1);
    const RgbImage out = resize_shorter(img, c.size);
    CHECK(out.width == c.want_w);
    CHECK(out.height == c.want_h);
    CHECK(out.pixels == resize_antialiased(img, c.want_w, c.want_h).pixels);
    const RgbImage area = resize_shorter(img, c.size, false);
    CHECK(area.pixels == resize_bilinear(img, c.want_w, c.want_h).pixels);
  }
  // Already the right size: unchanged.
  const RgbImage same = noise_image(256, 300, 2);
  CHECK(resize_shorter(same, 256).pixels == same.pixels);
  CHECK_THROWS_AS(resize_shorter(same, 0), ArgumentError);
  // A 1x8192 sliver would become 256 x 2097152 pixels: refused, not allocated.
  CHECK_THROWS_WITH(resize_shorter(noise_image(1, 8192, 3), 256), Catch::Contains("1x8192"));
  RgbImage broken = same;
  broken.pixels.pop_back();
  CHECK_THROWS_AS(resize_shorter(broken, 10), ArgumentError);
}

TEST_CASE("center_crop: torchvision's offsets (round half to even) and zero padding") {
  // (W, H, crop h, crop w) -> (left, top), worked out by hand from round((W - w) / 2.0):
  // 18/2 = 9; 5/2 = 2.5 -> 2; 1/2 -> 0; 3/2 = 1.5 -> 2; 7/2 = 3.5 -> 4; 0.
  struct Case {
    int w, h, ch, cw, left, top;
  };
  for (const Case& c : std::vector<Case>{{50, 37, 32, 32, 9, 2},
                                         {24, 17, 16, 23, 0, 0},
                                         {300, 200, 197, 293, 4, 2},
                                         {9, 9, 9, 9, 0, 0},
                                         {299, 201, 200, 292, 4, 0},
                                         // a 500x375 photo after Resize(256) (docs/image_pipeline.md):
                                         // (341 - 224) / 2 = 58.5 -> 58, (256 - 224) / 2 = 16
                                         {341, 256, 224, 224, 58, 16}}) {
    INFO(c.w << "x" << c.h << " crop " << c.cw << "x" << c.ch);
    const RgbImage out = center_crop(coord_image(c.w, c.h), c.ch, c.cw);
    REQUIRE(out.width == c.cw);
    REQUIRE(out.height == c.ch);
    CHECK(where(out, 0, 0) == std::make_pair(c.left, c.top));
    CHECK(where(out, c.cw - 1, c.ch - 1) == std::make_pair(c.left + c.cw - 1, c.top + c.ch - 1));
  }
  // Random shapes against the formula.
  Generator gen(7);
  for (int t = 0; t < 200; ++t) {
    const int w = 1 + int(gen.below(300)), h = 1 + int(gen.below(300));
    const int cw = 1 + int(gen.below(w)), ch = 1 + int(gen.below(h));
    const RgbImage out = center_crop(coord_image(w, h), ch, cw);
    CHECK(where(out, 0, 0) == std::make_pair(int(std::nearbyint((w - cw) / 2.0)), int(std::nearbyint((h - ch) / 2.0))));
  }
  // Larger than the image: 31 columns into 40 pads 4 left, 5 right (torchvision: (40-31)//2
  // before, the rest after); 64 rows into 40 crops from round(24 / 2) = 12.
  const RgbImage src = coord_image(31, 64);
  const RgbImage out = center_crop(src, 40, 40);
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 40; ++x) {
      const uint8_t* p = &out.pixels[(size_t(y) * 40 + x) * 3];
      if (x < 4 || x >= 35) {
        CHECK((p[0] == 0 && p[1] == 0 && p[2] == 0));
      } else {
        CHECK(where(out, x, y) == std::make_pair(x - 4, y + 12));
      }
    }
  CHECK_THROWS_AS(center_crop(src, 0, 5), ArgumentError);
}

TEST_CASE("random_resized_crop: torchvision's box, inside the image, seeded by the word") {
  for (auto [w, h] : std::vector<std::pair<int, int>>{{50, 37}, {300, 200}, {31, 64}, {1, 1}, {2, 97}}) {
    INFO(w << "x" << h);
    double min_area = 1, max_area = 0;
    for (uint64_t r = 0; r < 300; ++r) {
      Generator gen(r);
      const CropBox b = random_resized_crop_box(h, w, gen);
      REQUIRE(b.height >= 1);
      REQUIRE(b.width >= 1);
      REQUIRE(b.top >= 0);
      REQUIRE(b.left >= 0);
      REQUIRE(b.top + b.height <= h);
      REQUIRE(b.left + b.width <= w);
      const double frac = double(b.height) * b.width / (double(h) * w);
      min_area = std::min(min_area, frac);
      max_area = std::max(max_area, frac);
    }
    if (w >= 31 && h >= 31) {  // the draws spread over the scale range (31x64: at most 31x41)
      CHECK(min_area < 0.2);
      CHECK(max_area > 0.6);
    }
  }
  // A box that fits keeps its aspect ratio within [3/4, 4/3] up to the rounding to pixels.
  for (uint64_t r = 0; r < 300; ++r) {
    Generator gen(r);
    const CropBox b = random_resized_crop_box(200, 300, gen);
    const double ratio = double(b.width) / b.height;
    CHECK(ratio >= 0.75 * (1 - 2.0 / b.height));
    CHECK(ratio <= 4.0 / 3.0 * (1 + 2.0 / b.height));
  }
  // No try fits with an area of twice the image: torchvision's fallback, a central crop at the
  // clamped ratio (300x200 is 1.5 > 4/3: h 200, w round(266.67) = 267, left (300-267)//2 = 16;
  // 31x64 is 0.48 < 3/4: w 31, h round(41.33) = 41, top (64-41)//2 = 11; 40x40: the whole).
  Generator g(1);
  auto box = [&](int h, int w) {
    const CropBox b = random_resized_crop_box(h, w, g, {2.0, 2.0});
    return std::vector<int>{b.top, b.left, b.height, b.width};
  };
  CHECK(box(200, 300) == std::vector<int>{0, 16, 200, 267});
  CHECK(box(64, 31) == std::vector<int>{11, 0, 41, 31});
  CHECK(box(37, 50) == std::vector<int>{0, 0, 37, 49});
  CHECK(box(40, 40) == std::vector<int>{0, 0, 40, 40});

  // The image: that box, resized; the same word gives the same pixels, other words others.
  const RgbImage img = noise_image(300, 200, 5);
  const RgbImage a = random_resized_crop(img, 24, 20, uint64_t(42));
  CHECK(a.width == 20);
  CHECK(a.height == 24);
  Generator gen(42);
  CHECK(a.pixels == resize_antialiased(crop(img, random_resized_crop_box(200, 300, gen)), 20, 24).pixels);
  CHECK(random_resized_crop(img, 24, 20, uint64_t(42)).pixels == a.pixels);
  int differ = 0;
  for (uint64_t r = 43; r < 63; ++r) differ += random_resized_crop(img, 24, 20, r).pixels != a.pixels;
  CHECK(differ == 20);
  CHECK_THROWS_AS(random_resized_crop(img, 24, 20, uint64_t(1), {0.5, 0.1}), ArgumentError);
  CHECK_THROWS_AS(random_resized_crop(img, 24, 20, uint64_t(1), {0.08, 1.0}, {0.0, 1.0}), ArgumentError);
  CHECK_THROWS_AS(crop(img, {190, 0, 20, 10}), ArgumentError);
}

TEST_CASE("horizontal flip and normalisation on known pixels") {
  const RgbImage img = coord_image(7, 3);
  const RgbImage f = horizontal_flip(img);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 7; ++x) CHECK(where(f, x, y) == std::make_pair(6 - x, y));
  CHECK(horizontal_flip(f).pixels == img.pixels);

  RgbImage two;
  two.width = 2;
  two.height = 1;
  two.pixels = {0, 128, 255, 51, 102, 204};
  std::vector<float> out(6);
  to_chw_normalized(two, kImageNetMean, kImageNetStd, out.data());
  // CHW: R of both pixels, then G, then B. (0/255 - 0.485) / 0.229 = -2.1179...
  CHECK(out[0] == Approx(-2.117904f).epsilon(1e-6));
  CHECK(out[1] == Approx((51 / 255.0 - 0.485) / 0.229).epsilon(1e-6));
  CHECK(out[2] == Approx((128 / 255.0 - 0.456) / 0.224).epsilon(1e-6));
  CHECK(out[3] == Approx((102 / 255.0 - 0.456) / 0.224).epsilon(1e-6));
  CHECK(out[4] == Approx((1.0 - 0.406) / 0.225).epsilon(1e-6));
  CHECK(out[5] == Approx((204 / 255.0 - 0.406) / 0.225).epsilon(1e-6));
}

TEST_CASE("ImageTransform: the eval and train pipelines") {
  const RgbImage img = noise_image(300, 200, 9);
  const ImageTransform eval = eval_transform(36, 32);
  REQUIRE(eval.output_floats() == 3 * 32 * 32);
  std::vector<float> got(eval.output_floats()), want(eval.output_floats());
  eval.apply(img, 123, got.data());
  to_chw_normalized(center_crop(resize_shorter(img, 36), 32, 32), kImageNetMean, kImageNetStd, want.data());
  CHECK(got == want);
  std::vector<float> again(got.size());
  eval.apply(img, 456, again.data());  // no randomness in eval
  CHECK(again == got);
  CHECK(eval.str() == "Resize(36) CenterCrop(32) Normalize(mean (0.485, 0.456, 0.406) std (0.229, 0.224, 0.225))");

  ImageTransform train = train_transform(32);
  std::set<std::vector<float>> distinct;
  int flipped = 0;
  for (uint64_t r = 0; r < 40; ++r) {
    train.apply(img, r, got.data());
    distinct.insert(got);
    train.apply(img, r, again.data());
    CHECK(again == got);
    // The flip comes after the crop from the same generator: redo the crop, compare.
    Generator gen(r);
    const RgbImage c = random_resized_crop(img, 32, 32, gen);  // resize_antialiased
    const bool flip = gen.next_u64() >> 63;
    to_chw_normalized(flip ? horizontal_flip(c) : c, kImageNetMean, kImageNetStd, want.data());
    CHECK(got == want);
    flipped += flip;
  }
  CHECK(distinct.size() == 40);
  CHECK(flipped > 5);
  CHECK(flipped < 35);
  train.flip = false;
  train.apply(img, 3, got.data());
  to_chw_normalized(random_resized_crop(img, 32, 32, uint64_t(3)), kImageNetMean, kImageNetStd, want.data());
  CHECK(got == want);

  // Smaller than the crop, no resize: zero-padded, as CenterCrop pads.
  ImageTransform small = eval_transform(0, 40);
  std::vector<float> padded(small.output_floats());
  small.apply(noise_image(31, 64, 1), 0, padded.data());
  CHECK(padded[0] == Approx(-0.485f / 0.229f));

  CHECK_THROWS_WITH(eval_transform(256, 0), Catch::Contains("eval_transform") && Catch::Contains("crop"));
  ImageTransform bad = eval_transform();
  bad.std[1] = 0;
  CHECK_THROWS_WITH(bad.check("mine"), Catch::Contains("mine") && Catch::Contains("channel 1"));
  bad = train_transform();
  bad.scale = {0.9, 0.1};
  CHECK_THROWS_WITH(bad.apply(img, 0, got.data()), Catch::Contains("scale"));
}

TEST_CASE("golden: CenterCrop + Normalize and Resize against torchvision") {
  const std::string dir = DLCRAFT_GOLDEN_DIR;
  const RgbImage img = read_image(dir + "/image_pipeline.png");
  REQUIRE(img.width == 23);
  REQUIRE(img.height == 17);
  const SafeTensors st = load_safetensors(dir + "/image_pipeline.safetensors");
  INFO("made with torchvision " << st.metadata.at("torchvision_version"));
  int crops = 0, resizes = 0, decodes = 0, evals = 0;
  for (const auto& c : nlohmann::json::parse(st.metadata.at("cases"))) {
    const std::string name = c.at("name"), op = c.at("op");
    INFO("case " << name);
    const Tensor& ref = st.tensors.at(name);
    if (op == "center_crop_normalize") {
      const int h = c["params"]["height"], w = c["params"]["width"];
      std::vector<float> got(size_t(3) * h * w);
      to_chw_normalized(center_crop(img, h, w), kImageNetMean, kImageNetStd, got.data());
      REQUIRE(ref.shape() == Shape{3, h, w});
      const std::vector<float> want = ref.to_vector();
      float worst = 0;
      for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
      CHECK(worst <= 1e-6f);  // the same float32 steps: equal but for vectorised rounding
      ++crops;
    } else if (op == "resize_shorter" || op == "resized_crop") {
      // resize_antialiased: Pillow's bytes. resize_bilinear (the CIFAR path's resize), for the
      // record: close when enlarging (both bilinear, pixel centres aligned), not when shrinking.
      const int size = op == "resize_shorter" ? int(c["params"]["size"]) : 0;
      RgbImage src = img;
      int w = 0, h = 0;
      if (op == "resized_crop") {
        const auto& p = c["params"];
        src = crop(img, {p["top"], p["left"], p["box_height"], p["box_width"]});
        w = p["width"];
        h = p["height"];
      }
      const RgbImage ours = size ? resize_shorter(src, size) : resize_antialiased(src, w, h);
      const RgbImage area = size ? resize_shorter(src, size, false) : resize_bilinear(src, w, h);
      REQUIRE(ref.shape() == Shape{3, ours.height, ours.width});
      const std::vector<float> pil = ref.to_vector();
      const size_t plane = size_t(ours.width) * ours.height;
      double worst = 0, sum_area = 0, worst_area = 0;
      for (size_t p = 0; p < plane; ++p)
        for (int ch = 0; ch < 3; ++ch) {
          worst = std::max(worst, std::fabs(double(ours.pixels[p * 3 + ch]) - pil[ch * plane + p]));
          const double d = std::fabs(double(area.pixels[p * 3 + ch]) - pil[ch * plane + p]);
          sum_area += d;
          worst_area = std::max(worst_area, d);
        }
      CHECK(worst == 0);
      const double mean_area = sum_area / (plane * 3);
      WARN(name << " " << src.width << "x" << src.height << " -> " << ours.width << "x" << ours.height
                << ": resize_bilinear vs Pillow mean |diff| " << mean_area << ", max " << worst_area);
      if (ours.width >= src.width && ours.height >= src.height) CHECK(worst_area <= 3);
      ++resizes;
    } else if (op == "decode") {
      // Pillow and we both decode with libjpeg-turbo's defaults (integer IDCT, fancy upsampling).
      const RgbImage jpg = read_image(dir + "/" + std::string(c["params"]["file"]));
      REQUIRE(ref.shape() == Shape{3, jpg.height, jpg.width});
      const std::vector<float> pil = ref.to_vector();
      const size_t plane = size_t(jpg.width) * jpg.height;
      int differ = 0;
      for (size_t p = 0; p < plane; ++p)
        for (int ch = 0; ch < 3; ++ch) differ += jpg.pixels[p * 3 + ch] != pil[ch * plane + p];
      CHECK(differ == 0);
      ++decodes;
    } else if (op == "eval_transform") {
      // The whole way from file to tensor, as torchvision.
      const auto& p = c["params"];
      const ImageTransform t = eval_transform(p["resize"], p["crop"]);
      const Tensor got = load_image_tensor(dir + "/" + std::string(p["file"]), t);
      REQUIRE(got.shape() == Shape{1, 3, t.crop, t.crop});
      const std::vector<float> a = got.to_vector(), b = ref.to_vector();
      float worst = 0;
      for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
      CHECK(worst <= 1e-6f);
      ++evals;
    } else if (op == "resize_sizes") {
      const std::vector<int64_t> rows = ref.values_as<int64_t>();
      for (size_t r = 0; r + 5 <= rows.size(); r += 5) {
        INFO(rows[r] << "x" << rows[r + 1] << " Resize(" << rows[r + 2] << ")");
        const RgbImage out = resize_shorter(noise_image(int(rows[r]), int(rows[r + 1]), 0), int(rows[r + 2]));
        CHECK(out.width == rows[r + 3]);
        CHECK(out.height == rows[r + 4]);
      }
    } else {
      FAIL_CHECK("no mapping for op " << op);
    }
  }
  CHECK(crops == 7);
  CHECK(resizes == 8);
  CHECK(decodes == 1);
  CHECK(evals == 2);
}

// ------------------------------------------------------------------ the data set

TEST_CASE("scan_image_files: sorted classes, ImageFolder's file order, other files ignored") {
  const std::string root = fresh_dir("scan");
  for (const char* cls : {"b_dogs", "a_cats", "C_birds", "b_dogs/sub", "b_dogs/sub/deeper"})
    fs::create_directories(root + "/" + cls);
  const RgbImage img = noise_image(5, 4, 1);
  for (const char* f : {"b_dogs/2.png", "b_dogs/10.PNG", "b_dogs/sub/0.png", "b_dogs/sub/deeper/a.png",
                        "a_cats/z.png", "a_cats/a.png", "C_birds/k.png"})
    write_png(root + "/" + f, img);
  write_jpeg(root + "/b_dogs/1.jpg", img);
  write_jpeg(root + "/a_cats/m.JPEG", img);
  touch(root + "/b_dogs/notes.txt");
  touch(root + "/b_dogs/x.bmp");
  touch(root + "/b_dogs/noext");
  touch(root + "/README");  // a file in the root is not a class
  const ImageFileDataset ds = scan_image_files(root);
  CHECK(ds.classes == std::vector<std::string>{"C_birds", "a_cats", "b_dogs"});  // byte order, as Python sorts
  std::vector<std::string> rel;
  for (const std::string& p : ds.paths) rel.push_back(fs::relative(p, root).string());
  // As torchvision's ImageFolder: per class, sorted(os.walk(...)) folder by folder, files by name.
  CHECK(rel == std::vector<std::string>{"C_birds/k.png", "a_cats/a.png", "a_cats/m.JPEG", "a_cats/z.png",
                                        "b_dogs/1.jpg", "b_dogs/10.PNG", "b_dogs/2.png", "b_dogs/sub/0.png",
                                        "b_dogs/sub/deeper/a.png"});
  CHECK(ds.labels == std::vector<int32_t>{0, 1, 1, 1, 2, 2, 2, 2, 2});
  CHECK(ds.class_counts() == std::vector<int64_t>{1, 3, 5});
  REQUIRE(ds.unsupported.size() == 1);
  CHECK(fs::path(ds.unsupported[0]).filename() == "x.bmp");
  CHECK(ds.read(1).width == 5);  // decoded on demand
  CHECK_THROWS_AS(ds.read(9), ArgumentError);
  const ImageFileDataset sub = ds.subset({8, 0});
  CHECK(sub.labels == std::vector<int32_t>{2, 0});
  CHECK(sub.classes == ds.classes);
  CHECK_THROWS_AS(ds.subset({9}), ArgumentError);
}

TEST_CASE("scan_image_files: errors name the root or the empty class") {
  const std::string root = fresh_dir("scan_bad");
  CHECK_THROWS_WITH(scan_image_files(root + "/missing"), Catch::Contains(root + "/missing"));
  CHECK_THROWS_AS(scan_image_files(root + "/missing"), IOError);
  touch(root + "/lonely.png");
  CHECK_THROWS_WITH(scan_image_files(root), Catch::Contains(root) && Catch::Contains("no class folders"));
  fs::create_directories(root + "/cats");
  fs::create_directories(root + "/dogs");
  touch(root + "/cats/readme.txt");
  CHECK_THROWS_WITH(scan_image_files(root), Catch::Contains(root) && Catch::Contains("no .png/.jpg/.jpeg images"));
  write_png(root + "/cats/a.png", noise_image(3, 3, 1));
  try {
    scan_image_files(root);
    FAIL("an empty class folder was accepted");
  } catch (const IOError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains(root + "/dogs") && !Catch::Contains("/cats"));
  }
}

TEST_CASE("split_image_files: train/val folders, or a seeded split by class") {
  const std::string root = fresh_dir("split");
  const RgbImage img = noise_image(4, 4, 1);
  // A tree without split folders: classes of 8, 2 and 1 images.
  const std::string flat = root + "/flat";
  for (auto [cls, n] : std::vector<std::pair<std::string, int>>{{"a", 8}, {"b", 2}, {"c", 1}}) {
    fs::create_directories(flat + "/" + cls);
    for (int i = 0; i < n; ++i) write_png(flat + "/" + cls + "/" + std::to_string(i) + ".png", img);
  }
  const ImageFileSplit s = split_image_files(flat, 0.25, 7);
  CHECK(s.layout == "random");
  CHECK(s.val.class_counts() == std::vector<int64_t>{2, 1, 0});  // round(2), at least 1, a single image trains
  CHECK(s.train.class_counts() == std::vector<int64_t>{6, 1, 1});
  std::vector<std::string> all = s.train.paths;
  all.insert(all.end(), s.val.paths.begin(), s.val.paths.end());
  std::sort(all.begin(), all.end());
  std::vector<std::string> scanned = scan_image_files(flat).paths;
  std::sort(scanned.begin(), scanned.end());
  CHECK(all == scanned);  // every image in exactly one part
  CHECK(std::is_sorted(s.train.paths.begin(), s.train.paths.end()));  // the scan's order kept
  CHECK(split_image_files(flat, 0.25, 7).val.paths == s.val.paths);
  bool other = false;
  for (uint64_t seed = 8; seed < 12; ++seed) other |= split_image_files(flat, 0.25, seed).val.paths != s.val.paths;
  CHECK(other);
  CHECK_THROWS_AS(split_image_files(flat, 0.0, 1), ArgumentError);
  CHECK_THROWS_AS(split_image_files(flat, 1.0, 1), ArgumentError);

  // train/ + val/ (or test/): used as they are.
  const std::string tree = root + "/tree";
  for (const char* d : {"train/a", "train/b", "val/a", "val/b", "test/a"}) {
    fs::create_directories(tree + "/" + d);
    write_png(tree + "/" + d + "/x.png", img);
  }
  ImageFileSplit f = split_image_files(tree);
  CHECK(f.layout == "folders");
  CHECK(f.train.size() == 2);
  CHECK(f.val.size() == 2);  // val/ preferred over test/
  CHECK(fs::path(f.val.root).filename() == "val");
  fs::remove_all(tree + "/val");
  // test/ has class a only: an error naming both folders and the difference.
  CHECK_THROWS_WITH(split_image_files(tree), Catch::Contains(tree + "/train") && Catch::Contains(tree + "/test") &&
                                                 Catch::Contains("only in train: b"));
  fs::create_directories(tree + "/test/b");
  write_png(tree + "/test/b/y.png", img);
  CHECK(split_image_files(tree).val.size() == 2);
  fs::remove_all(tree + "/test");
  CHECK_THROWS_WITH(split_image_files(tree), Catch::Contains("train/ but no val/ or test/"));
}

// ------------------------------------------------------------------ the loader

TEST_CASE("ImageBatchLoader: every image once per epoch, labels with their images, shapes") {
  const ImageFileDataset ds = one_per_class("loader");
  REQUIRE(ds.size() == 13);
  ImageLoaderOptions opt;
  opt.batch_size = 4;
  opt.transform = eval_transform(28, 24);
  opt.threads = 3;
  opt.seed = 5;
  ImageBatchLoader loader(ds, opt);
  CHECK(loader.batches_per_epoch() == 4);
  Tensor images;
  std::vector<int32_t> labels;
  CHECK_FALSE(loader.next_batch(Device::cpu(), images, labels));  // before start_epoch

  const Epoch e0 = run_epoch(loader, 0);
  REQUIRE(e0.shapes.size() == 4);
  CHECK(e0.shapes[0] == Shape{4, 3, 24, 24});
  CHECK(e0.shapes[3] == Shape{1, 3, 24, 24});
  std::vector<int32_t> sorted = e0.labels;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int32_t> all(13);
  std::iota(all.begin(), all.end(), 0);
  CHECK(sorted == all);  // each image exactly once
  CHECK(e0.labels != all);  // shuffled
  // Each image is the file its label names, through the eval transform.
  for (size_t b = 0, k = 0; b < e0.images.size(); ++b)
    for (int64_t i = 0; i < e0.shapes[b][0]; ++i, ++k) {
      const std::vector<float> want = floats(load_image_tensor(ds.paths[e0.labels[k]], opt.transform));
      CHECK(std::equal(want.begin(), want.end(), e0.images[b].begin() + i * 3 * 24 * 24));
    }
  const Epoch e1 = run_epoch(loader, 1);
  CHECK(e1.labels != e0.labels);  // another order each epoch
  std::vector<int32_t> sorted1 = e1.labels;
  std::sort(sorted1.begin(), sorted1.end());
  CHECK(sorted1 == all);
  CHECK(run_epoch(loader, 0).labels == e0.labels);  // and the same order again for epoch 0

  opt.shuffle = false;
  ImageBatchLoader in_order(ds, opt);
  CHECK(run_epoch(in_order, 3).labels == all);
}

TEST_CASE("ImageBatchLoader: the same seed gives the same batches, whatever the thread count") {
  const ImageFileDataset ds = one_per_class("loader_seed");
  ImageLoaderOptions opt;
  opt.batch_size = 5;
  opt.transform = train_transform(20);
  opt.seed = 11;
  opt.threads = 1;
  ImageBatchLoader one(ds, opt);
  opt.threads = 4;
  opt.prefetch = 0;
  ImageBatchLoader four(ds, opt);
  CHECK(four.threads() == 4);
  const Epoch a = run_epoch(one, 2), b = run_epoch(four, 2);
  CHECK(a.labels == b.labels);
  CHECK(a.images == b.images);
  // Another epoch: another order and other crops; another seed: other batches.
  CHECK(run_epoch(one, 3).images != a.images);
  opt.seed = 12;
  ImageBatchLoader other(ds, opt);
  CHECK(run_epoch(other, 2).images != a.images);
}

TEST_CASE("ImageBatchLoader: a broken file mid-epoch is an IOError naming it") {
  const std::string root = fresh_dir("loader_broken");
  ImageFileDataset ds;
  ds.root = root;
  ds.classes = {"x"};
  const RgbImage img = noise_image(30, 20, 3);
  for (int i = 0; i < 7; ++i) {
    const std::string p = root + "/" + std::to_string(i) + ".png";
    write_png(p, img);
    ds.paths.push_back(p);
    ds.labels.push_back(0);
  }
  // Position 5 is garbage, position 6 a truncated JPEG: the first in order is named.
  write_bytes(ds.paths[5], Bytes{'n', 'o', 't', ' ', 'p', 'n', 'g'});
  Bytes jpeg = encode_jpeg(30, 20, 3, img.pixels, 90, false);
  ds.paths[6] = root + "/6.jpg";
  write_bytes(ds.paths[6], Bytes(jpeg.begin(), jpeg.begin() + jpeg.size() / 2));
  ImageLoaderOptions opt;
  opt.batch_size = 2;
  opt.shuffle = false;
  opt.transform = eval_transform(20, 16);
  opt.threads = 3;
  ImageBatchLoader loader(ds, opt);
  loader.start_epoch(0);
  Tensor images;
  std::vector<int32_t> labels;
  CHECK(loader.next_batch(Device::cpu(), images, labels));  // 0, 1
  CHECK(loader.next_batch(Device::cpu(), images, labels));  // 2, 3
  CHECK_THROWS_AS(loader.next_batch(Device::cpu(), images, labels), IOError);  // 4, 5
  CHECK_THROWS_WITH(loader.next_batch(Device::cpu(), images, labels), Catch::Contains(ds.paths[5]));  // again
  // Without the garbage file the truncated JPEG is named.
  write_png(ds.paths[5], img);
  loader.start_epoch(1);
  for (int b = 0; b < 3; ++b) CHECK(loader.next_batch(Device::cpu(), images, labels));
  CHECK_THROWS_WITH(loader.next_batch(Device::cpu(), images, labels), Catch::Contains(ds.paths[6]));
  // A file deleted after the scan.
  fs::remove(ds.paths[0]);
  loader.start_epoch(2);
  CHECK_THROWS_WITH(loader.next_batch(Device::cpu(), images, labels), Catch::Contains(ds.paths[0]));
  // load_image_batch names the first bad file in the order given.
  CHECK_THROWS_WITH(load_image_batch({ds.paths[1], ds.paths[6], ds.paths[0]}, opt.transform),
                    Catch::Contains(ds.paths[6]));
}

TEST_CASE("ImageBatchLoader: destruction mid-epoch joins the worker") {
  ImageFileDataset ds = one_per_class("loader_stop");
  std::vector<int64_t> many;
  for (int r = 0; r < 8; ++r)
    for (int64_t i = 0; i < ds.size(); ++i) many.push_back(i);
  ds = ds.subset(many);  // 104 images
  for (int prefetch : {0, 1, 3}) {
    ImageLoaderOptions opt;
    opt.batch_size = 3;
    opt.prefetch = prefetch;
    opt.threads = 2;
    opt.transform = train_transform(16);
    {
      ImageBatchLoader loader(ds, opt);
      loader.start_epoch(0);  // destroyed while the worker decodes or waits for a slot
    }
    {
      ImageBatchLoader loader(ds, opt);
      loader.start_epoch(0);
      REQUIRE(loader.next() != nullptr);  // a batch held by the caller
      REQUIRE(loader.next() != nullptr);
    }
    {
      ImageBatchLoader loader(ds, opt);
      loader.start_epoch(0);
      loader.next();
      loader.start_epoch(1);  // a new epoch stops the old one
      int64_t n = 0;
      while (const Batch* b = loader.next()) n += b->size;
      CHECK(n == 104);
    }
  }
}

TEST_CASE("ImageBatchLoader and load_image_batch: bad options and shapes") {
  const ImageFileDataset ds = one_per_class("loader_opts");
  ImageLoaderOptions opt;
  opt.batch_size = 0;
  CHECK_THROWS_WITH(ImageBatchLoader(ds, opt), Catch::Contains("ImageBatchLoader") && Catch::Contains("batch size"));
  opt.batch_size = 2;
  opt.threads = -1;
  CHECK_THROWS_AS(ImageBatchLoader(ds, opt), ArgumentError);
  opt.threads = 0;
  opt.transform.crop = 0;
  CHECK_THROWS_WITH(ImageBatchLoader(ds, opt), Catch::Contains("crop"));
  opt.transform = eval_transform();
  CHECK_THROWS_WITH(ImageBatchLoader(ImageFileDataset{}, opt), Catch::Contains("empty"));

  const Tensor one = load_image_tensor(ds.paths[1], eval_transform(40, 32));
  CHECK(one.shape() == Shape{1, 3, 32, 32});
  const Tensor many = load_image_batch({ds.paths[2], ds.paths[1], ds.paths[0]}, eval_transform(40, 32));
  REQUIRE(many.shape() == Shape{3, 3, 32, 32});
  const std::vector<float> a = floats(one), b = floats(many);
  CHECK(std::equal(a.begin(), a.end(), b.begin() + 3 * 32 * 32));
  // The grayscale PNG (c02) has three equal channels before normalisation.
  const std::vector<float> g = floats(load_image_tensor(ds.paths[2], eval_transform(40, 32)));
  CHECK(g[5] * kImageNetStd[0] + kImageNetMean[0] == Approx(g[1024 + 5] * kImageNetStd[1] + kImageNetMean[1]));
  CHECK_THROWS_AS(load_image_batch({}), ArgumentError);
}

// Not run by ctest: `test_image_pipeline "[.bench]"` prints the loader's images/s on photo-sized
// JPEGs (500x375, ImageNet's typical size) for 1 and 2..N decoding threads.
TEST_CASE("ImageBatchLoader throughput", "[.bench]") {
  const std::string root = fresh_dir("bench");
  fs::create_directories(root + "/a");
  RgbImage photo = coord_image(500, 375);  // smooth gradients with a little noise: JPEG-friendly
  Generator gen(1);
  for (uint8_t& v : photo.pixels) v = uint8_t(std::min(255, v / 2 + int(gen.below(16))));
  const Bytes jpeg = encode_jpeg(photo.width, photo.height, 3, photo.pixels, 90, false);
  for (int i = 0; i < 96; ++i) write_bytes(root + "/a/" + std::to_string(i) + ".jpg", jpeg);
  const ImageFileDataset ds = scan_image_files(root);
  for (const ImageTransform& t : {eval_transform(), train_transform()})
    for (int threads : {1, 2, num_threads()}) {
      ImageLoaderOptions opt;
      opt.batch_size = 32;
      opt.transform = t;
      opt.threads = threads;
      ImageBatchLoader loader(ds, opt);
      run_epoch(loader, 0);  // warm-up: page cache, allocations
      const auto start = std::chrono::steady_clock::now();
      run_epoch(loader, 1);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      WARN(t.str().substr(0, 40) << "... threads " << threads << ": " << int(ds.size() / s) << " images/s ("
                                 << jpeg.size() / 1024 << " KiB JPEGs, 500x375)");
    }
}
