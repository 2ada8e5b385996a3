// Checkpoints. The weights go to PATH as safetensors with PyTorch's state_dict names, so
//   model.load_state_dict(safetensors.torch.load_file(PATH))
// works in PyTorch; free-form metadata (epoch, normalisation, ...) rides in its header.
// The optimizer state goes beside it to PATH.optim (also safetensors). Both are written to a
// temporary file and renamed, and both carry the metadata's "epoch" so a mismatched pair is
// caught on load.
#pragma once
#include <map>
#include <string>

#include "layers/module.hpp"
#include "optim/optimizer.hpp"

namespace dlcraft {

using Metadata = std::map<std::string, std::string>;

std::string optimizer_state_path(const std::string& weights_path);

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const Metadata& metadata);
// Loads the weights (strict: every name and shape must match) and returns the metadata.
Metadata load_weights(const std::string& path, Module& model);
// Loads PATH.optim into the optimizer; its "epoch" must equal `expected_epoch`.
void load_optimizer_state(const std::string& path, Optimizer& optimizer,
                          const std::string& expected_epoch);

}  // namespace dlcraft
