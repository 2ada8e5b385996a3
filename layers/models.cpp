#include "layers/models.hpp"

#include "core/error.hpp"

namespace dlcraft {

std::vector<std::string> model_names() {
  return {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16", "vgg16_bn"};
}

std::shared_ptr<Module> make_model(const std::string& name, int num_classes) {
  if (name == "resnet18") return resnet18(num_classes);
  if (name == "resnet34") return resnet34(num_classes);
  if (name == "resnet50") return resnet50(num_classes);
  if (name == "resnet101") return resnet101(num_classes);
  if (name == "resnet152") return resnet152(num_classes);
  if (name == "vgg16") return vgg16(num_classes);
  if (name == "vgg16_bn") return vgg16_bn(num_classes);
  std::string known;
  for (auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  throw ArgumentError("unknown model '" + name + "' (known: " + known + ")");
}

void reset_classifier(Module& model, int num_classes) {
  if (auto* r = dynamic_cast<ResNet*>(&model)) return r->reset_classifier(num_classes);
  if (auto* v = dynamic_cast<VGG*>(&model)) return v->reset_classifier(num_classes);
  throw ArgumentError("reset_classifier: " + model.type_name() + " is not a ResNet or VGG");
}

}  // namespace dlcraft
