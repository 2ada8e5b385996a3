// libFuzzer harness: bytes as a CIFAR-10 binary batch file (3073-byte records). Must end in a
// dlcraft::Error or success, and a rejected file must leave the data set unchanged.
// Seeds: fuzz/corpus/cifar_binary/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.hpp"
#include "datasets/cifar10_binary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dlcraft;
  ImageDataset ds;
  ds.labels = {7};
  ds.images.assign(ImageDataset::kImageBytes, 1);
  try {
    append_cifar10_batch(reinterpret_cast<const char*>(data), size, "fuzz.bin", ds);
    if (ds.size() != 1 + int64_t(size / kCifarRecordBytes)) std::abort();
  } catch (const Error&) {
    if (ds.size() != 1 || ds.images.size() != size_t(ImageDataset::kImageBytes)) std::abort();
  }
  return 0;
}
