// TensorBoard event files: TFRecord framing (ours, a few lines) around Event messages encoded by
// protobuf from train/tensorboard_event.proto. Note: docs/curves.md.
#include "train/tensorboard.hpp"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <limits>
#include <system_error>

#include "core/error.hpp"

#ifdef DLCRAFT_WITH_PROTOBUF
#include "train/tensorboard_event.pb.h"
#endif

namespace dlcraft {

namespace {

// CRC-32C, bit-reflected polynomial 0x82F63B78, one table lookup per byte. (Debian has no
// package for it; TFRecord needs a few bytes per scalar, so speed does not matter.)
std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

#ifdef DLCRAFT_WITH_PROTOBUF
// Tags are proto3 strings, which must be UTF-8: TensorBoard refuses to parse an Event that is
// not, so a bad tag would make the rest of the file unreadable. (Overlong forms and surrogates
// are not looked for: tags are metric names.)
bool is_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += n;
  }
  return true;
}

double seconds_since_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// events.out.tfevents.<seconds>.<host>, with .1, .2, ... appended when a writer made in the same
// second (a second run into the same logdir) already took the name: TensorBoard reads every file
// whose name contains "tfevents".
std::string new_event_file_name(const std::string& logdir) {
  const std::string base = (std::filesystem::path(logdir) /
                            ("events.out.tfevents." + std::to_string(std::time(nullptr)) + "." + host_name())).string();
  std::string path = base;
  for (int n = 1; std::filesystem::exists(path); ++n) path = base + "." + std::to_string(n);
  return path;
}
#endif

}  // namespace

uint32_t crc32c(const void* data, size_t n) {
  static const std::array<uint32_t, 256> table = make_crc32c_table();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// TFRecord stores the CRC rotated and offset, because a CRC over data that itself holds CRCs
// is weak (TensorFlow's lib/hash/crc32c.h: Mask).
uint32_t masked_crc32c(const void* data, size_t n) {
  const uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

bool tensorboard_available() {
#ifdef DLCRAFT_WITH_PROTOBUF
  return true;
#else
  return false;
#endif
}

#ifdef DLCRAFT_WITH_PROTOBUF

TensorBoardWriter::TensorBoardWriter(const std::string& logdir) {
  std::error_code ec;
  std::filesystem::create_directories(logdir, ec);
  if (ec || !std::filesystem::is_directory(logdir))
    throw IOError(logdir + ": cannot create the TensorBoard log directory" + (ec ? " (" + ec.message() + ")" : ""));
  path_ = new_event_file_name(logdir);
  out_.open(path_, std::ios::binary | std::ios::trunc);
  if (!out_) throw IOError(path_ + ": cannot create the TensorBoard event file");
  // TensorBoard checks the first event of a file for the format version.
  tensorboard::Event first;
  first.set_wall_time(seconds_since_epoch());
  first.set_file_version("brain.Event:2");
  write_record(first.SerializeAsString());
  flush();
}

TensorBoardWriter::~TensorBoardWriter() { out_.flush(); }

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  if (tag.empty() || !is_utf8(tag))
    throw ArgumentError(path_ + ": add_scalar needs a non-empty UTF-8 tag (step " + std::to_string(step) + ")");
  tensorboard::Event event;
  event.set_wall_time(seconds_since_epoch());
  event.set_step(step);
  tensorboard::Summary::Value* v = event.mutable_summary()->add_value();
  v->set_tag(tag);
  // TensorBoard's scalars are float32; a finite double beyond float's range becomes ±Inf (a
  // plain conversion would be undefined behaviour).
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const bool too_big = std::isfinite(value) && std::fabs(value) > double(std::numeric_limits<float>::max());
  v->set_simple_value(too_big ? (value > 0 ? kInf : -kInf) : float(value));
  write_record(event.SerializeAsString());
  // Each record reaches the file at once, so a running TensorBoard shows every epoch as it ends.
  flush();
}

void TensorBoardWriter::flush() {
  out_.flush();
  if (!out_) throw IOError(path_ + ": cannot write the TensorBoard event file (disk full?)");
}

// TFRecord: uint64 length (little-endian), masked CRC of those 8 bytes, the data, masked CRC of
// the data (tensorflow/core/lib/io/record_writer.cc).
void TensorBoardWriter::write_record(const std::string& data) {
  auto put_u32 = [](char* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = char((v >> (8 * i)) & 0xFF);
  };
  char header[12];
  const uint64_t n = data.size();
  for (int i = 0; i < 8; ++i) header[i] = char((n >> (8 * i)) & 0xFF);
  put_u32(header + 8, masked_crc32c(header, 8));
  char footer[4];
  put_u32(footer, masked_crc32c(data.data(), data.size()));
  out_.write(header, sizeof(header));
  out_.write(data.data(), std::streamsize(data.size()));
  out_.write(footer, sizeof(footer));
  if (!out_) throw IOError(path_ + ": cannot write the TensorBoard event file (disk full?)");
}

#else  // built without protobuf: the writer cannot be made

TensorBoardWriter::TensorBoardWriter(const std::string& logdir) {
  throw Error("dlcraft was built without protobuf: install libprotobuf-dev and protobuf-compiler and rebuild "
              "(TensorBoard log " + logdir + ")");
}
TensorBoardWriter::~TensorBoardWriter() = default;
void TensorBoardWriter::add_scalar(const std::string&, double, int64_t) {}
void TensorBoardWriter::flush() {}
void TensorBoardWriter::write_record(const std::string&) {}

#endif

}  // namespace dlcraft
