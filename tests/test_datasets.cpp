// The readers (on files the test writes), their rejection cases, the transforms and the loader.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "datasets/cifar10.hpp"
#include "datasets/cifar10_binary.hpp"
#include "datasets/dataloader.hpp"
#include "datasets/image_folder.hpp"
#include "datasets/image_io.hpp"
#include "datasets/transforms.hpp"
#include "test_data.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

TEST_CASE("CIFAR-10 binary reader") {
  const std::string dir = fresh_dir("cifar_bin");
  ImageDataset a = make_pattern_dataset(37, 10, 1), b = make_pattern_dataset(5, 10, 2);
  write_cifar_binary(dir + "/data_batch_1.bin", a);
  for (int i = 2; i <= 5; ++i) write_cifar_binary(dir + "/data_batch_" + std::to_string(i) + ".bin", b);
  write_cifar_binary(dir + "/test_batch.bin", b);
  ImageDataset train = load_cifar10_binary(dir, true);
  REQUIRE(train.size() == 57);
  CHECK(train.labels[0] == a.labels[0]);
  CHECK(train.labels[40] == b.labels[3]);
  CHECK(std::equal(a.image(36), a.image(36) + ImageDataset::kImageBytes, train.image(36)));
  CHECK(std::equal(b.image(4), b.image(4) + ImageDataset::kImageBytes, train.image(41)));
  CHECK(train.classes == cifar10_class_names());  // no batches.meta.txt: the standard names
  CHECK(load_cifar10_binary(dir, false).size() == 5);
  Cifar10 found = load_cifar10(dir);
  CHECK(found.layout == "binary");
  CHECK(found.train.size() == 57);
}

