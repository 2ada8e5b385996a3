#include "datasets/image_io.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_FAILURE_USERMSG
#include <stb_image.h>

namespace dlcraft {

RgbImage read_image(const std::string& path) {
  int w = 0, h = 0, channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &w, &h, &channels, 3);  // force RGB
  if (!data) throw IOError(path + ": cannot read image (" + stbi_failure_reason() + ")");
  RgbImage img;
  img.width = w;
  img.height = h;
  img.pixels.assign(data, data + size_t(w) * h * 3);
  stbi_image_free(data);
  return img;
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
