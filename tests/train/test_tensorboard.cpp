// TensorBoard event files (train/tensorboard.hpp): CRC-32C against the published vectors and
// TensorBoard's own CRC code (scripts/check_tensorboard.py --crc-vectors), then files written
// by TensorBoardWriter read back by a small TFRecord reader here: every record's length and
// both CRCs, the Events parsed with the generated protobuf classes, file_version first, then
// the scalars in order. Errors: a logdir that cannot be made, an empty tag.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "test_data.hpp"
#include "train/tensorboard.hpp"

#ifdef DLCRAFT_WITH_PROTOBUF
#include "train/tensorboard_event.pb.h"
#endif

using namespace dlcraft;
namespace fs = std::filesystem;

namespace {

uint32_t crc_of(const std::string& s) { return crc32c(s.data(), s.size()); }
uint32_t masked_of(const std::string& s) { return masked_crc32c(s.data(), s.size()); }

std::string bytes_0_to_31(bool down) {
  std::string s(32, '\0');
  for (int i = 0; i < 32; ++i) s[size_t(i)] = char(down ? 31 - i : i);
  return s;
}

uint64_t read_le(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

// The records of a TFRecord file; FAILs on a bad length or CRC.
std::vector<std::string> read_records(const std::string& path) {
  const std::vector<char> bytes = read_file_bytes(path);
  std::vector<std::string> records;
  size_t pos = 0;
  while (pos < bytes.size()) {
    REQUIRE(pos + 12 <= bytes.size());
    const char* h = bytes.data() + pos;
    const uint64_t n = read_le(h, 8);
    REQUIRE(uint32_t(read_le(h + 8, 4)) == masked_crc32c(h, 8));
    REQUIRE(pos + 12 + n + 4 <= bytes.size());
    std::string data(h + 12, size_t(n));
    REQUIRE(uint32_t(read_le(h + 12 + n, 4)) == masked_of(data));
    records.push_back(std::move(data));
    pos += 12 + size_t(n) + 4;
  }
  REQUIRE(pos == bytes.size());
  return records;
}

std::vector<std::string> event_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("crc32c: the published vectors and TensorBoard's masked values", "[tensorboard]") {
  // crc32c from RFC 3720 B.4 and the usual check value; masked from TensorBoard's
  // pywrap_tensorflow.masked_crc32c (scripts/check_tensorboard.py --crc-vectors).
  struct Vector {
    std::string data;
    uint32_t crc, masked;
  };
  const std::vector<Vector> vectors = {
      {"123456789", 0xE3069283u, 0xC78AB0E5u},
      {"", 0x00000000u, 0xA282EAD8u},
      {std::string(32, '\0'), 0x8A9136AAu, 0x0FD7FFFAu},
      {std::string(32, '\xff'), 0x62A8AB43u, 0xF909B029u},
      {bytes_0_to_31(false), 0x46DD794Eu, 0x951F7892u},
      {bytes_0_to_31(true), 0x113FDB5Cu, 0x593B0D57u},
      {std::string("\x0d\0\0\0\0\0\0\0", 8), 0xA632491Au, 0x34B8373Cu},
      {"brain.Event:2", 0x8B8B6CC1u, 0x7C0601EEu},
  };
  for (const Vector& v : vectors) {
    INFO("input of " << v.data.size() << " bytes");
    CHECK(crc_of(v.data) == v.crc);
    CHECK(masked_of(v.data) == v.masked);
  }
  // One changed bit changes the CRC, wherever it is.
  std::mt19937 rng(12);
  std::string s(1237, '\0');
  for (char& c : s) c = char(rng());
  const uint32_t base = crc_of(s);
  for (int k = 0; k < 20; ++k) {
    std::string t = s;
    t[rng() % t.size()] ^= char(1 << (rng() % 8));
    CHECK(crc_of(t) != base);
  }
}

TEST_CASE("TensorBoardWriter: scalars read back record by record", "[tensorboard]") {
  const std::string dir = test::fresh_dir("tensorboard") + "/run/a";  // parents are created
  if (!tensorboard_available()) {
    REQUIRE_THROWS_WITH(TensorBoardWriter(dir), Catch::Contains("libprotobuf-dev"));
    return;
  }
  struct Scalar {
    std::string tag;
    float value;
    int64_t step;
  };
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-3.f, 3.f);
  std::vector<Scalar> written;
  [[maybe_unused]] const double before = now_seconds();
  std::string path;
  {
    TensorBoardWriter w(dir);
    path = w.path();
    CHECK(fs::path(path).parent_path() == fs::path(dir));
    CHECK(fs::path(path).filename().string().rfind("events.out.tfevents.", 0) == 0);
    for (int64_t step = 1; step <= 13; ++step)
      for (const char* tag : {"loss", "val/loss", "accuracy"}) {
        written.push_back({tag, u(rng), step * 3 - 1});
        w.add_scalar(written.back().tag, written.back().value, written.back().step);
      }
    // Each record is in the file at once, before flush() or the destructor.
    CHECK(read_records(path).size() == 1 + written.size());
  }
  [[maybe_unused]] const double after = now_seconds();
  REQUIRE(event_files(dir) == std::vector<std::string>{path});
  const std::vector<std::string> records = read_records(path);
  REQUIRE(records.size() == 1 + written.size());
#ifdef DLCRAFT_WITH_PROTOBUF
  tensorboard::Event first;
  REQUIRE(first.ParseFromString(records[0]));
  CHECK(first.file_version() == "brain.Event:2");
  CHECK(first.wall_time() >= before - 1);
  CHECK(first.wall_time() <= after + 1);
  double last_time = first.wall_time();
  for (size_t i = 0; i < written.size(); ++i) {
    INFO("record " << i + 1);
    tensorboard::Event e;
    REQUIRE(e.ParseFromString(records[i + 1]));
    CHECK(e.step() == written[i].step);
    CHECK(e.wall_time() >= last_time);
    last_time = e.wall_time();
    REQUIRE(e.has_summary());
    REQUIRE(e.summary().value_size() == 1);
    CHECK(e.summary().value(0).tag() == written[i].tag);
    CHECK(e.summary().value(0).simple_value() == written[i].value);
  }
  CHECK(last_time <= after + 1);
#else
  WARN("built without the generated protobuf classes: Events not parsed");
#endif
}

TEST_CASE("TensorBoardWriter: a second writer in the same directory gets its own file", "[tensorboard]") {
  if (!tensorboard_available()) return;
  const std::string dir = test::fresh_dir("tensorboard_two");
  TensorBoardWriter a(dir), b(dir);
  CHECK(a.path() != b.path());
  a.add_scalar("loss", 1.5, 1);
  b.add_scalar("loss", 2.5, 1);
  a.flush();
  b.flush();
  CHECK(event_files(dir).size() == 2);
  CHECK(read_records(a.path()).size() == 2);
  CHECK(read_records(b.path()).size() == 2);
}

TEST_CASE("TensorBoardWriter: errors name the path", "[tensorboard]") {
  if (!tensorboard_available()) return;
  const std::string dir = test::fresh_dir("tensorboard_errors");
  // A log directory below a regular file cannot be created.
  { std::ofstream(dir + "/plain_file") << "x"; }
  const std::string bad = dir + "/plain_file/logs";
  REQUIRE_THROWS_AS(TensorBoardWriter(bad), IOError);
  REQUIRE_THROWS_WITH(TensorBoardWriter(bad), Catch::Contains(bad));
  TensorBoardWriter w(dir + "/ok");
  REQUIRE_THROWS_AS(w.add_scalar("", 1.0, 3), ArgumentError);
  REQUIRE_THROWS_AS(w.add_scalar("loss\xff", 1.0, 3), ArgumentError);   // not UTF-8
  REQUIRE_THROWS_AS(w.add_scalar("caf\xc3", 1.0, 3), ArgumentError);    // cut in a character
  CHECK(read_records(w.path()).size() == 1);  // nothing written for the bad calls
  w.add_scalar("손실/val", 0.5, 3);           // UTF-8 is fine
  CHECK(read_records(w.path()).size() == 2);
}

TEST_CASE("TensorBoardWriter: doubles beyond float32 become infinities, NaN stays NaN", "[tensorboard]") {
  if (!tensorboard_available()) return;
  const std::string dir = test::fresh_dir("tensorboard_range");
  TensorBoardWriter w(dir);
  const double values[] = {1e300, -7e40, std::nan(""), 3.25e38, -0.15625};
  for (int i = 0; i < 5; ++i) w.add_scalar("loss", values[i], i);
  const std::vector<std::string> records = read_records(w.path());
  REQUIRE(records.size() == 6);
#ifdef DLCRAFT_WITH_PROTOBUF
  std::vector<float> got;
  for (size_t i = 1; i < records.size(); ++i) {
    tensorboard::Event e;
    REQUIRE(e.ParseFromString(records[i]));
    got.push_back(e.summary().value(0).simple_value());
  }
  CHECK(got[0] == std::numeric_limits<float>::infinity());
  CHECK(got[1] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(got[2]));
  CHECK(got[3] == 3.25e38f);
  CHECK(got[4] == -0.15625f);
#endif
}
