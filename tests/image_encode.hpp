// Image files made in memory by the tests (libpng and libjpeg as encoders, independent of the
// decoders under test), and the byte surgery that turns them into broken files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dlcraft::test {

using Bytes = std::vector<uint8_t>;

struct PngSpec {
  int width = 1, height = 1;
  int color_type = 2;  // PNG_COLOR_TYPE_*: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
  int bit_depth = 8;
  bool interlaced = false;
  Bytes samples;      // rows of width * channels samples, each a byte (bit_depth <= 8) or
                      // two bytes big-endian (16); packed by the encoder for depths below 8
  Bytes palette;      // RGB triples, for color_type 3
  Bytes transparency; // tRNS alpha per palette entry, for color_type 3 (may be empty)
};
Bytes encode_png(const PngSpec& spec);

// `components` 3 (RGB, 4:4:4 so colours survive), 1 (gray) or 4 (CMYK); quality 1..100.
Bytes encode_jpeg(int width, int height, int components, const Bytes& pixels, int quality, bool progressive);

// A PNG chunk: length, type, data, CRC.
Bytes png_chunk(const std::string& type, const Bytes& data);
// Big-endian 32-bit value.
Bytes be32(uint32_t v);
// Position of the n-th (0-based) JPEG marker FF <code> at or after `from`; npos when absent.
size_t find_jpeg_marker(const Bytes& jpeg, uint8_t code, int n = 0, size_t from = 2);
// Position of the marker that ends the segment or scan starting at `pos` (skips FF00 and RSTn).
size_t next_jpeg_marker(const Bytes& jpeg, size_t pos);

void write_bytes(const std::string& path, const Bytes& bytes);

}  // namespace dlcraft::test
