// ResNet-18/34/50/101/152 (He et al. 2015) exactly as torchvision builds them, so torchvision's
// state_dict loads by name: conv1 (7x7/2) bn1 relu maxpool (3x3/2 pad 1), layer1..layer4 of
// BasicBlocks (18, 34) or Bottlenecks (50, 101, 152; stride on the 3x3 conv, "ResNet v1.5"),
// adaptive average pool to 1x1, fc. A block's "downsample" (1x1 conv + BN) projects the
// shortcut when the shape changes. See docs/resnet.md.
#pragma once
#include <array>
#include <memory>
#include <string>

#include "layers/layers.hpp"

namespace dlcraft {

// Two 3x3 convs; expansion 1.
class ResNetBasicBlock : public Module {
 public:
  static constexpr int kExpansion = 1;
  ResNetBasicBlock(int in_planes, int planes, int stride, bool downsample);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BasicBlock"; }
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Sequential> downsample;  // null when the shortcut is the identity
};

// 1x1 (reduce) -> 3x3 (stride) -> 1x1 (expand x4).
class Bottleneck : public Module {
 public:
  static constexpr int kExpansion = 4;
  Bottleneck(int in_planes, int planes, int stride, bool downsample);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Bottleneck"; }
  std::shared_ptr<Conv2d> conv1, conv2, conv3;
  std::shared_ptr<BatchNorm2d> bn1, bn2, bn3;
  std::shared_ptr<Sequential> downsample;
};

class ResNet : public Module {
 public:
  // bottleneck: Bottleneck blocks instead of BasicBlocks; layers: blocks per stage ({2,2,2,2}
  // for ResNet-18); width: the stem's and layer1's planes (64 in every torchvision model; the
  // stages use width, 2, 4 and 8 times it; smaller widths make the tiny test models). Weights
  // are initialised as torchvision does (kaiming normal fan_out for convs, BN weight 1 bias 0,
  // Linear's default), from the default generator.
  ResNet(bool bottleneck, std::array<int, 4> layers, int num_classes = 1000, int width = 64);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ResNet"; }
  // A new fc with num_classes outputs (transfer learning); Identity when num_classes is 0,
  // leaving the pooled features (512 or 2048 wide).
  void reset_classifier(int num_classes);
  int num_features() const { return num_features_; }  // the fc's input width

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<ReLU> relu;
  std::shared_ptr<MaxPool2d> maxpool;
  std::shared_ptr<Sequential> layer1, layer2, layer3, layer4;
  std::shared_ptr<AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<Module> fc;  // Linear, or Identity after reset_classifier(0)

 private:
  std::shared_ptr<Sequential> make_layer(bool bottleneck, int& in_planes, int planes, int blocks, int stride);
  int num_features_ = 0;
};

std::shared_ptr<ResNet> resnet18(int num_classes = 1000);
std::shared_ptr<ResNet> resnet34(int num_classes = 1000);
std::shared_ptr<ResNet> resnet50(int num_classes = 1000);
std::shared_ptr<ResNet> resnet101(int num_classes = 1000);
std::shared_ptr<ResNet> resnet152(int num_classes = 1000);

}  // namespace dlcraft
