#include "layers/checkpoint.hpp"

#include "core/error.hpp"
#include "core/safetensors.hpp"

namespace dlcraft {

std::string optimizer_state_path(const std::string& weights_path) { return weights_path + ".optim"; }

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const Metadata& metadata) {
  // Optimizer first: if we stop between the two writes, the weights file still holds the
  // previous epoch and the epoch check on resume reports the mismatch.
  if (optimizer) {
    Metadata m;
    if (metadata.count("epoch")) m["epoch"] = metadata.at("epoch");
    save_safetensors(optimizer_state_path(path), optimizer->state(), m);
  }
  save_safetensors(path, model.state_dict(), metadata);
}

Metadata load_weights(const std::string& path, Module& model) {
  SafeTensors st = load_safetensors(path);
  try {
    model.load_state_dict(st.tensors, true);
  } catch (const Error& e) {
    throw IOError(path + ": " + e.what());
  }
  return st.metadata;
}

void load_optimizer_state(const std::string& path, Optimizer& optimizer,
                          const std::string& expected_epoch) {
  const std::string opath = optimizer_state_path(path);
  SafeTensors st = load_safetensors(opath);
  auto it = st.metadata.find("epoch");
  if (it == st.metadata.end() || it->second != expected_epoch)
    throw IOError(opath + ": optimizer state is from epoch " +
                  (it == st.metadata.end() ? std::string("?") : it->second) + " but " + path +
                  " is from epoch " + expected_epoch);
  try {
    optimizer.load_state(st.tensors);
  } catch (const Error& e) {
    throw IOError(opath + ": " + e.what());
  }
}

}  // namespace dlcraft
