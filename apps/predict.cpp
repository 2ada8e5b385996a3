// predict: classify images with a checkpoint written by train_cifar.
//   predict --weights model.safetensors cat.jpg dog.png
// Any size of PNG/JPEG: resized to 32x32, normalised with the statistics stored in the
// checkpoint, then the top-5 classes with their probabilities.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <numeric>

#include "apps/app_common.hpp"
#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/safetensors.hpp"
#include "core/threads.hpp"
#include "datasets/image_io.hpp"
#include "layers/cnn.hpp"

using namespace dlcraft;

int main(int argc, char** argv) {
  std::string weights, device_name = "cpu";
  std::vector<std::string> images;
  int top = 5;
  CLI::App app{"Classify images with a CNN checkpoint written by train_cifar."};
  app.set_version_flag("--version", [] { return version_text(); });
  app.add_option("--weights", weights, "checkpoint (.safetensors) from train_cifar --save")->required();
  app.add_option("--device", device_name, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
  app.add_option("--top", top, "how many classes to print")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("images", images, "PNG or JPEG files")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    const Device device = choose_device(device_name);
    const Metadata meta = read_safetensors_metadata(weights);
    const Normalization norm = get_normalization(meta, weights);
    const std::vector<std::string> classes = get_class_names(meta, weights);
    CNN model(int(classes.size()));
    load_weights(weights, model);
    model.to(device);
    check_finite_weights(model, weights);
    NoGradGuard no_grad;
    for (const std::string& path : images) {
      RgbImage img = resize_bilinear(read_image(path), 32, 32);
      std::vector<uint8_t> chw(3 * 32 * 32);
      hwc_to_chw(img, chw.data());
      std::vector<float> x(chw.size());
      normalize_image(chw.data(), x.data(), norm);
      Tensor probs = softmax(model(Tensor::from_vector(x, {1, 3, 32, 32}, device)), 1);
      // Finite weights can still overflow (or a damaged normalisation divide by 0): never
      // print "nan%" as if it were an answer.
      if (!all_finite(probs))
        throw IOError(weights + ": the model's output for " + path +
                      " is NaN/Inf; these weights (or their normalisation) are unusable");
      std::vector<float> p = probs.to_vector();
      std::vector<int> order(p.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
      std::printf("%s\n", path.c_str());
      for (int i = 0; i < std::min<int>(top, int(order.size())); ++i)
        std::printf("  %s %.2f%%\n", classes[order[i]].c_str(), 100.0 * p[order[i]]);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
