#include "apps/zoo_common.hpp"

#include <fstream>

#include "apps/app_common.hpp"
#include "core/error.hpp"
#include "core/safetensors.hpp"

namespace dlcraft {

namespace {
// The head's weight decides the class count; a headless file (reset_classifier(0)) has none.
int head_classes(const std::string& name, const std::map<std::string, Tensor>& tensors) {
  const std::string key = name.rfind("vgg", 0) == 0 ? "classifier.6.weight" : "fc.weight";
  auto it = tensors.find(key);
  if (it == tensors.end() || it->second.dim() != 2) return 0;
  return int(it->second.size(0));
}

// Which zoo model a state dict looks like, from its names alone (building every model to
// compare would cost seconds): "" when none.
std::string guess_model(const std::map<std::string, Tensor>& tensors) {
  if (tensors.count("features.0.weight")) return tensors.count("features.1.running_mean") ? "vgg16_bn" : "vgg16";
  if (!tensors.count("conv1.weight") || !tensors.count("layer1.0.conv1.weight")) return "";
  int blocks = 0;  // in layer3: 2, 6, 6, 23, 36 for ResNet-18/34/50/101/152
  while (tensors.count("layer3." + std::to_string(blocks) + ".conv1.weight")) ++blocks;
  const bool bottleneck = tensors.count("layer1.0.conv3.weight") > 0;
  if (!bottleneck) return blocks == 2 ? "resnet18" : blocks == 6 ? "resnet34" : "";
  return blocks == 6 ? "resnet50" : blocks == 23 ? "resnet101" : blocks == 36 ? "resnet152" : "";
}
}  // namespace

ZooModel load_zoo_model(const std::string& name, const std::string& weights, Device device) {
  ZooModel out;
  SafeTensors st = load_safetensors(weights);
  out.metadata = st.metadata;
  out.num_classes = head_classes(name, st.tensors);
  out.model = make_model(name, std::max(1, out.num_classes));
  if (out.num_classes == 0) reset_classifier(*out.model, 0);
  try {
    out.model->load_state_dict(st.tensors, true);
  } catch (const Error& e) {
    const std::string guess = guess_model(st.tensors);
    throw IOError(weights + ": not " + name + " weights" +
                  (guess.empty() || guess == name ? std::string() : " (they look like " + guess + ")") + ": " +
                  e.what());
  }
  out.model->to(device);
  check_finite_weights(*out.model, weights);
  out.model->eval();
  return out;
}

ImageTransform zoo_eval_transform(const ZooModel& m, int resize_flag, int crop_flag, const std::string& weights) {
  const Metadata& md = m.metadata;
  const int resize = resize_flag > 0 ? resize_flag
                     : md.count("resize_size") ? int(get_metadata_int(md, "resize_size", weights, 1, 8192))
                                               : 256;
  const int crop = crop_flag > 0 ? crop_flag
                   : md.count("crop_size") ? int(get_metadata_int(md, "crop_size", weights, 1, 8192))
                                           : 224;
  ImageTransform t = eval_transform(resize, crop);
  if (md.count("normalize_mean") && md.count("normalize_std")) {
    const std::vector<float> mean = get_metadata_floats(md, "normalize_mean", weights, 3, false);
    const std::vector<float> std = get_metadata_floats(md, "normalize_std", weights, 3, true);
    std::copy(mean.begin(), mean.end(), t.mean.begin());
    std::copy(std.begin(), std.end(), t.std.begin());
  }
  return t;
}

std::vector<std::string> read_labels(const std::string& path, int expected) {
  std::ifstream in(path);
  if (!in) throw IOError(path + ": cannot read the labels file");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    names.push_back(line);
  }
  while (!names.empty() && names.back().empty()) names.pop_back();
  if (int(names.size()) != expected)
    throw IOError(path + ": " + std::to_string(names.size()) + " labels, but the model has " +
                  std::to_string(expected) + " classes");
  return names;
}

std::vector<std::string> class_names_for(const ZooModel& m, const std::string& labels_path,
                                         const std::string& weights) {
  if (!labels_path.empty()) return read_labels(labels_path, m.num_classes);
  if (m.metadata.count("classes")) {
    std::vector<std::string> names = get_class_names(m.metadata, weights);
    if (int(names.size()) != m.num_classes)
      throw IOError(weights + ": metadata 'classes' has " + std::to_string(names.size()) + " names for " +
                    std::to_string(m.num_classes) + " outputs");
    return names;
  }
  std::vector<std::string> names;
  for (int i = 0; i < m.num_classes; ++i) names.push_back("class " + std::to_string(i));
  return names;
}

}  // namespace dlcraft
