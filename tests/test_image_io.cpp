// Image decoding (datasets/image_io.hpp) on untrusted files: every broken or hostile file is an
// IOError naming the file, never a crash; good PNGs of every colour type and depth decode
// exactly, baseline and progressive JPEGs closely. The files are made here, byte by byte where
// they must be broken (tests/image_encode.hpp).
#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/random.hpp"
#include "datasets/image_folder.hpp"
#include "datasets/image_io.hpp"
#include "image_encode.hpp"
#include "test_data.hpp"

#if defined(__linux__)
#include <sys/resource.h>
#include <unistd.h>
#endif

using namespace dlcraft;
using namespace dlcraft::test;
namespace fs = std::filesystem;

namespace {

const Bytes kPngSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes ihdr(uint32_t width, uint32_t height, uint8_t depth = 8, uint8_t color_type = 2) {
  return png_chunk("IHDR", cat({be32(width), be32(height), {depth, color_type, 0, 0, 0}}));
}

Bytes zlib_compress(const Bytes& raw) {
  uLongf size = compressBound(uLong(raw.size()));
  Bytes out(size);
  compress(out.data(), &size, raw.data(), uLong(raw.size()));
  out.resize(size);
  return out;
}

// Decoding `bytes` from memory and from the file dir/name must throw IOError naming the file
// (and saying `why`, when given).
void check_rejected(const std::string& dir, const std::string& name, const Bytes& bytes, const std::string& why = "") {
  INFO("file " << name);
  const std::string path = dir + "/" + name;
  write_bytes(path, bytes);
  for (int from_file = 0; from_file < 2; ++from_file) {
    try {
      if (from_file)
        read_image(path);
      else
        decode_image(bytes.data(), bytes.size(), path);
      FAIL("decoded without an error");
    } catch (const IOError& e) {
      CHECK_THAT(e.what(), Catch::Contains(path));
      if (!why.empty()) CHECK_THAT(e.what(), Catch::Contains(why));
    }
  }
}

Bytes random_bytes(Generator& g, size_t n) {
  Bytes out(n);
  for (uint8_t& b : out) b = uint8_t(g.below(256));
  return out;
}

// A smooth RGB (or gray) picture: JPEG keeps it within a few levels at high quality.
Bytes smooth_pixels(int width, int height, int components, uint64_t seed) {
  Bytes out(size_t(width) * height * components);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < components; ++c)
        out[(size_t(y) * width + x) * components + c] =
            uint8_t(30 + (x * 150) / width + (y * 60) / height + int((seed * (c + 1) * 37) % 15));
  return out;
}

Bytes good_png(Generator& g, int width, int height) {
  PngSpec s;
  s.width = width;
  s.height = height;
  s.samples = random_bytes(g, size_t(width) * height * 3);
  return encode_png(s);
}

int scale_16_to_8(int v) { return (v * 255 + 32895) >> 16; }  // round(v * 255 / 65535)

}  // namespace

