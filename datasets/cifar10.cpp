#include "datasets/cifar10.hpp"

#include "core/error.hpp"
#include "datasets/cifar10_binary.hpp"
#include "datasets/image_folder.hpp"

namespace dlcraft {

std::vector<std::string> cifar10_candidate_dirs(const std::string& dir) {
  return {dir, dir + "/cifar-10-batches-bin", dir + "/cifar10-jpeg"};
}

Cifar10 load_cifar10(const std::string& dir) {
  for (const std::string& d : cifar10_candidate_dirs(dir)) {
    Cifar10 out;
    out.root = d;
    if (is_cifar10_binary_dir(d)) {
      out.layout = "binary";
      out.train = load_cifar10_binary(d, true);
      out.test = load_cifar10_binary(d, false);
      return out;
    }
    if (is_image_folder_split_dir(d)) {
      out.layout = "image-folder";
      ImageFolderResult train = load_image_folder(d + "/train");
      ImageFolderResult test = load_image_folder(d + "/test");
      if (train.data.classes != test.data.classes)
        throw IOError(d + ": train/ and test/ have different class folders");
      out.train = std::move(train.data);
      out.test = std::move(test.data);
      out.resized = train.resized + test.resized;
      return out;
    }
  }
  std::string msg = "no CIFAR-10 data found. Looked for data_batch_1.bin (binary layout) or "
                    "train/ and test/ class folders (image layout) in:";
  for (const std::string& d : cifar10_candidate_dirs(dir)) msg += "\n  " + d;
  msg += "\nGet the official binary set with:  bash scripts/download_cifar10.sh " + dir;
  throw IOError(msg);
}

}  // namespace dlcraft
