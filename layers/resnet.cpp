#include "layers/resnet.hpp"

#include "core/error.hpp"
#include "core/random.hpp"
#include "layers/init.hpp"

namespace dlcraft {

namespace {
std::shared_ptr<Conv2d> conv3x3(int in, int out, int stride) {
  return std::make_shared<Conv2d>(in, out, 3, stride, 1, /*bias=*/false);
}
std::shared_ptr<Conv2d> conv1x1(int in, int out, int stride) {
  return std::make_shared<Conv2d>(in, out, 1, stride, 0, /*bias=*/false);
}
// The shortcut's projection when the block changes the shape: 1x1 conv (stride) + BN.
std::shared_ptr<Sequential> projection(int in, int out, int stride) {
  return std::make_shared<Sequential>(
      std::initializer_list<std::shared_ptr<Module>>{conv1x1(in, out, stride), std::make_shared<BatchNorm2d>(out)});
}
}  // namespace

ResNetBasicBlock::ResNetBasicBlock(int in_planes, int planes, int stride, bool with_downsample) {
  conv1 = register_module("conv1", conv3x3(in_planes, planes, stride));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, 1));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  if (with_downsample) downsample = register_module("downsample", projection(in_planes, planes, stride));
}

Tensor ResNetBasicBlock::forward(const Tensor& x) {
  Tensor out = relu((*bn1)((*conv1)(x)));
  out = (*bn2)((*conv2)(out));
  // The residual join: the block learns F(x) and outputs relu(F(x) + x).
  return relu(out + (downsample ? (*downsample)(x) : x));
}

Bottleneck::Bottleneck(int in_planes, int planes, int stride, bool with_downsample) {
  conv1 = register_module("conv1", conv1x1(in_planes, planes, 1));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, stride));  // v1.5: stride here
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  conv3 = register_module("conv3", conv1x1(planes, planes * kExpansion, 1));
  bn3 = register_module("bn3", std::make_shared<BatchNorm2d>(planes * kExpansion));
  if (with_downsample)
    downsample = register_module("downsample", projection(in_planes, planes * kExpansion, stride));
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = relu((*bn1)((*conv1)(x)));
  out = relu((*bn2)((*conv2)(out)));
  out = (*bn3)((*conv3)(out));
  return relu(out + (downsample ? (*downsample)(x) : x));
}

std::shared_ptr<Sequential> ResNet::make_layer(bool bottleneck, int& in_planes, int planes, int blocks,
                                               int stride) {
  const int expansion = bottleneck ? Bottleneck::kExpansion : ResNetBasicBlock::kExpansion;
  auto layer = std::make_shared<Sequential>();
  for (int i = 0; i < blocks; ++i) {
    const int s = i == 0 ? stride : 1;
    const bool down = i == 0 && (stride != 1 || in_planes != planes * expansion);
    if (bottleneck)
      layer->add(std::make_shared<Bottleneck>(in_planes, planes, s, down));
    else
      layer->add(std::make_shared<ResNetBasicBlock>(in_planes, planes, s, down));
    in_planes = planes * expansion;
  }
  return layer;
}

ResNet::ResNet(bool bottleneck, std::array<int, 4> layers, int num_classes, int width) {
  if (width < 1 || num_classes < 0) throw ArgumentError("ResNet: width must be >= 1 and num_classes >= 0");
  for (int b : layers)
    if (b < 1) throw ArgumentError("ResNet: every stage needs at least one block");
  int in_planes = width;
  conv1 = register_module("conv1", std::make_shared<Conv2d>(3, width, 7, 2, 3, /*bias=*/false));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(width));
  relu = register_module("relu", std::make_shared<ReLU>());
  maxpool = register_module("maxpool", std::make_shared<MaxPool2d>(3, 2, 1));
  layer1 = register_module("layer1", make_layer(bottleneck, in_planes, width, layers[0], 1));
  layer2 = register_module("layer2", make_layer(bottleneck, in_planes, width * 2, layers[1], 2));
  layer3 = register_module("layer3", make_layer(bottleneck, in_planes, width * 4, layers[2], 2));
  layer4 = register_module("layer4", make_layer(bottleneck, in_planes, width * 8, layers[3], 2));
  avgpool = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>(1));
  num_features_ = in_planes;
  if (num_classes == 0)
    fc = register_module("fc", std::make_shared<Identity>());
  else
    fc = register_module("fc", std::make_shared<Linear>(num_features_, num_classes));

  // torchvision's init: He-normal convs (fan_out), BN weight 1 and bias 0 (their constructor's
  // default), the Linear keeps its default.
  for (auto& [name, m] : named_modules())
    if (auto* conv = dynamic_cast<Conv2d*>(m)) init_kaiming_normal_fan_out(conv->weight, default_generator());
}

Tensor ResNet::forward(const Tensor& x) {
  if (x.dim() != 4 || x.size(1) != 3)
    throw ShapeError(who() + ": expected images (N,3,H,W), got " + to_string(x.shape()));
  Tensor h = (*maxpool)((*relu)((*bn1)((*conv1)(x))));
  h = (*layer4)((*layer3)((*layer2)((*layer1)(h))));
  return (*fc)(flatten((*avgpool)(h), 1));
}

void ResNet::reset_classifier(int num_classes) {
  if (num_classes < 0) throw ArgumentError("reset_classifier: num_classes must be >= 0");
  if (num_classes == 0)
    fc = replace_module("fc", std::make_shared<Identity>());
  else
    fc = replace_module("fc", std::make_shared<Linear>(num_features_, num_classes));
}

std::shared_ptr<ResNet> resnet18(int n) { return std::make_shared<ResNet>(false, std::array<int, 4>{2, 2, 2, 2}, n); }
std::shared_ptr<ResNet> resnet34(int n) { return std::make_shared<ResNet>(false, std::array<int, 4>{3, 4, 6, 3}, n); }
std::shared_ptr<ResNet> resnet50(int n) { return std::make_shared<ResNet>(true, std::array<int, 4>{3, 4, 6, 3}, n); }
std::shared_ptr<ResNet> resnet101(int n) { return std::make_shared<ResNet>(true, std::array<int, 4>{3, 4, 23, 3}, n); }
std::shared_ptr<ResNet> resnet152(int n) { return std::make_shared<ResNet>(true, std::array<int, 4>{3, 8, 36, 3}, n); }

}  // namespace dlcraft