TEST_CASE("PNGs of every colour type and depth decode exactly") {
  Generator g(7);
  for (int trial = 0; trial < 45; ++trial) {
    PngSpec s;
    s.width = 1 + int(g.below(67));
    s.height = 1 + int(g.below(67));
    s.interlaced = trial % 4 == 1;
    const int kind = trial % 9;
    const size_t n = size_t(s.width) * s.height;
    std::vector<uint8_t> want(n * 3);
    auto set_want = [&](size_t p, int r, int gr, int b) {
      want[p * 3] = uint8_t(r), want[p * 3 + 1] = uint8_t(gr), want[p * 3 + 2] = uint8_t(b);
    };
    if (kind == 0 || kind == 3) {  // RGB, RGBA: alpha dropped
      const int channels = kind == 0 ? 3 : 4;
      s.color_type = kind == 0 ? 2 : 6;
      s.samples = random_bytes(g, n * channels);
      for (size_t p = 0; p < n; ++p)
        set_want(p, s.samples[p * channels], s.samples[p * channels + 1], s.samples[p * channels + 2]);
    } else if (kind == 1 || kind == 2) {  // gray, gray + alpha
      const int channels = kind == 1 ? 1 : 2;
      s.color_type = kind == 1 ? 0 : 4;
      s.samples = random_bytes(g, n * channels);
      for (size_t p = 0; p < n; ++p) set_want(p, s.samples[p * channels], s.samples[p * channels], s.samples[p * channels]);
    } else if (kind == 4 || kind == 8) {  // palette, 8 bits with transparency or 2 bits without
      s.color_type = 3;
      s.bit_depth = kind == 4 ? 8 : 2;
      const int entries = 1 + int(g.below(kind == 4 ? 256 : 4));
      s.palette = random_bytes(g, size_t(entries) * 3);
      if (kind == 4) s.transparency = random_bytes(g, size_t(entries));
      s.samples.resize(n);
      for (size_t p = 0; p < n; ++p) {
        const int i = int(g.below(entries));
        s.samples[p] = uint8_t(i);
        set_want(p, s.palette[i * 3], s.palette[i * 3 + 1], s.palette[i * 3 + 2]);
      }
    } else if (kind == 5 || kind == 6) {  // 16-bit RGB, 16-bit gray
      const int channels = kind == 5 ? 3 : 1;
      s.color_type = kind == 5 ? 2 : 0;
      s.bit_depth = 16;
      s.samples = random_bytes(g, n * channels * 2);
      for (size_t p = 0; p < n; ++p) {
        int v[3];
        for (int c = 0; c < channels; ++c)
          v[c] = scale_16_to_8(s.samples[(p * channels + c) * 2] * 256 + s.samples[(p * channels + c) * 2 + 1]);
        if (channels == 1) v[1] = v[2] = v[0];
        set_want(p, v[0], v[1], v[2]);
      }
    } else {  // 4-bit gray: v -> v * 17
      s.color_type = 0;
      s.bit_depth = 4;
      s.samples.resize(n);
      for (size_t p = 0; p < n; ++p) {
        s.samples[p] = uint8_t(g.below(16));
        set_want(p, s.samples[p] * 17, s.samples[p] * 17, s.samples[p] * 17);
      }
    }
    INFO("kind " << kind << ", " << s.width << "x" << s.height << (s.interlaced ? " interlaced" : ""));
    const Bytes png = encode_png(s);
    RgbImage img = decode_image(png.data(), png.size(), "test.png");
    REQUIRE(img.width == s.width);
    REQUIRE(img.height == s.height);
    CHECK(img.pixels == want);
  }
}

TEST_CASE("baseline and progressive JPEGs decode close to the source") {
  Generator g(11);
  for (int trial = 0; trial < 16; ++trial) {
    const int width = 1 + int(g.below(90)), height = 1 + int(g.below(90));
    const int components = trial % 4 == 3 ? 1 : 3;
    const bool progressive = trial % 2 == 1;
    INFO(width << "x" << height << ", " << components << " components" << (progressive ? ", progressive" : ""));
    const Bytes src = smooth_pixels(width, height, components, trial);
    const Bytes jpeg = encode_jpeg(width, height, components, src, 95, progressive);
    const std::string dir = fresh_dir("jpeg_good");
    write_bytes(dir + "/a.jpg", jpeg);
    RgbImage img = read_image(dir + "/a.jpg");
    REQUIRE(img.width == width);
    REQUIRE(img.height == height);
    int worst = 0;
    double total = 0;
    for (size_t p = 0; p < size_t(width) * height; ++p)
      for (int c = 0; c < 3; ++c) {
        const int d = std::abs(int(img.pixels[p * 3 + c]) - int(src[p * components + (components == 3 ? c : 0)]));
        worst = std::max(worst, d);
        total += d;
      }
    CHECK(worst <= 8);
    CHECK(total / (double(width) * height * 3) <= 2.0);
  }
}

