// An image-file data set: the paths of PNG/JPEG files and their labels, scanned from
// root/<class>/... as torchvision's ImageFolder does, decoded only when a batch needs them
// (datasets/image_loader.hpp), so ImageNet-sized sets cost their paths in memory, not pixels.
// See docs/image_pipeline.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/image_io.hpp"

namespace dlcraft {

struct ImageFileDataset {
  std::string root;                  // the folder scanned (for messages)
  std::vector<std::string> paths;    // size(): one file per sample
  std::vector<int32_t> labels;       // size(): index into classes
  std::vector<std::string> classes;  // label -> class folder name, sorted
  // Files with an image extension torchvision reads but we do not (.bmp .gif .pgm .ppm .tif
  // .tiff .webp): left out of the data set and listed here, so a caller can say so.
  std::vector<std::string> unsupported;

  int64_t size() const { return int64_t(paths.size()); }
  // The decoded image of sample i (IOError naming the file when it cannot be read).
  RgbImage read(int64_t i) const;
  // The samples at `indices`, in that order (same classes). ArgumentError for an index out of range.
  ImageFileDataset subset(const std::vector<int64_t>& indices) const;
  // How many samples each class has (classes.size() counts).
  std::vector<int64_t> class_counts() const;
};

// root/<class>/**/*.png|jpg|jpeg (extensions in any case): classes are the sorted names of
// root's sub-folders (hidden ones too, as ImageFolder), files are found in each class folder
// and its sub-folders (symbolic links to folders inside a class are not followed), ordered
// as ImageFolder orders them (by folder path, then name). Other files are ignored. IOError
// naming the root when it is not a folder, has no class folders or no images at all; naming
// the class folder when one has no images. Nothing is decoded.
ImageFileDataset scan_image_files(const std::string& root);

struct ImageFileSplit {
  ImageFileDataset train, val;
  std::string layout;  // "folders" (root/train + root/val or root/test) or "random"
};

// Training and validation sets from `root`:
//  - root has a train/ folder and a val/ (preferred) or test/ folder: each is scanned; their
//    class lists must be equal (IOError naming both folders and the first difference);
//    `val_fraction` and `seed` are not used;
//  - otherwise root itself is scanned and split at random, by class: each class gives
//    round(val_fraction * n) of its images to val, but at least 1 and at most n - 1 when it
//    has 2 or more, so every class is in both parts where possible. The same seed gives the
//    same split. ArgumentError unless 0 < val_fraction < 1.
ImageFileSplit split_image_files(const std::string& root, double val_fraction = 0.1, uint64_t seed = 0);
// The random, per-class split of an already scanned data set.
ImageFileSplit split_image_files(const ImageFileDataset& data, double val_fraction, uint64_t seed);

}  // namespace dlcraft
