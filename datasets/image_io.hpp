// Decoding PNG (libpng) and JPEG (libjpeg-turbo) images and resizing, for the image-folder
// reader and predict. Files are untrusted: every failure is an IOError naming the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dlcraft {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // height * width * 3, interleaved RGB (HWC), rows top to bottom
};

// The most pixels an image may have: 8192 x 8192, a 192 MiB RGB buffer. Checked from the header
// before anything is decoded, so a tiny file cannot claim gigabytes.
constexpr int64_t kMaxImagePixels = int64_t(8192) * 8192;

// PNG or JPEG (told apart by their first bytes, not the name) -> 8-bit RGB. Grayscale, palette,
// 16-bit and alpha PNGs and grayscale JPEGs are converted (alpha is dropped, as PIL's
// convert("RGB")). IOError naming `name` for any other format, a corrupt or truncated image, a
// width or height of 0 or more than kMaxImagePixels pixels; OutOfMemoryError when memory runs out.
RgbImage decode_image(const uint8_t* data, size_t size, const std::string& name);
// The file read into memory, then decode_image. IOError naming the file when it is missing or
// not a regular file too.
RgbImage read_image(const std::string& path);
// Resize: area averaging when shrinking both sides, bilinear (pixel centres aligned) otherwise.
RgbImage resize_bilinear(const RgbImage& src, int width, int height);
// HWC interleaved -> CHW planes (the tensor layout), same uint8 values.
void hwc_to_chw(const RgbImage& img, uint8_t* chw);

}  // namespace dlcraft