TEST_CASE("broken PNGs are IOErrors naming the file") {
  const std::string dir = fresh_dir("bad_png");
  Generator g(3);
  const Bytes png = good_png(g, 37, 23);
  const Bytes after_ihdr(png.begin() + 33, png.end());  // signature 8 + IHDR chunk 25
  const Bytes iend = png_chunk("IEND", {});
  const Bytes rows = Bytes(4 * (1 + 4 * 3), 0);  // 4x4 RGB: filter byte + 12 bytes a row
  check_rejected(dir, "truncated.png", Bytes(png.begin(), png.begin() + png.size() / 2));
  check_rejected(dir, "truncated_in_ihdr.png", Bytes(png.begin(), png.begin() + 20));
  check_rejected(dir, "signature_only.png", kPngSignature);
  const size_t idat = size_t(std::search(png.begin(), png.end(), std::begin("IDAT"), std::end("IDAT") - 1) - png.begin());
  const size_t idat_length = size_t(png[idat - 4]) << 24 | size_t(png[idat - 3]) << 16 | png[idat - 2] << 8 | png[idat - 1];
  Bytes bad_crc = png, bad_data = png;
  bad_crc[idat + 4 + idat_length] ^= 0x55;
  check_rejected(dir, "bad_crc.png", bad_crc, "CRC");
  bad_data[idat + 10] ^= 0x55;  // zlib notices first
  check_rejected(dir, "bad_idat_data.png", bad_data);
  bad_crc = png;
  bad_crc[8 + 8 + 13] ^= 0x01;  // the IHDR's CRC
  check_rejected(dir, "bad_ihdr_crc.png", bad_crc, "CRC");
  check_rejected(dir, "bit_depth_3.png", cat({kPngSignature, ihdr(37, 23, 3, 2), after_ihdr}));
  check_rejected(dir, "color_type_5.png", cat({kPngSignature, ihdr(37, 23, 8, 5), after_ihdr}));
  check_rejected(dir, "zero_width.png", cat({kPngSignature, ihdr(0, 23), after_ihdr}));
  check_rejected(dir, "zero_height.png", cat({kPngSignature, ihdr(37, 0), after_ihdr}));
  check_rejected(dir, "huge.png", cat({kPngSignature, ihdr(100000, 100000), after_ihdr}), "100000x100000");
  check_rejected(dir, "just_over.png", cat({kPngSignature, ihdr(8193, 8192), after_ihdr}), "8193x8192");
  check_rejected(dir, "width_2g.png", cat({kPngSignature, ihdr(0x80000000u, 1), after_ihdr}));
  check_rejected(dir, "no_idat.png", cat({kPngSignature, ihdr(4, 4), iend}));
  check_rejected(dir, "garbage_zlib.png", cat({kPngSignature, ihdr(4, 4), png_chunk("IDAT", random_bytes(g, 50)), iend}));
  check_rejected(dir, "short_zlib.png",
                 cat({kPngSignature, ihdr(4, 4), png_chunk("IDAT", zlib_compress(Bytes(rows.begin(), rows.begin() + 20))), iend}));
  check_rejected(dir, "empty_idat.png", cat({kPngSignature, ihdr(4, 4), png_chunk("IDAT", {}), iend}));
  check_rejected(dir, "palette_without_plte.png",
                 cat({kPngSignature, ihdr(4, 4, 8, 3), png_chunk("IDAT", zlib_compress(Bytes(4 * 5, 0))), iend}));
  check_rejected(dir, "bad_filter.png",
                 cat({kPngSignature, ihdr(4, 4), png_chunk("IDAT", zlib_compress(Bytes(rows.size(), 9))), iend}));
  // The whole PNG is fine when the rows are: a control for the crafted files above.
  const Bytes fine = cat({kPngSignature, ihdr(4, 4), png_chunk("IDAT", zlib_compress(rows)), iend});
  CHECK(decode_image(fine.data(), fine.size(), "fine.png").pixels == Bytes(48, 0));
}

