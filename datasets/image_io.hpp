// Decoding PNG/JPEG files (stb_image) and resizing, for the image-folder reader and predict.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dlcraft {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // height * width * 3, interleaved RGB (HWC), rows top to bottom
};

// IOError naming the file when it is missing or not a readable image.
RgbImage read_image(const std::string& path);
// Resize: area averaging when shrinking both sides, bilinear (pixel centres aligned) otherwise.
RgbImage resize_bilinear(const RgbImage& src, int width, int height);
// HWC interleaved -> CHW planes (the tensor layout), same uint8 values.
void hwc_to_chw(const RgbImage& img, uint8_t* chw);

}  // namespace dlcraft
