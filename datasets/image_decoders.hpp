// The two decoders behind decode_image (datasets/image_io.hpp), one file each:
// datasets/png_decode.cpp (libpng) and datasets/jpeg_decode.cpp (libjpeg-turbo). Both turn the C
// libraries' error callbacks into IOError naming the image.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "datasets/image_io.hpp"

namespace dlcraft {

RgbImage decode_png(const uint8_t* data, size_t size, const std::string& name);
RgbImage decode_jpeg(const uint8_t* data, size_t size, const std::string& name);
// IOError naming the image unless 0 < width, 0 < height and width * height <= kMaxImagePixels.
void check_image_size(int64_t width, int64_t height, const std::string& name);

}  // namespace dlcraft
