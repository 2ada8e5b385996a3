// What classify, finetune and features share: a model-zoo model built to fit a weights file
// (its class count read from the head's shape) and loaded from it, and label files.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/device.hpp"
#include "datasets/image_transforms.hpp"
#include "layers/checkpoint_metadata.hpp"
#include "layers/models.hpp"

namespace dlcraft {

struct ZooModel {
  std::shared_ptr<Module> model;
  int num_classes = 0;  // the head's outputs (0: headless weights)
  Metadata metadata;    // the file's safetensors metadata
};

// make_model(name) sized to the weights' head ("fc.weight" for ResNets, "classifier.6.weight"
// for VGGs), the weights loaded (strict; F16/BF16 become float32), checked finite, moved to
// `device`, in eval mode. IOError naming the file when it is missing or unreadable, or when it
// does not hold `name`'s weights (listing the first mismatched names, and which model it may be).
ZooModel load_zoo_model(const std::string& name, const std::string& weights, Device device);

// One class name per line (ImageNet's 1000 from scripts/export_torchvision.py); blank lines
// at the end are dropped. IOError naming the file when it is unreadable or its line count is
// not `expected`.
std::vector<std::string> read_labels(const std::string& path, int expected);

// Class names for a zoo model's outputs: --labels if given, else the weights' "classes"
// metadata (finetune writes it), else "class 0", "class 1", ...
std::vector<std::string> class_names_for(const ZooModel& m, const std::string& labels_path,
                                         const std::string& weights);

// The evaluation transform for a weights file: Resize(resize) + CenterCrop(crop) + Normalize,
// each taken from the flag when given (> 0), else from the file's metadata ("resize_size",
// "crop_size", "normalize_mean", "normalize_std": what export_torchvision.py and finetune
// write; ResNet-50's V2 weights want 232, not 256), else torchvision's 256 / 224 / ImageNet.
ImageTransform zoo_eval_transform(const ZooModel& m, int resize_flag, int crop_flag, const std::string& weights);

}  // namespace dlcraft
