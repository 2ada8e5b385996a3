// ImageNet-style transforms on decoded images of any size (RgbImage, datasets/image_io.hpp),
// each the torchvision transform of the same name: Resize(int), CenterCrop, RandomResizedCrop,
// RandomHorizontalFlip, ToTensor + Normalize. ImageTransform strings them into the two
// pipelines pretrained models use (eval_transform / train_transform). Randomness comes from a
// 64-bit word the caller derives from (seed, epoch, position), so results never depend on
// threads. See docs/image_pipeline.md.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "core/random.hpp"
#include "datasets/image_io.hpp"

namespace dlcraft {

// The mean and standard deviation of ImageNet's training pixels (scaled to 0..1), per RGB
// channel: what torchvision's pretrained weights were trained with.
constexpr std::array<float, 3> kImageNetMean{0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kImageNetStd{0.229f, 0.224f, 0.225f};

// PIL's bilinear resize with antialiasing, which torchvision applies to PIL images (Resize,
// RandomResizedCrop): a separable triangle filter whose support widens with the shrink factor,
// so every source pixel counts when shrinking; weights in 22-bit fixed point and a rounded
// 8-bit image between the horizontal and the vertical pass, as Pillow's, so the result is
// Pillow's to the byte. ArgumentError for a bad image or a size < 1.
RgbImage resize_antialiased(const RgbImage& src, int width, int height);

// torchvision Resize(size): the shorter side becomes `size`, the longer int(size * long / short)
// (truncated, as torchvision). `antialias`: resize_antialiased (Pillow's pixels); false:
// resize_bilinear (area averaging when shrinking, as the CIFAR path; see
// docs/image_pipeline.md for what differs). ArgumentError when size < 1 or the result would
// exceed kMaxImagePixels.
RgbImage resize_shorter(const RgbImage& img, int size, bool antialias = true);

// torchvision CenterCrop((height, width)): top = round((H - height) / 2), left likewise (round
// half to even, as Python's round). A side smaller than the crop is first zero-padded (black),
// (crop - side) / 2 before and the rest after, as torchvision pads. ArgumentError for a size < 1.
RgbImage center_crop(const RgbImage& img, int height, int width);

// A crop window in an image: rows top..top+height-1, columns left..left+width-1.
struct CropBox {
  int top = 0, left = 0, height = 0, width = 0;
};

// torchvision RandomResizedCrop.get_params: up to 10 tries of an area fraction uniform in
// `scale` and a log-uniform aspect ratio (width / height) in `ratio`, rounded to whole pixels
// (half to even); the first that fits is placed uniformly. When none fits: the largest central
// crop whose ratio is clamped into `ratio`. Always inside the image, at least 1x1.
// ArgumentError for scale or ratio not 0 < lo <= hi.
CropBox random_resized_crop_box(int image_height, int image_width, Generator& gen,
                                std::array<double, 2> scale = {0.08, 1.0},
                                std::array<double, 2> ratio = {3.0 / 4.0, 4.0 / 3.0});
// The box drawn from Generator(random), cut out and resized to height x width
// (resize_antialiased, as torchvision on PIL images).
RgbImage random_resized_crop(const RgbImage& img, int height, int width, uint64_t random,
                             std::array<double, 2> scale = {0.08, 1.0},
                             std::array<double, 2> ratio = {3.0 / 4.0, 4.0 / 3.0});
RgbImage random_resized_crop(const RgbImage& img, int height, int width, Generator& gen,
                             std::array<double, 2> scale = {0.08, 1.0},
                             std::array<double, 2> ratio = {3.0 / 4.0, 4.0 / 3.0});
// The window `box` of `img`, copied; ArgumentError when it does not lie inside the image.
RgbImage crop(const RgbImage& img, const CropBox& box);

// Mirror left-right.
RgbImage horizontal_flip(const RgbImage& img);

// ToTensor + Normalize: out[c][y][x] = (pixel / 255 - mean[c]) / std[c], in float32 as torch
// computes it; `out` holds 3 * height * width floats (CHW).
void to_chw_normalized(const RgbImage& img, const std::array<float, 3>& mean, const std::array<float, 3>& std,
                       float* out);

// A whole pipeline, file pixels -> the network's input (3 x crop x crop floats).
//   Eval:  Resize(resize) -> CenterCrop(crop) -> ToTensor -> Normalize(mean, std)
//          (resize 0: no resize, the crop is taken from the image as it is)
//   Train: RandomResizedCrop(crop, scale, ratio) -> RandomHorizontalFlip(0.5) if flip ->
//          ToTensor -> Normalize(mean, std)
struct ImageTransform {
  enum class Kind { Eval, Train };
  Kind kind = Kind::Eval;
  int resize = 256;  // Eval: shorter side before the crop
  int crop = 224;    // output height and width
  bool flip = true;  // Train: random horizontal flip
  bool antialias = true;  // resize_antialiased (Pillow's resize); false: resize_bilinear
  std::array<double, 2> scale{0.08, 1.0};              // Train: area fraction
  std::array<double, 2> ratio{3.0 / 4.0, 4.0 / 3.0};   // Train: aspect ratio
  std::array<float, 3> mean = kImageNetMean;
  std::array<float, 3> std = kImageNetStd;

  // 3 * crop * crop: the floats apply() writes.
  int64_t output_floats() const { return int64_t(3) * crop * crop; }
  // ArgumentError naming `who` and the bad field (crop < 1, resize < 0, std not > 0, scale or
  // ratio not 0 < lo <= hi, a NaN).
  void check(const std::string& who) const;
  // `img` -> out (output_floats() floats, CHW). Train draws its crop and flip from
  // Generator(random) alone; Eval ignores `random`.
  void apply(const RgbImage& img, uint64_t random, float* out) const;
  // "Resize(256) CenterCrop(224) Normalize(mean (0.485, 0.456, 0.406) std (0.229, 0.224, 0.225))"
  std::string str() const;
};

// Resize(resize) + CenterCrop(crop) + Normalize(ImageNet): evaluation and inference.
ImageTransform eval_transform(int resize = 256, int crop = 224);
// RandomResizedCrop(crop) + RandomHorizontalFlip + Normalize(ImageNet): training (데이터 증강).
ImageTransform train_transform(int crop = 224);

}  // namespace dlcraft
