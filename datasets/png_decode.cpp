// PNG -> 8-bit RGB with libpng, from memory.
// libpng reports an error by calling our error function, which must not return: it copies the
// message and longjmps back into read_png(), whose caller throws. The jump crosses only libpng's
// C frames and read_png() itself, which owns nothing with a destructor (its state lives in the
// caller's PngState), so no C++ object is skipped.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "datasets/image_decoders.hpp"

namespace dlcraft {
namespace {

struct PngState {
  const uint8_t* data = nullptr;
  size_t size = 0, pos = 0;
  char message[256] = "";
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::vector<png_bytep> rows;
  ~PngState() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

void error_to_jump(png_structp png, png_const_charp msg) {
  auto* s = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof s->message, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

// Warnings (a bad ancillary chunk, an odd sRGB profile) do not stop decoding; stay quiet.
void ignore_warning(png_structp, png_const_charp) {}

void read_from_memory(png_structp png, png_bytep out, size_t length) {
  auto* s = static_cast<PngState*>(png_get_io_ptr(png));
  if (length > s->size - s->pos) png_error(png, "file is truncated");
  std::memcpy(out, s->data + s->pos, length);
  s->pos += length;
}

// False (with s.message) when libpng reports an error; throws IOError for a bad size.
bool read_png(PngState& s, RgbImage& img, const std::string& name) {
  if (setjmp(png_jmpbuf(s.png))) return false;
  png_set_read_fn(s.png, &s, read_from_memory);
  png_read_info(s.png, s.info);
  const png_uint_32 width = png_get_image_width(s.png, s.info), height = png_get_image_height(s.png, s.info);
  check_image_size(width, height, name);  // before any pixel buffer exists
  png_set_expand(s.png);       // palette -> RGB, gray below 8 bits -> 8 bits, tRNS -> alpha
  png_set_scale_16(s.png);     // 16 bits -> 8, rounded
  png_set_strip_alpha(s.png);  // alpha dropped, as PIL's convert("RGB")
  png_set_gray_to_rgb(s.png);
  png_set_interlace_handling(s.png);
  png_read_update_info(s.png, s.info);
  if (png_get_rowbytes(s.png, s.info) != size_t(width) * 3) png_error(s.png, "cannot convert to 8-bit RGB");
  img.width = int(width);
  img.height = int(height);
  img.pixels.resize(size_t(width) * height * 3);
  s.rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) s.rows[y] = img.pixels.data() + size_t(y) * width * 3;
  png_read_image(s.png, s.rows.data());
  return true;  // what follows the pixels (IEND, text chunks) is not read: it cannot change them
}

}  // namespace

RgbImage decode_png(const uint8_t* data, size_t size, const std::string& name) {
  PngState s;
  s.data = data;
  s.size = size;
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, error_to_jump, ignore_warning);
  if (s.png) s.info = png_create_info_struct(s.png);
  if (!s.png || !s.info) throw OutOfMemoryError(name + ": out of memory starting libpng");
  RgbImage img;
  if (!read_png(s, img, name)) throw IOError(name + ": corrupt PNG (" + s.message + ")");
  return img;
}

}  // namespace dlcraft
