// VGG-16 (Simonyan & Zisserman 2014) as torchvision builds it: "features" is a Sequential of
// 3x3 convs (padding 1) + ReLU (+ BatchNorm2d between them for vgg16_bn) and 2x2 max pools,
// then "avgpool" (adaptive, 7x7) and "classifier" = Linear(25088, 4096) ReLU Dropout
// Linear(4096, 4096) ReLU Dropout Linear(4096, num_classes). The module names ("features.23"
// is vgg16's 4th pool, the notes' block4_pool) match torchvision's. See docs/resnet.md.
#pragma once
#include <memory>
#include <string>

#include "layers/layers.hpp"

namespace dlcraft {

class VGG : public Module {
 public:
  // batch_norm: vgg16_bn. width: the first convs' channels (64; the stages use 1, 2, 4, 8, 8
  // times it) and hidden: the classifier's width (4096); smaller ones make the tiny test
  // models. Init as torchvision: kaiming normal (fan_out) convs with zero bias, N(0, 0.01)
  // linears with zero bias, BN weight 1 bias 0.
  VGG(bool batch_norm, int num_classes = 1000, double dropout = 0.5, int width = 64, int hidden = 4096);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "VGG"; }
  // A new last Linear ("classifier.6") with num_classes outputs; 0 makes it an Identity.
  void reset_classifier(int num_classes);

  std::shared_ptr<Sequential> features;
  std::shared_ptr<AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<Sequential> classifier;

 private:
  int hidden_;
};

std::shared_ptr<VGG> vgg16(int num_classes = 1000);
std::shared_ptr<VGG> vgg16_bn(int num_classes = 1000);

}  // namespace dlcraft
