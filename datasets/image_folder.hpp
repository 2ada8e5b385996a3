// Reader for an image-folder tree: root/<class>/*.png|jpg|jpeg, classes in sorted order
// (as torchvision's ImageFolder). Images that are not 32x32 are resized to 32x32 (area
// averaging when shrinking, bilinear when enlarging) and counted, so the caller can say so.
#pragma once
#include <string>

#include "datasets/dataset.hpp"

namespace dlcraft {

struct ImageFolderResult {
  ImageDataset data;
  int64_t resized = 0;  // how many images were not 32x32
};

// IOError naming the file for an unreadable image (a .bmp too: BMP is not read), the first in
// sorted order when several are; naming the root when it has no classes or no images.
// OutOfMemoryError naming the file when decoding runs out of memory. Decoding runs on all threads.
ImageFolderResult load_image_folder(const std::string& root);

// True when `dir` has train/ and test/ sub-directories.
bool is_image_folder_split_dir(const std::string& dir);

}  // namespace dlcraft
