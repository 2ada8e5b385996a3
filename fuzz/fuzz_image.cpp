// libFuzzer harness for the image decoders (datasets/image_io.hpp): any bytes must decode to a
// consistent image or throw dlcraft::Error. A crash, a sanitizer report, a leak, a timeout or
// any other exception is a bug; each one found becomes a case in tests/test_image_io.cpp.
// Decodes from memory (decode_image), so it writes nothing to disk.
// Seeds: fuzz/corpus/image/, tiny valid PNGs and JPEGs written by
//   build/tests/test_image_io "[.seeds]"   (into ./fuzz_seeds/)
#include <cstddef>
#include <cstdint>

#include "core/error.hpp"
#include "datasets/image_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const dlcraft::RgbImage img = dlcraft::decode_image(data, size, "fuzz-input");
    if (img.width <= 0 || img.height <= 0 || img.pixels.size() != size_t(img.width) * img.height * 3)
      __builtin_trap();
  } catch (const dlcraft::Error&) {
  }
  return 0;
}
