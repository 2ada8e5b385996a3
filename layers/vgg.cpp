#include "layers/vgg.hpp"

#include "core/error.hpp"
#include "core/random.hpp"
#include "layers/init.hpp"

namespace dlcraft {

namespace {
// VGG-16's "configuration D": conv widths in units of `width` (64 in the paper), 0 = 2x2 max pool.
constexpr int kConfigD[] = {1, 1, 0, 2, 2, 0, 4, 4, 4, 0, 8, 8, 8, 0, 8, 8, 8, 0};
}  // namespace

VGG::VGG(bool batch_norm, int num_classes, double dropout, int width, int hidden) : hidden_(hidden) {
  if (width < 1 || hidden < 1 || num_classes < 0)
    throw ArgumentError("VGG: width and hidden must be >= 1, num_classes >= 0");
  features = register_module("features", std::make_shared<Sequential>());
  int in = 3;
  for (int units : kConfigD) {
    if (units == 0) {
      features->add(std::make_shared<MaxPool2d>(2, 2));
      continue;
    }
    const int out = units * width;
    features->add(std::make_shared<Conv2d>(in, out, 3, 1, 1));
    if (batch_norm) features->add(std::make_shared<BatchNorm2d>(out));
    features->add(std::make_shared<ReLU>());
    in = out;
  }
  avgpool = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>(7));
  classifier = register_module("classifier", std::make_shared<Sequential>());
  classifier->add(std::make_shared<Linear>(in * 7 * 7, hidden));
  classifier->add(std::make_shared<ReLU>());
  classifier->add(std::make_shared<Dropout>(dropout));
  classifier->add(std::make_shared<Linear>(hidden, hidden));
  classifier->add(std::make_shared<ReLU>());
  classifier->add(std::make_shared<Dropout>(dropout));
  if (num_classes == 0)
    classifier->add(std::make_shared<Identity>());
  else
    classifier->add(std::make_shared<Linear>(hidden, num_classes));

  // torchvision's init: He-normal convs (fan_out) with zero bias, N(0, 0.01) linears with zero
  // bias; BatchNorm keeps weight 1, bias 0.
  for (auto& [name, m] : named_modules()) {
    if (auto* conv = dynamic_cast<Conv2d*>(m)) {
      init_kaiming_normal_fan_out(conv->weight, default_generator());
      conv->bias.fill_(0.0f);
    } else if (auto* fc = dynamic_cast<Linear*>(m)) {
      init_normal(fc->weight, 0.0f, 0.01f, default_generator());
      fc->bias.fill_(0.0f);
    }
  }
}

Tensor VGG::forward(const Tensor& x) {
  if (x.dim() != 4 || x.size(1) != 3)
    throw ShapeError(who() + ": expected images (N,3,H,W), got " + to_string(x.shape()));
  return (*classifier)(flatten((*avgpool)((*features)(x)), 1));
}

void VGG::reset_classifier(int num_classes) {
  if (num_classes < 0) throw ArgumentError("reset_classifier: num_classes must be >= 0");
  if (num_classes == 0)
    replace_module("classifier.6", std::make_shared<Identity>());
  else
    replace_module("classifier.6", std::make_shared<Linear>(hidden_, num_classes));
}

std::shared_ptr<VGG> vgg16(int num_classes) { return std::make_shared<VGG>(false, num_classes); }
std::shared_ptr<VGG> vgg16_bn(int num_classes) { return std::make_shared<VGG>(true, num_classes); }

}  // namespace dlcraft