TEST_CASE("broken and hostile JPEGs are IOErrors naming the file") {
  const std::string dir = fresh_dir("bad_jpeg");
  const Bytes jpeg = encode_jpeg(29, 31, 3, smooth_pixels(29, 31, 3, 1), 90, false);
  const Bytes prog = encode_jpeg(45, 38, 3, smooth_pixels(45, 38, 3, 2), 90, true);
  check_rejected(dir, "truncated.jpg", Bytes(jpeg.begin(), jpeg.begin() + jpeg.size() / 2), "Premature end");
  check_rejected(dir, "soi_only.jpg", {0xff, 0xd8, 0xff});
  check_rejected(dir, "no_image.jpg", {0xff, 0xd8, 0xff, 0xd9});

  const size_t sof = find_jpeg_marker(jpeg, 0xc0);
  REQUIRE(sof != std::string::npos);
  auto with_size = [&](const Bytes& file, size_t at, int width, int height) {
    Bytes out = file;
    out[at + 5] = uint8_t(height >> 8), out[at + 6] = uint8_t(height);
    out[at + 7] = uint8_t(width >> 8), out[at + 8] = uint8_t(width);
    return out;
  };
  check_rejected(dir, "zero_width.jpg", with_size(jpeg, sof, 0, 31));
  check_rejected(dir, "zero_height.jpg", with_size(jpeg, sof, 29, 0));
  check_rejected(dir, "huge.jpg", with_size(jpeg, sof, 65000, 65000), "65000x65000");
  check_rejected(dir, "just_over.jpg", with_size(jpeg, sof, 8193, 8192), "8193x8192");

  // A Huffman table of 300 codes (at most 256 exist), with the 300 symbol bytes present.
  Bytes dht = {0xff, 0xc4, uint8_t((2 + 17 + 300) >> 8), uint8_t(2 + 17 + 300), 0x00};
  Bytes counts(16, 0);
  counts[14] = counts[15] = 150;
  dht = cat({dht, counts, Bytes(300, 0x01)});
  check_rejected(dir, "dht_300_codes.jpg", cat({Bytes(jpeg.begin(), jpeg.begin() + 2), dht, Bytes(jpeg.begin() + 2, jpeg.end())}),
                 "Huffman");
  Bytes dht_counts = jpeg;  // the file's own first table, its counts raised past 256
  const size_t first_dht = find_jpeg_marker(jpeg, 0xc4);
  for (int i = 0; i < 16; ++i) dht_counts[first_dht + 5 + i] = 0x20;
  check_rejected(dir, "dht_counts.jpg", dht_counts, "Huffman");

  // Progressive: truncated; a scan with an impossible bit position (Al = 15: stb shifted by 32);
  // the first (DC) scan removed, so the rest refers to data that never came.
  check_rejected(dir, "prog_truncated.jpg", Bytes(prog.begin(), prog.begin() + prog.size() * 6 / 10), "Premature end");
  const size_t second_sos = find_jpeg_marker(prog, 0xda, 1);
  REQUIRE(second_sos != std::string::npos);
  Bytes bad_al = prog;
  const size_t ns = bad_al[second_sos + 4];
  bad_al[second_sos + 5 + 2 * ns + 2] = 0x0f;  // Ah = 0, Al = 15
  check_rejected(dir, "prog_al15.jpg", bad_al, "progressive");
  const size_t first_sos = find_jpeg_marker(prog, 0xda);
  Bytes no_dc(prog.begin(), prog.begin() + first_sos);
  no_dc.insert(no_dc.end(), prog.begin() + next_jpeg_marker(prog, first_sos), prog.end());
  check_rejected(dir, "prog_no_dc.jpg", no_dc);

  check_rejected(dir, "cmyk.jpg", encode_jpeg(8, 8, 4, Bytes(8 * 8 * 4, 100), 90, false), "CMYK");
}

TEST_CASE("other formats, empty files, missing files and directories are IOErrors naming them") {
  const std::string dir = fresh_dir("bad_other");
  // The 213-byte BMP that stb 2.27 decoded to 792 MB, and one of width 0: BMP is not read.
  Bytes bmp = {'B', 'M'};
  bmp = cat({bmp, {213, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0}, {0xff, 0xff, 0x00, 0x00}, {0x20, 0x0f, 0x00, 0x00},
             {1, 0, 24, 0}});
  bmp.resize(213, 0);
  check_rejected(dir, "big.bmp", bmp, "unsupported image format (PNG and JPEG are read)");
  Bytes bmp0 = bmp;
  bmp0[18] = bmp0[19] = 0;
  check_rejected(dir, "zero_width.bmp", bmp0, "unsupported image format");
  check_rejected(dir, "bmp_named.png", bmp, "unsupported image format");
  check_rejected(dir, "anim.gif", {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0}, "unsupported image format");
  check_rejected(dir, "empty.png", {}, "empty");
  check_rejected(dir, "one_byte.jpg", {0xff});
  CHECK_THROWS_WITH(read_image(dir + "/missing.png"), Catch::Contains(dir + "/missing.png"));
  CHECK_THROWS_AS(read_image(dir + "/missing.png"), IOError);
  fs::create_directories(dir + "/folder.png");
  CHECK_THROWS_WITH(read_image(dir + "/folder.png"), Catch::Contains(dir + "/folder.png"));
  CHECK_THROWS_AS(read_image(dir + "/folder.png"), IOError);
  // A JPEG named .png is read: the bytes say what a file is, not its name.
  const Bytes jpeg = encode_jpeg(5, 7, 3, smooth_pixels(5, 7, 3, 0), 90, false);
  write_bytes(dir + "/jpeg_named.png", jpeg);
  CHECK(read_image(dir + "/jpeg_named.png").width == 5);
}

