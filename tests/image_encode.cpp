#include "image_encode.hpp"

#include <png.h>
#include <zlib.h>

#include <cstdio>  // before jpeglib.h
#include <csetjmp>
#include <fstream>
#include <stdexcept>

#include <jpeglib.h>

namespace dlcraft::test {

namespace {
void append_to_bytes(png_structp png, png_bytep data, size_t length) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}
void flush_nothing(png_structp) {}

// Packs rows of one-byte samples into the PNG row layout (several samples a byte below 8 bits).
Bytes pack_rows(const PngSpec& s, int channels) {
  if (s.bit_depth >= 8) return s.samples;
  const int per_byte = 8 / s.bit_depth;
  const size_t row_bytes = (size_t(s.width) * channels + per_byte - 1) / per_byte;
  Bytes out(row_bytes * s.height, 0);
  for (int y = 0; y < s.height; ++y)
    for (int x = 0; x < s.width * channels; ++x) {
      const int shift = 8 - s.bit_depth * (x % per_byte + 1);
      out[y * row_bytes + x / per_byte] |= uint8_t(s.samples[size_t(y) * s.width * channels + x] << shift);
    }
  return out;
}
}  // namespace

Bytes encode_png(const PngSpec& s) {
  const int channels = s.color_type == 0 || s.color_type == 3 ? 1 : s.color_type == 4 ? 2 : s.color_type == 2 ? 3 : 4;
  Bytes packed = pack_rows(s, channels);
  const size_t row_bytes = packed.size() / s.height;
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("encode_png failed");
  }
  png_set_write_fn(png, &out, append_to_bytes, flush_nothing);
  png_set_IHDR(png, info, s.width, s.height, s.bit_depth, s.color_type,
               s.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  std::vector<png_color> palette;
  for (size_t i = 0; i + 2 < s.palette.size(); i += 3) palette.push_back({s.palette[i], s.palette[i + 1], s.palette[i + 2]});
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), int(palette.size()));
  if (!s.transparency.empty())
    png_set_tRNS(png, info, s.transparency.data(), int(s.transparency.size()), nullptr);
  png_write_info(png, info);
  std::vector<png_bytep> rows(s.height);
  for (int y = 0; y < s.height; ++y) rows[y] = packed.data() + y * row_bytes;
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

Bytes encode_jpeg(int width, int height, int components, const Bytes& pixels, int quality, bool progressive) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);  // exits on error: the tests give it valid input only
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = components == 4 ? JCS_CMYK : components == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  for (int c = 0; c < cinfo.num_components; ++c) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels.data()) + size_t(cinfo.next_scanline) * width * components;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  free(buffer);
  return out;
}

Bytes be32(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }

Bytes png_chunk(const std::string& type, const Bytes& data) {
  Bytes out = be32(uint32_t(data.size()));
  out.insert(out.end(), type.begin(), type.end());
  out.insert(out.end(), data.begin(), data.end());
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(type.data()), 4);
  crc = crc32(crc, data.data(), uInt(data.size()));
  Bytes c = be32(uint32_t(crc));
  out.insert(out.end(), c.begin(), c.end());
  return out;
}

size_t find_jpeg_marker(const Bytes& jpeg, uint8_t code, int n, size_t from) {
  for (size_t i = from; i + 1 < jpeg.size(); ++i)
    if (jpeg[i] == 0xff && jpeg[i + 1] == code && n-- == 0) return i;
  return std::string::npos;
}

size_t next_jpeg_marker(const Bytes& jpeg, size_t pos) {
  for (size_t i = pos + 2; i + 1 < jpeg.size(); ++i)
    if (jpeg[i] == 0xff && jpeg[i + 1] != 0 && jpeg[i + 1] != 0xff && !(jpeg[i + 1] >= 0xd0 && jpeg[i + 1] <= 0xd7))
      return i;
  return jpeg.size();
}

void write_bytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

}  // namespace dlcraft::test
