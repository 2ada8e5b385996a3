// TensorBoard scalars: event files that `tensorboard --logdir DIR` reads. Each record is a
// TFRecord (length, masked CRC-32C, an Event protocol buffer, masked CRC-32C); the Event is
// encoded by protobuf (Debian's libprotobuf) from train/tensorboard_event.proto, the subset of
// TensorFlow's event.proto/summary.proto with the same field numbers. Note: docs/curves.md.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>

namespace dlcraft {

class TensorBoardWriter {
 public:
  // Creates `logdir` (and parents) and a new file events.out.tfevents.<seconds>.<host> in it,
  // starting with the file_version event TensorBoard expects. IOError naming the path when it
  // cannot; Error when dlcraft was built without protobuf (tensorboard_available() false).
  explicit TensorBoardWriter(const std::string& logdir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;
  // A scalar summary ("loss", "val/accuracy", ...) at a global step (fit uses the epoch).
  void add_scalar(const std::string& tag, double value, int64_t step);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& data);
  std::string path_;
  std::ofstream out_;
};
bool tensorboard_available();

// CRC-32C (Castagnoli), and the masked form TFRecord stores (rotated and offset).
uint32_t crc32c(const void* data, size_t n);
uint32_t masked_crc32c(const void* data, size_t n);

}  // namespace dlcraft