TEST_CASE("damaged copies of good images decode or throw dlcraft::Error, never crash") {
  Generator g(5);
  PngSpec palette;
  palette.width = 9, palette.height = 7, palette.color_type = 3, palette.interlaced = true;
  palette.palette = random_bytes(g, 16 * 3);
  palette.samples.resize(63);
  for (uint8_t& s : palette.samples) s = uint8_t(g.below(16));
  PngSpec deep;
  deep.width = 6, deep.height = 5, deep.color_type = 6, deep.bit_depth = 16;
  deep.samples = random_bytes(g, 6 * 5 * 4 * 2);
  const std::vector<Bytes> originals = {
      good_png(g, 13, 11), encode_png(palette), encode_png(deep),
      encode_jpeg(17, 9, 3, smooth_pixels(17, 9, 3, 3), 80, false),
      encode_jpeg(23, 19, 3, smooth_pixels(23, 19, 3, 4), 80, true),
      encode_jpeg(16, 16, 1, smooth_pixels(16, 16, 1, 5), 80, true)};
  int decoded = 0, rejected = 0;
  auto attempt = [&](const Bytes& bytes) {
    try {
      RgbImage img = decode_image(bytes.data(), bytes.size(), "damaged");
      REQUIRE(img.width > 0);
      REQUIRE(img.pixels.size() == size_t(img.width) * img.height * 3);
      ++decoded;
    } catch (const Error&) {
      ++rejected;
    }
  };
  for (const Bytes& original : originals) {
    for (size_t len = 0; len < original.size(); len += 1 + original.size() / 300) attempt(Bytes(original.begin(), original.begin() + len));
    for (int trial = 0; trial < 300; ++trial) {
      Bytes damaged = original;
      const int changes = 1 + int(g.below(4));
      for (int c = 0; c < changes; ++c) damaged[g.below(damaged.size())] = uint8_t(g.below(256));
      attempt(damaged);
    }
  }
  CHECK(rejected > 0);
  CHECK(decoded > 0);
}

TEST_CASE("an image folder with a broken file is an IOError naming it, not an abort") {
  const std::string root = fresh_dir("folder_bad") + "/train";
  write_image_folder(root, make_pattern_dataset(150, 3, 9));
  Generator g(13);
  // A 40x40 JPEG named .png: read by its bytes, then resized.
  write_bytes(root + "/class0/jpeg_named.png", encode_jpeg(40, 40, 3, smooth_pixels(40, 40, 3, 6), 90, false));
  ImageFolderResult ok = load_image_folder(root);
  CHECK(ok.data.size() == 151);
  CHECK(ok.resized == 1);

  const Bytes png = good_png(g, 32, 32);
  write_bytes(root + "/class1/zzz_truncated.png", Bytes(png.begin(), png.begin() + png.size() / 2));
  CHECK_THROWS_AS(load_image_folder(root), IOError);
  CHECK_THROWS_WITH(load_image_folder(root), Catch::Contains(root + "/class1/zzz_truncated.png"));
  // Many bad files, decoded on all threads: the first in sorted order is named, every time.
  for (int i = 0; i < 100; ++i) write_bytes(root + "/class2/bad_" + std::to_string(100 + i) + ".bmp", Bytes(213, 'B'));
  for (int run = 0; run < 3; ++run)
    CHECK_THROWS_WITH(load_image_folder(root), Catch::Contains("class1/zzz_truncated.png"));
  fs::remove(root + "/class1/zzz_truncated.png");
  CHECK_THROWS_WITH(load_image_folder(root),
                    Catch::Contains("class2/bad_100.bmp") && Catch::Contains("unsupported image format"));
}

// An address-space limit and AddressSanitizer's shadow memory do not mix.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DLCRAFT_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define DLCRAFT_TEST_ASAN 1
#endif

