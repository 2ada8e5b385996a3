#include "test_data.hpp"

#include "image_encode.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/random.hpp"

namespace dlcraft::test {
namespace fs = std::filesystem;

ImageDataset make_pattern_dataset(int n, int classes, uint64_t seed) {
  ImageDataset ds;
  for (int c = 0; c < classes; ++c) ds.classes.push_back("class" + std::to_string(c));
  ds.images.resize(size_t(n) * ImageDataset::kImageBytes);
  ds.labels.resize(n);
  Generator g(seed);
  for (int i = 0; i < n; ++i) {
    const int label = int(g.below(classes));
    ds.labels[i] = label;
    uint8_t* img = ds.images.data() + size_t(i) * ImageDataset::kImageBytes;
    for (int ch = 0; ch < 3; ++ch)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) {
          int v = int(g.below(96));  // noise
          if (ch == label % 3 && y / 8 == (label / 3) % 4) v += 140;
          img[(ch * 32 + y) * 32 + x] = uint8_t(v);
        }
  }
  return ds;
}

void write_cifar_binary(const std::string& path, const ImageDataset& ds) {
  std::ofstream out(path, std::ios::binary);
  for (int64_t i = 0; i < ds.size(); ++i) {
    out.put(char(ds.labels[i]));
    out.write(reinterpret_cast<const char*>(ds.image(i)), ImageDataset::kImageBytes);
  }
}

void write_cifar_binary_set(const std::string& dir, const ImageDataset& train, const ImageDataset& test) {
  fs::create_directories(dir);
  const int64_t n = train.size();
  for (int b = 0; b < 5; ++b) {  // consecutive fifths: read back in order, they are `train`
    std::vector<int64_t> idx;
    for (int64_t i = n * b / 5; i < n * (b + 1) / 5; ++i) idx.push_back(i);
    write_cifar_binary(dir + "/data_batch_" + std::to_string(b + 1) + ".bin", train.subset(idx));
  }
  write_cifar_binary(dir + "/test_batch.bin", test);
}

void write_image_folder(const std::string& root, const ImageDataset& ds, bool jpeg) {
  for (const std::string& c : ds.classes) fs::create_directories(fs::path(root) / c);
  std::vector<uint8_t> hwc(ImageDataset::kImageBytes);
  for (int64_t i = 0; i < ds.size(); ++i) {
    const uint8_t* chw = ds.image(i);
    for (int p = 0; p < 1024; ++p)
      for (int c = 0; c < 3; ++c) hwc[p * 3 + c] = chw[c * 1024 + p];
    char name[32];
    std::snprintf(name, sizeof name, "%05lld.%s", (long long)i, jpeg ? "jpg" : "png");
    const std::string file = (fs::path(root) / ds.classes[ds.labels[i]] / name).string();
    if (jpeg) {
      write_bytes(file, encode_jpeg(32, 32, 3, hwc, 95, false));
    } else {
      PngSpec png;
      png.width = png.height = 32;
      png.samples = hwc;
      write_bytes(file, encode_png(png));
    }
  }
}

std::shared_ptr<Sequential> small_cnn() {
  auto net = std::make_shared<Sequential>();
  net->add(std::make_shared<Conv2d>(3, 8, 3, 1, 1)).add(std::make_shared<ReLU>()).add(std::make_shared<MaxPool2d>(2));
  net->add(std::make_shared<Conv2d>(8, 16, 3, 2, 1)).add(std::make_shared<ReLU>()).add(std::make_shared<AvgPool2d>(2));
  net->add(std::make_shared<Flatten>()).add(std::make_shared<Linear>(16 * 4 * 4, 10));
  return net;
}

namespace {
// The folders fresh_dir made in this process, removed when it exits.
std::vector<fs::path>& made_dirs() {
  static std::vector<fs::path> dirs;
  return dirs;
}
void remove_made_dirs() {
  std::error_code ignored;  // at exit: nothing to report to
  for (const fs::path& p : made_dirs()) fs::remove_all(p, ignored);
}
}  // namespace

std::string fresh_dir(const std::string& name) {
  // One folder per process: ctest runs each test case as its own process, several at once
  // with -j, and two cases of one program must not remove each other's files.
  fs::path p = fs::current_path() / ("tmp_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  if (made_dirs().empty()) std::atexit(remove_made_dirs);
  made_dirs().push_back(p);
  return p.string();
}

}  // namespace dlcraft::test
