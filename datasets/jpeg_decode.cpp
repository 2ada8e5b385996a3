// JPEG -> 8-bit RGB with libjpeg-turbo, from memory.
// libjpeg's default error handler calls exit(); ours copies the message and longjmps back into
// read_jpeg(), whose caller throws. The jump crosses only libjpeg's C frames and read_jpeg()
// itself, which owns nothing with a destructor (its state lives in the caller's JpegState).
// Warnings that mean the data is damaged (truncated file, bad Huffman code...) are errors too:
// libjpeg would fill the rest with grey and a training set would silently hold a broken image.
#include <cstdio>  // jpeglib.h needs FILE and size_t first

#include <jpeglib.h>
#include <jerror.h>  // after jpeglib.h: its list of codes depends on jconfig.h

#include <csetjmp>

#include "core/error.hpp"
#include "datasets/image_decoders.hpp"

namespace dlcraft {
namespace {

// A real progressive JPEG has about 10 scans; thousands of tiny ones only burn CPU.
constexpr int kMaxJpegScans = 1000;

struct JpegState {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr errors{};
  jpeg_progress_mgr progress{};
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = "";
  bool created = false;
  ~JpegState() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

JpegState* state_of(j_common_ptr cinfo) { return static_cast<JpegState*>(cinfo->client_data); }

[[noreturn]] void error_to_jump(j_common_ptr cinfo) {
  JpegState* s = state_of(cinfo);
  (*cinfo->err->format_message)(cinfo, s->message);
  std::longjmp(s->jump, 1);
}

void warning_or_error(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF: case JWRN_HIT_MARKER: case JWRN_HUFF_BAD_CODE: case JWRN_MUST_RESYNC:
    case JWRN_BOGUS_PROGRESSION: case JWRN_NOT_SEQUENTIAL:
#if JPEG_LIB_VERSION >= 70 || defined(D_ARITH_CODING_SUPPORTED)
    case JWRN_ARITH_BAD_CODE:
#endif
      error_to_jump(cinfo);
    default:
      return;  // harmless (extra bytes between markers, an unknown Adobe transform code...)
  }
}

void scan_limit(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxJpegScans) {
    std::snprintf(state_of(cinfo)->message, JMSG_LENGTH_MAX, "more than %d scans", kMaxJpegScans);
    std::longjmp(state_of(cinfo)->jump, 1);
  }
}

// False (with s.message) when libjpeg reports an error; throws IOError for a bad size or colour space.
bool read_jpeg(JpegState& s, const uint8_t* data, size_t size, RgbImage& img, const std::string& name) {
  s.cinfo.err = jpeg_std_error(&s.errors);
  s.errors.error_exit = error_to_jump;
  s.errors.emit_message = warning_or_error;
  s.cinfo.client_data = &s;
  if (setjmp(s.jump)) return false;
  jpeg_create_decompress(&s.cinfo);
  s.created = true;
  s.progress.progress_monitor = scan_limit;
  s.cinfo.progress = &s.progress;
  jpeg_mem_src(&s.cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&s.cinfo, TRUE);
  check_image_size(s.cinfo.image_width, s.cinfo.image_height, name);  // before any pixel buffer exists
  switch (s.cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: case JCS_YCbCr: case JCS_RGB:
      break;
    case JCS_CMYK: case JCS_YCCK:  // rare in datasets, and Adobe's inverted CMYK needs guessing
      throw IOError(name + ": CMYK JPEG, not read (convert it to RGB)");
    default:
      throw IOError(name + ": JPEG with an unknown colour space (" + std::to_string(s.cinfo.num_components) +
                    " components)");
  }
  s.cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&s.cinfo);
  if (s.cinfo.output_components != 3) ERREXIT(&s.cinfo, JERR_BAD_J_COLORSPACE);
  const size_t row_bytes = size_t(s.cinfo.output_width) * 3;
  img.width = int(s.cinfo.output_width);
  img.height = int(s.cinfo.output_height);
  img.pixels.resize(row_bytes * s.cinfo.output_height);
  while (s.cinfo.output_scanline < s.cinfo.output_height) {
    JSAMPROW row = img.pixels.data() + s.cinfo.output_scanline * row_bytes;
    jpeg_read_scanlines(&s.cinfo, &row, 1);
  }
  return true;  // no jpeg_finish_decompress: bytes after the last scan cannot change the pixels
}

}  // namespace

RgbImage decode_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  JpegState s;
  RgbImage img;
  if (!read_jpeg(s, data, size, img, name)) throw IOError(name + ": corrupt JPEG (" + s.message + ")");
  return img;
}

}  // namespace dlcraft
