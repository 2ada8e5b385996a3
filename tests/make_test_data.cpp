// make_test_data DIR [N_TRAIN N_TEST]: writes a small learnable CIFAR-10-shaped data set in
// both layouts — DIR/bin (data_batch_1..5.bin, test_batch.bin, batches.meta.txt) and DIR/folder
// (train/ and test/ PNG class folders) — for the app tests.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_data.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_test_data DIR [N_TRAIN N_TEST]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int n_train = argc > 2 ? std::stoi(argv[2]) : 600, n_test = argc > 3 ? std::stoi(argv[3]) : 200;
  if (n_train < 5 || n_test < 1) {
    std::fprintf(stderr, "make_test_data: need at least 5 training images (one per batch file) and 1 test image\n");
    return 2;
  }
  auto train = dlcraft::test::make_pattern_dataset(n_train, 10, 1);
  auto test = dlcraft::test::make_pattern_dataset(n_test, 10, 2);
  dlcraft::test::write_cifar_binary_set(dir + "/bin", train, test);
  std::ofstream meta(dir + "/bin/batches.meta.txt");
  for (const auto& c : train.classes) meta << c << "\n";
  dlcraft::test::write_image_folder(dir + "/folder/train", train);
  dlcraft::test::write_image_folder(dir + "/folder/test", test);
  std::printf("wrote %d train / %d test images to %s/bin and %s/folder\n", n_train, n_test, dir.c_str(), dir.c_str());
  return 0;
}
