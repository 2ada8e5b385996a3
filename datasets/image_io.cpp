#include "datasets/image_io.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <new>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "datasets/image_decoders.hpp"

namespace dlcraft {

namespace {
// Far more than a compressed 8192x8192 photo needs; a bigger file is refused before it is read.
constexpr uintmax_t kMaxImageFileBytes = uintmax_t(256) << 20;
}  // namespace

void check_image_size(int64_t width, int64_t height, const std::string& name) {
  if (width <= 0 || height <= 0 || width * height > kMaxImagePixels)
    throw IOError(name + ": image is " + std::to_string(width) + "x" + std::to_string(height) +
                  " pixels; a width and height of at least 1 and at most " + std::to_string(kMaxImagePixels) +
                  " pixels in all are read");
}

RgbImage decode_image(const uint8_t* data, size_t size, const std::string& name) {
  static const uint8_t kPngMagic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static const uint8_t kJpegMagic[3] = {0xff, 0xd8, 0xff};
  try {
    if (size >= sizeof kPngMagic && std::memcmp(data, kPngMagic, sizeof kPngMagic) == 0)
      return decode_png(data, size, name);
    if (size >= sizeof kJpegMagic && std::memcmp(data, kJpegMagic, sizeof kJpegMagic) == 0)
      return decode_jpeg(data, size, name);
  } catch (const std::bad_alloc&) {
    throw OutOfMemoryError(name + ": out of memory while decoding the image");
  }
  if (size == 0) throw IOError(name + ": empty file, not an image");
  throw IOError(name + ": unsupported image format (PNG and JPEG are read)");
}

RgbImage read_image(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) throw IOError(path + ": no such file");
  if (!std::filesystem::is_regular_file(status)) throw IOError(path + ": not a regular file, not an image");
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxImageFileBytes)
    throw IOError(path + ": " + std::to_string(size) + " bytes, more than the " +
                  std::to_string(kMaxImageFileBytes >> 20) + " MiB an image file may have");
  const std::vector<char> bytes = read_file_bytes(path);
  return decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
}

namespace {
// Shrinking: each output pixel is the mean of the source pixels whose centres fall inside it,
// so a large photo does not alias when brought down to 32x32.
RgbImage resize_area(const RgbImage& src, int width, int height) {
  RgbImage dst;
  dst.width = width;
  dst.height = height;
  dst.pixels.resize(size_t(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    int y0 = int(int64_t(y) * src.height / height), y1 = int(int64_t(y + 1) * src.height / height);
    for (int x = 0; x < width; ++x) {
      int x0 = int(int64_t(x) * src.width / width), x1 = int(int64_t(x + 1) * src.width / width);
      for (int c = 0; c < 3; ++c) {
        double acc = 0;
        for (int yy = y0; yy < y1; ++yy)
          for (int xx = x0; xx < x1; ++xx) acc += src.pixels[(size_t(yy) * src.width + xx) * 3 + c];
        dst.pixels[(size_t(y) * width + x) * 3 + c] = uint8_t(std::lround(acc / ((y1 - y0) * (x1 - x0))));
      }
    }
  }
  return dst;
}
}  // namespace

RgbImage resize_bilinear(const RgbImage& src, int width, int height) {
  if (src.width <= 0 || src.height <= 0 || src.pixels.size() != size_t(src.width) * src.height * 3 ||
      width <= 0 || height <= 0)
    throw ArgumentError("resize_bilinear: " + std::to_string(src.width) + "x" + std::to_string(src.height) +
                        " image (" + std::to_string(src.pixels.size()) + " bytes) to " + std::to_string(width) +
                        "x" + std::to_string(height));
  if (src.width == width && src.height == height) return src;
  if (src.width >= width && src.height >= height) return resize_area(src, width, height);
  RgbImage dst;
  dst.width = width;
  dst.height = height;
  dst.pixels.resize(size_t(width) * height * 3);
  const float sx = float(src.width) / width, sy = float(src.height) / height;
  for (int y = 0; y < height; ++y) {
    float fy = std::clamp((y + 0.5f) * sy - 0.5f, 0.0f, float(src.height - 1));
    int y0 = int(fy), y1 = std::min(y0 + 1, src.height - 1);
    float wy = fy - y0;
    for (int x = 0; x < width; ++x) {
      float fx = std::clamp((x + 0.5f) * sx - 0.5f, 0.0f, float(src.width - 1));
      int x0 = int(fx), x1 = std::min(x0 + 1, src.width - 1);
      float wx = fx - x0;
      for (int c = 0; c < 3; ++c) {
        auto at = [&](int yy, int xx) { return float(src.pixels[(size_t(yy) * src.width + xx) * 3 + c]); };
        float v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) +
                  wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
        dst.pixels[(size_t(y) * width + x) * 3 + c] = uint8_t(std::lround(std::clamp(v, 0.0f, 255.0f)));
      }
    }
  }
  return dst;
}

void hwc_to_chw(const RgbImage& img, uint8_t* chw) {
  const size_t plane = size_t(img.width) * img.height;
  for (size_t p = 0; p < plane; ++p)
    for (int c = 0; c < 3; ++c) chw[c * plane + p] = img.pixels[p * 3 + c];
}

}  // namespace dlcraft
