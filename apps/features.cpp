// features: a pretrained network as a feature extractor (the notes' transfer learning, first
// way): run the images up to one named layer and save its output.
//   features --model vgg16 --layer features.23 --weights vgg16.safetensors a.jpg b.png --out f.safetensors
// features.23 is VGG-16's fourth pool (Keras' block4_pool); for ResNets e.g. layer4 or avgpool.
// `--list-layers` prints the names. The output file holds "features" (N, ...) in the order of
// the images given, and the image paths, model and layer in its metadata (JSON list "images").
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "apps/app_common.hpp"
#include "apps/zoo_common.hpp"
#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/safetensors.hpp"
#include "core/threads.hpp"
#include "datasets/image_loader.hpp"

using namespace dlcraft;

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string model_name = "vgg16", weights, layer, out, device_name = "auto";
  std::vector<std::string> images;
  int resize = 0, crop = 0, batch = 8;
  int threads = std::max(1u, std::thread::hardware_concurrency());
  bool list_layers = false;
  CLI::App app{"Extract the output of one layer of a pretrained ResNet or VGG for each image."};
  app.set_version_flag("--version", [] { return version_text(); });
  app.add_option("--model", model_name, "resnet18 ... resnet152, vgg16 or vgg16_bn")
      ->check(CLI::IsMember(model_names()))->capture_default_str();
  app.add_option("--weights", weights, "the model's weights (.safetensors)");
  app.add_option("--layer", layer, "module name whose output to keep (see --list-layers), e.g. features.23");
  app.add_option("--out", out, "output .safetensors file (written atomically)");
  app.add_option("--device", device_name, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app.add_option("--resize", resize, "shorter side before the center crop (default: the weights' resize_size, else 256)")->check(CLI::Range(1, 8192));
  app.add_option("--crop", crop, "center crop, the model's input size (default: the weights' crop_size, else 224)")->check(CLI::Range(32, 8192));
  app.add_option("--batch-size", batch, "images per forward pass")->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("--threads", threads, "CPU threads")->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_flag("--list-layers", list_layers, "print the model's module names and types, then exit");
  app.add_option("images", images, "PNG or JPEG files of any size");
  CLI11_PARSE(app, argc, argv);
  try {
    if (list_layers) {
      std::shared_ptr<Module> m = make_model(model_name);
      for (auto& [name, mod] : m->named_modules())
        if (!name.empty()) std::printf("%-28s %s\n", name.c_str(), mod->type_name().c_str());
      return 0;
    }
    if (weights.empty() || layer.empty() || out.empty() || images.empty())
      throw ArgumentError("--weights, --layer, --out and at least one image are required");
    set_num_threads(threads);
    const Device device = choose_device(device_name);
    ZooModel zoo = load_zoo_model(model_name, weights, device);
    zoo.model->submodule(layer);  // a bad name fails before any image is read
    const ImageTransform transform = zoo_eval_transform(zoo, resize, crop, weights);
    NoGradGuard no_grad;
    std::vector<Tensor> parts;
    for (size_t first = 0; first < images.size(); first += size_t(batch)) {
      const std::vector<std::string> paths(images.begin() + first,
                                           images.begin() + std::min(images.size(), first + size_t(batch)));
      parts.push_back(extract_features(*zoo.model, load_image_batch(paths, transform, device), layer).to(Device::cpu()));
    }
    Tensor features = parts.size() == 1 ? parts.front() : cat(parts, 0);
    nlohmann::json paths = images;
    save_safetensors(out, {{"features", features}},
                     {{"model", model_name}, {"layer", layer}, {"images", paths.dump()}, {"transform", transform.str()}});
    std::printf("%s: %s output of %s for %zu images -> %s\n", layer.c_str(), to_string(features.shape()).c_str(),
                model_name.c_str(), images.size(), out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
