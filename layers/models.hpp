// The model zoo by name, for the apps (classify, finetune, features) and bench.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "layers/resnet.hpp"
#include "layers/vgg.hpp"

namespace dlcraft {

// The names make_model knows.
std::vector<std::string> model_names();
// By name, for the apps: "resnet18" ... "resnet152", "vgg16", "vgg16_bn"; ArgumentError listing
// the names for anything else.
std::shared_ptr<Module> make_model(const std::string& name, int num_classes = 1000);
// A model made by make_model, with its classifier replaced (see reset_classifier).
void reset_classifier(Module& model, int num_classes);


}  // namespace dlcraft
