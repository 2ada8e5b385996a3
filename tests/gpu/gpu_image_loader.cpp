// The image-file loader (datasets/image_loader.hpp) with the GPU as the destination: batches
// copied from its page-locked slots must hold exactly the CPU's floats and labels, batch after
// batch (a slot reused before its copy finished would show up as a mismatch), and
// load_image_batch on the GPU the same as on the CPU.
#include <catch2/catch.hpp>

#include <filesystem>

#include "datasets/image_files.hpp"
#include "datasets/image_loader.hpp"
#include "image_encode.hpp"
#include "test_data.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

TEST_CASE("image loader batches on the GPU equal the CPU's", "[image_loader]") {
  const std::string root = fresh_dir("gpu_image_loader");
  write_image_folder(root, make_pattern_dataset(23, 3, 4));  // 32x32 PNGs, 3 classes
  PngSpec odd;  // and one of another size
  odd.width = 50;
  odd.height = 37;
  odd.samples.resize(50 * 37 * 3);
  for (size_t i = 0; i < odd.samples.size(); ++i) odd.samples[i] = uint8_t(i * 7);
  write_bytes(root + "/class1/odd.png", encode_png(odd));
  const ImageFileDataset ds = scan_image_files(root);
  REQUIRE(ds.size() == 24);
  ImageLoaderOptions opt;
  opt.batch_size = 5;
  opt.prefetch = 1;  // two slots: each is reused every other batch
  opt.threads = 2;
  opt.seed = 3;
  opt.transform = train_transform(24);
  ImageBatchLoader loader(ds, opt);
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    std::vector<std::vector<float>> cpu_images;
    std::vector<int32_t> cpu_labels, gpu_labels, labels;
    Tensor images;
    loader.start_epoch(epoch);
    while (loader.next_batch(Device::cpu(), images, labels)) {
      cpu_images.push_back(images.to_vector());
      cpu_labels.insert(cpu_labels.end(), labels.begin(), labels.end());
    }
    loader.start_epoch(epoch);
    size_t b = 0;
    std::vector<Tensor> on_gpu;  // kept: later batches must not overwrite earlier ones
    while (loader.next_batch(Device::cuda(), images, labels)) {
      CHECK(images.device().is_cuda());
      on_gpu.push_back(images);
      gpu_labels.insert(gpu_labels.end(), labels.begin(), labels.end());
      ++b;
    }
    REQUIRE(b == cpu_images.size());
    for (size_t i = 0; i < b; ++i) CHECK(on_gpu[i].to_vector() == cpu_images[i]);
    CHECK(gpu_labels == cpu_labels);
  }
  const std::vector<std::string> paths = {ds.paths[3], ds.paths[0], ds.paths[10]};
  CHECK(load_image_batch(paths, eval_transform(40, 32), Device::cuda()).to_vector() ==
        load_image_batch(paths, eval_transform(40, 32)).to_vector());
}
