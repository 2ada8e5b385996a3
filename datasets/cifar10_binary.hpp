// Reader for CIFAR-10's official binary layout (cifar-10-batches-bin/): data_batch_1..5.bin and
// test_batch.bin, each a list of 3073-byte records (1 label byte, then 1024 red, 1024 green and
// 1024 blue bytes, rows top to bottom), plus batches.meta.txt with the class names.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"

namespace dlcraft {

constexpr int kCifarRecordBytes = 1 + ImageDataset::kImageBytes;  // 3073

// Appends the records of one batch file's bytes to `ds`; `name` stands for the file in
// messages. IOError naming it (and the record and byte offset) when the size is not a whole,
// non-zero number of records or a label is above 9; `ds` is unchanged then.
void append_cifar10_batch(const char* data, size_t size, const std::string& name, ImageDataset& ds);

// Reads the given batch files in order. IOError naming the file (and byte offset) when a file
// is missing, is not a whole number of records, or holds a label above 9.
ImageDataset read_cifar10_batches(const std::vector<std::string>& files);

// True when `dir` holds data_batch_1.bin (the binary layout).
bool is_cifar10_binary_dir(const std::string& dir);
// The training (data_batch_1..5) or test (test_batch) split of `dir`. As torchvision's CIFAR10,
// every file must be there: a missing data_batch_4.bin is an IOError naming it, not a silent
// 4/5 of the training set.
ImageDataset load_cifar10_binary(const std::string& dir, bool train);

}  // namespace dlcraft