#if defined(__linux__) && !defined(DLCRAFT_TEST_ASAN)
// stb's 792 MB BMP ended in a bad_alloc inside the OpenMP loop, and so in std::terminate. Here
// an 8192x8192 PNG header (the largest allowed: a 192 MiB buffer) meets an address-space limit
// 96 MiB above what the process uses: OutOfMemoryError naming the file, from read_image and
// from the image-folder loop.
TEST_CASE("running out of memory while decoding is an OutOfMemoryError naming the file") {
  const std::string root = fresh_dir("folder_oom") + "/train";
  write_image_folder(root, make_pattern_dataset(20, 2, 4));
  const Bytes rows(8192 * 3 + 1, 0);
  const std::string big = root + "/class1/big.png";
  write_bytes(big, cat({kPngSignature, ihdr(8192, 8192), png_chunk("IDAT", zlib_compress(rows)), png_chunk("IEND", {})}));
  // Without the limit big.png is merely truncated (this also starts the OpenMP threads).
  CHECK_THROWS_WITH(load_image_folder(root), Catch::Contains("big.png") && !Catch::Contains("out of memory"));
  long pages = 0;
  std::ifstream("/proc/self/statm") >> pages;
  rlimit old{};
  getrlimit(RLIMIT_AS, &old);
  rlimit limited = old;
  limited.rlim_cur = rlim_t(pages) * rlim_t(sysconf(_SC_PAGESIZE)) + (rlim_t(96) << 20);
  REQUIRE(setrlimit(RLIMIT_AS, &limited) == 0);
  std::string from_read, from_folder;
  try {
    read_image(big);
  } catch (const OutOfMemoryError& e) {
    from_read = e.what();
  } catch (const Error& e) {
    from_read = std::string("other error: ") + e.what();
  }
  try {
    load_image_folder(root);
  } catch (const OutOfMemoryError& e) {
    from_folder = e.what();
  } catch (const Error& e) {
    from_folder = std::string("other error: ") + e.what();
  }
  setrlimit(RLIMIT_AS, &old);
  CHECK_THAT(from_read, Catch::Contains(big) && Catch::Contains("out of memory"));
  CHECK_THAT(from_folder, Catch::Contains(big) && Catch::Contains("out of memory"));
}
#endif

// Not a test: writes the fuzzer's seed corpus (fuzz/corpus/image/) into ./fuzz_seeds/.
// Run it by its tag: test_image_io "[.seeds]".
TEST_CASE("write the fuzz seed corpus", "[.seeds]") {
  const std::string dir = "fuzz_seeds";
  fs::create_directories(dir);
  Generator g(17);
  auto png = [&](const std::string& name, int color_type, int depth, bool interlaced, int entries) {
    PngSpec s;
    s.width = 7, s.height = 5, s.color_type = color_type, s.bit_depth = depth, s.interlaced = interlaced;
    const int channels = color_type == 0 || color_type == 3 ? 1 : color_type == 4 ? 2 : color_type == 2 ? 3 : 4;
    s.samples = random_bytes(g, size_t(35) * channels * (depth == 16 ? 2 : 1));
    if (depth < 8 || color_type == 3)
      for (uint8_t& v : s.samples) v = uint8_t(v % (color_type == 3 ? entries : 1 << depth));
    if (color_type == 3) {
      s.palette = random_bytes(g, size_t(entries) * 3);
      s.transparency = random_bytes(g, size_t(entries) / 2);
    }
    write_bytes(dir + "/" + name, encode_png(s));
  };
  png("rgb.png", 2, 8, false, 0);
  png("rgba16.png", 6, 16, false, 0);
  png("gray4.png", 0, 4, false, 0);
  png("gray_alpha_interlaced.png", 4, 8, true, 0);
  png("palette_trns_interlaced.png", 3, 8, true, 6);
  png("palette2.png", 3, 2, false, 4);
  write_bytes(dir + "/baseline.jpg", encode_jpeg(16, 16, 3, smooth_pixels(16, 16, 3, 1), 75, false));
  write_bytes(dir + "/progressive.jpg", encode_jpeg(17, 9, 3, smooth_pixels(17, 9, 3, 2), 75, true));
  write_bytes(dir + "/gray_progressive.jpg", encode_jpeg(9, 11, 1, smooth_pixels(9, 11, 1, 3), 75, true));
}
