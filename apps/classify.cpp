// classify: the notes' first chapter — a pretrained ImageNet model names what is in a photo.
//   classify --model resnet50 --weights resnet50.safetensors --labels imagenet_classes.txt cat.jpg
// Each image: Resize(256) -> CenterCrop(224) -> Normalize(ImageNet mean/std) (the transform the
// weights were trained with; docs/image_pipeline.md), the model in eval mode, softmax, and the
// top-5 classes with their probabilities, top-1 first. Weights: scripts/export_torchvision.py.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <thread>

#include "apps/app_common.hpp"
#include "apps/zoo_common.hpp"
#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/threads.hpp"
#include "datasets/image_io.hpp"
#include "datasets/image_transforms.hpp"

using namespace dlcraft;

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string model_name = "resnet50", weights, labels, device_name = "auto";
  std::vector<std::string> images;
  int top = 5, resize = 0, crop = 0, batch = 8;
  int threads = std::max(1u, std::thread::hardware_concurrency());
  CLI::App app{"Classify images with a pretrained ResNet or VGG (top-5 classes and probabilities)."};
  app.set_version_flag("--version", [] { return version_text(); });
  app.add_option("--model", model_name, "resnet18, resnet34, resnet50, resnet101, resnet152, vgg16 or vgg16_bn")
      ->check(CLI::IsMember(model_names()))->capture_default_str();
  app.add_option("--weights", weights, "the model's weights (.safetensors; scripts/export_torchvision.py or finetune)")->required();
  app.add_option("--labels", labels, "class names, one per line (default: the weights' own, else 'class N')");
  app.add_option("--device", device_name, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app.add_option("--top", top, "how many classes to print per image")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--resize", resize, "shorter side before the center crop (default: the weights' resize_size, else 256)")->check(CLI::Range(1, 8192));
  app.add_option("--crop", crop, "center crop, the model's input size (default: the weights' crop_size, else 224)")->check(CLI::Range(32, 8192));
  app.add_option("--batch-size", batch, "images per forward pass")->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("--threads", threads, "CPU threads")->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("images", images, "PNG or JPEG files of any size")->required();
  CLI11_PARSE(app, argc, argv);
  int failed = 0;
  try {
    set_num_threads(threads);
    const Device device = choose_device(device_name);
    ZooModel zoo = load_zoo_model(model_name, weights, device);
    if (zoo.num_classes == 0) throw IOError(weights + ": headless weights (no classifier): use `features` instead");
    const std::vector<std::string> classes = class_names_for(zoo, labels, weights);
    const ImageTransform transform = zoo_eval_transform(zoo, resize, crop, weights);
    NoGradGuard no_grad;
    for (size_t first = 0; first < images.size(); first += size_t(batch)) {
      // A batch at a time; an unreadable file is reported and skipped, the others still run.
      std::vector<std::string> ok;
      std::vector<float> pixels;
      for (size_t i = first; i < std::min(images.size(), first + size_t(batch)); ++i) {
        try {
          const RgbImage img = read_image(images[i]);
          pixels.resize(pixels.size() + size_t(transform.output_floats()));
          transform.apply(img, 0, pixels.data() + pixels.size() - size_t(transform.output_floats()));
          ok.push_back(images[i]);
        } catch (const Error& e) {  // unreadable, or too thin to resize: report, go on
          std::fprintf(stderr, "error: %s\n", e.what());
          ++failed;
        }
      }
      if (ok.empty()) continue;
      Tensor x = Tensor::from_vector(pixels, {int64_t(ok.size()), 3, transform.crop, transform.crop}, device);
      Tensor probs = softmax((*zoo.model)(x), 1);
      if (!all_finite(probs))
        throw IOError(weights + ": the model's output is NaN/Inf; these weights are unusable");
      const std::vector<float> p = probs.to_vector();
      const int n = zoo.num_classes;
      for (size_t i = 0; i < ok.size(); ++i) {
        std::vector<int> order(static_cast<size_t>(n));
        std::iota(order.begin(), order.end(), 0);
        const float* row = p.data() + i * size_t(n);
        const int k = std::min(top, n);
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](int a, int b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
        std::printf("%s\n", ok[i].c_str());
        for (int j = 0; j < k; ++j)
          std::printf("  %6.2f%%  %s (%d)\n", 100.0 * row[order[j]], classes[order[j]].c_str(), order[j]);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return failed ? 1 : 0;
}
