#include "datasets/cifar10_binary.hpp"

#include <cstring>
#include <fstream>

#include "core/error.hpp"
#include "core/file_io.hpp"

namespace dlcraft {

void append_cifar10_batch(const char* data, size_t size, const std::string& name, ImageDataset& ds) {
  if (size == 0 || size % kCifarRecordBytes != 0)
    throw IOError(name + ": size " + std::to_string(size) +
                  " bytes is not a whole number of 3073-byte CIFAR-10 records");
  const size_t records = size / kCifarRecordBytes;
  for (size_t r = 0; r < records; ++r) {  // check first, so a bad file leaves `ds` as it was
    const size_t offset = r * kCifarRecordBytes;
    const auto label = static_cast<unsigned char>(data[offset]);
    if (label > 9)
      throw IOError(name + ": label " + std::to_string(label) + " at byte offset " +
                    std::to_string(offset) + " (record " + std::to_string(r) + ") is above 9");
  }
  const size_t first = ds.labels.size();
  ds.labels.resize(first + records);
  ds.images.resize((first + records) * ImageDataset::kImageBytes);
  for (size_t r = 0; r < records; ++r) {
    const size_t offset = r * kCifarRecordBytes;
    ds.labels[first + r] = static_cast<unsigned char>(data[offset]);
    // The record's pixels are already CHW (R plane, G plane, B plane): copy as they are.
    std::memcpy(ds.images.data() + (first + r) * ImageDataset::kImageBytes, data + offset + 1,
                ImageDataset::kImageBytes);
  }
}

ImageDataset read_cifar10_batches(const std::vector<std::string>& files) {
  ImageDataset ds;
  ds.classes = cifar10_class_names();
  for (const std::string& file : files) {
    std::vector<char> bytes = read_file_bytes(file);
    append_cifar10_batch(bytes.data(), bytes.size(), file, ds);
  }
  return ds;
}

bool is_cifar10_binary_dir(const std::string& dir) {
  return file_exists(dir + "/data_batch_1.bin");
}

ImageDataset load_cifar10_binary(const std::string& dir, bool train) {
  std::vector<std::string> files;
  if (train) {
    for (int i = 1; i <= 5; ++i) files.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  } else {
    files.push_back(dir + "/test_batch.bin");
  }
  for (const std::string& f : files)  // before reading any: say which file is missing
    if (!file_exists(f))
      throw IOError(f + ": missing (the CIFAR-10 binary layout needs data_batch_1.bin .. "
                    "data_batch_5.bin and test_batch.bin; get them with scripts/download_cifar10.sh)");
  ImageDataset ds = read_cifar10_batches(files);
  // Class names from batches.meta.txt when present (one per line).
  std::ifstream meta(dir + "/batches.meta.txt");
  std::vector<std::string> names;
  for (std::string line; std::getline(meta, line);)
    if (!line.empty() && line.find_first_not_of(" \r\t") != std::string::npos)
      names.push_back(line.substr(0, line.find_last_not_of(" \r\t") + 1));
  if (names.size() == 10) ds.classes = names;
  return ds;
}

}  // namespace dlcraft
