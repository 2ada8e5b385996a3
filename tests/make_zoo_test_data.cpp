// make_zoo_test_data DIR: data for the classify/finetune/features app tests (no downloads):
//   DIR/photos/{train,val,test}/<class>/*.png|jpg  3 learnable classes of mixed sizes (not square,
//                                                  not 32x32), PNG and JPEG mixed
//   DIR/flat/<class>/*                             the same kind, one folder (split at random)
//   DIR/bad/{train,val}/<class>/*                  as photos, with one unreadable "image"
//   DIR/empty/                                     no class folders
//   DIR/resnet18.safetensors, DIR/resnet18_headless.safetensors  model-zoo weights (seeded
//                                                  init; stand-ins for the pretrained files)
// Class k's images are dominated by one colour channel with a bright square at a random place,
// so a network learns them in a few steps at any size.
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/random.hpp"
#include "core/safetensors.hpp"
#include "image_encode.hpp"
#include "layers/models.hpp"

using namespace dlcraft;
namespace fs = std::filesystem;

namespace {
const char* kClasses[] = {"red_things", "green_things", "blue_things"};

void write_image(const std::string& path, int cls, Generator& gen, bool jpeg) {
  const int w = 40 + int(gen.below(60)), h = 36 + int(gen.below(60));
  test::Bytes px(size_t(w) * h * 3);
  const int sx = int(gen.below(uint64_t(w / 2))), sy = int(gen.below(uint64_t(h / 2)));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        int v = (c == cls ? 150 : 40) + int(gen.below(60));
        if (x >= sx && x < sx + w / 3 && y >= sy && y < sy + h / 3) v += 50;
        px[(size_t(y) * w + x) * 3 + c] = uint8_t(std::min(v, 255));
      }
  test::PngSpec png{w, h, 2, 8, false, px, {}, {}};
  test::write_bytes(path, jpeg ? test::encode_jpeg(w, h, 3, px, 92, false) : test::encode_png(png));
}

void write_split(const std::string& root, int per_class, Generator& gen) {
  for (int c = 0; c < 3; ++c) {
    const std::string dir = root + "/" + kClasses[c];
    fs::create_directories(dir);
    for (int i = 0; i < per_class; ++i) {
      const bool jpeg = i % 3 == 1;
      write_image(dir + "/img" + std::to_string(i) + (jpeg ? ".jpg" : ".png"), c, gen, jpeg);
    }
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_zoo_test_data DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  Generator gen(7);
  write_split(dir + "/photos/train", 16, gen);
  write_split(dir + "/photos/val", 4, gen);
  write_split(dir + "/photos/test", 6, gen);
  write_split(dir + "/flat", 10, gen);
  write_split(dir + "/bad/train", 4, gen);
  write_split(dir + "/bad/val", 2, gen);
  test::write_bytes(dir + "/bad/train/green_things/broken.jpg", test::Bytes{0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3});
  fs::create_directories(dir + "/empty");
  manual_seed(3);
  save_safetensors(dir + "/resnet18.safetensors", make_model("resnet18")->state_dict(), {{"note", "seeded init"}});
  auto headless = make_model("resnet18");
  reset_classifier(*headless, 0);
  save_safetensors(dir + "/resnet18_headless.safetensors", headless->state_dict(), {{"note", "seeded init, no head"}});
  std::printf("wrote %s\n", dir.c_str());
  return 0;
}