TEST_CASE("CIFAR-10 binary reader rejects bad files") {
  const std::string dir = fresh_dir("cifar_bad");
  ImageDataset a = make_pattern_dataset(3, 10, 1);
  write_cifar_binary(dir + "/ok.bin", a);
  // A truncated file: not a whole number of records.
  {
    std::ofstream out(dir + "/short.bin", std::ios::binary);
    out << std::string(3073 + 100, '\0');
  }
  CHECK_THROWS_WITH(read_cifar10_batches({dir + "/short.bin"}),
                    Catch::Contains("short.bin") && Catch::Contains("3073"));
  // A label of 12 in the second record, at byte offset 3073.
  {
    std::ifstream in(dir + "/ok.bin", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes[3073] = 12;
    std::ofstream out(dir + "/badlabel.bin", std::ios::binary);
    out << bytes;
  }
  CHECK_THROWS_WITH(read_cifar10_batches({dir + "/badlabel.bin"}),
                    Catch::Contains("badlabel.bin") && Catch::Contains("label 12") && Catch::Contains("offset 3073"));
  CHECK_THROWS_WITH(read_cifar10_batches({dir + "/nope.bin"}), Catch::Contains("nope.bin"));
  CHECK_THROWS_WITH(load_cifar10(dir + "/empty"), Catch::Contains("download_cifar10.sh"));
}

TEST_CASE("image folder reader") {
  const std::string root = fresh_dir("folder");
  ImageDataset ds = make_pattern_dataset(30, 3, 5);
  write_image_folder(root + "/train", ds);
  write_image_folder(root + "/test", ds, true);
  ImageFolderResult r = load_image_folder(root + "/train");
  CHECK(r.data.classes == std::vector<std::string>{"class0", "class1", "class2"});
  REQUIRE(r.data.size() == 30);
  CHECK(r.resized == 0);
  // PNG is lossless: the pixels come back exactly (files are sorted by class, then name).
  std::multiset<int32_t> want(ds.labels.begin(), ds.labels.end()), got(r.data.labels.begin(), r.data.labels.end());
  CHECK(want == got);
  int64_t first_of_class0 = 0;
  while (ds.labels[first_of_class0] != 0) ++first_of_class0;
  CHECK(std::equal(ds.image(first_of_class0), ds.image(first_of_class0) + ImageDataset::kImageBytes, r.data.image(0)));
  Cifar10 both = load_cifar10(root);
  CHECK(both.layout == "image-folder");
  CHECK(both.test.size() == 30);

  // An image of another size is resized; an unreadable one is an error naming it.
  RgbImage big;
  big.width = 64;
  big.height = 48;
  big.pixels.assign(64 * 48 * 3, 200);
  RgbImage small = resize_bilinear(big, 32, 32);
  CHECK(small.pixels == std::vector<uint8_t>(32 * 32 * 3, 200));
  { std::ofstream bad(root + "/train/class1/zzz_broken.png"); bad << "not a png"; }
  CHECK_THROWS_WITH(load_image_folder(root + "/train"), Catch::Contains("zzz_broken.png"));
  CHECK_THROWS_AS(load_image_folder(root + "/nothing"), IOError);
}

TEST_CASE("augmentation: crop and flip and normalize") {
  ImageDataset ds = make_pattern_dataset(1, 10, 3);
  const uint8_t* src = ds.image(0);
  Normalization norm{{0.5f, 0.4f, 0.3f}, {0.2f, 0.25f, 0.5f}};
  std::vector<float> plain(3072), aug(3072);
  normalize_image(src, plain.data(), norm);
  CHECK(plain[0] == Approx((src[0] / 255.0f - 0.5f) / 0.2f));
  CHECK(plain[2048 + 5] == Approx((src[2048 + 5] / 255.0f - 0.3f) / 0.5f));
  // Over many random draws, every crop offset in [-4, 4] and both flips must appear, and each
  // output must be a shifted (and maybe mirrored) copy with zero (black) padding.
  std::set<std::pair<int, int>> offsets;
  int flips = 0;
  for (uint64_t r = 0; r < 2000; ++r) {
    augment_image(src, aug.data(), norm, AugmentOptions{}, r);
    bool found = false;
    for (int oy = -4; oy <= 4 && !found; ++oy)
      for (int ox = -4; ox <= 4 && !found; ++ox)
        for (int flip = 0; flip < 2 && !found; ++flip) {
          bool match = true;
          for (int c = 0; c < 3 && match; ++c)
            for (int y = 0; y < 32 && match; ++y)
              for (int x = 0; x < 32 && match; ++x) {
                int sy = y + oy, sx = (flip ? 31 - x : x) + ox;
                float v = (sy < 0 || sy > 31 || sx < 0 || sx > 31) ? 0.0f : src[(c * 32 + sy) * 32 + sx];
                match = std::fabs(aug[(c * 32 + y) * 32 + x] - (v / 255.0f - norm.mean[c]) / norm.std[c]) < 1e-4f;
              }
          if (match) {
            found = true;
            offsets.insert({oy, ox});
            flips += flip;
          }
        }
    CHECK(found);
  }
  CHECK(offsets.size() == 81);
  CHECK(flips > 850);
  CHECK(flips < 1150);
  // Normalisation statistics: a constant image has that mean and (clamped) zero spread.
  ImageDataset flat = make_pattern_dataset(2, 10, 4);
  std::fill(flat.images.begin(), flat.images.end(), 51);
  Normalization n = compute_normalization(flat);
  CHECK(n.mean[1] == Approx(0.2f));
  CHECK(n.std[1] < 1e-5f);
}

TEST_CASE("DataLoader batches and shuffles and repeats") {
  ImageDataset ds = make_pattern_dataset(70, 10, 6);
  DataLoaderOptions opt;
  opt.batch_size = 32;
  opt.seed = 11;
  auto epoch_labels = [&](DataLoader& dl, int64_t epoch, std::vector<int64_t>* sizes) {
    std::vector<int32_t> labels;
    std::vector<float> first_pixels;
    dl.start_epoch(epoch);
    while (const Batch* b = dl.next()) {
      if (sizes) sizes->push_back(b->size);
      labels.insert(labels.end(), b->labels.begin(), b->labels.begin() + b->size);
      first_pixels.push_back(b->images[0]);
    }
    return std::make_pair(labels, first_pixels);
  };
  DataLoader dl(ds, opt);
  CHECK(dl.batches_per_epoch() == 3);
  std::vector<int64_t> sizes;
  auto e1 = epoch_labels(dl, 1, &sizes);
  CHECK(sizes == std::vector<int64_t>{32, 32, 6});  // the last partial batch is kept
  std::multiset<int32_t> all(ds.labels.begin(), ds.labels.end()), seen(e1.first.begin(), e1.first.end());
  CHECK(all == seen);  // every image once
  auto e2 = epoch_labels(dl, 2, nullptr);
  CHECK(e1.first != e2.first);  // reshuffled each epoch
  DataLoader again(ds, opt);
  CHECK(epoch_labels(again, 2, nullptr) == e2);  // same seed and epoch: same batches
  // Stopping mid-epoch and starting another is fine.
  again.start_epoch(3);
  again.next();
  again.start_epoch(4);
  CHECK(again.next() != nullptr);
  opt.batch_size = 0;
  CHECK_THROWS_AS(DataLoader(ds, opt), ArgumentError);
}
