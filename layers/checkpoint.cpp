#include "layers/checkpoint.hpp"

#include "core/error.hpp"

namespace dlcraft {

std::string optimizer_state_path(const std::string& weights_path) { return weights_path + ".optim"; }
std::string next_path(const std::string& path) { return path + ".next"; }

Metadata load_weights(const std::string& path, Module& model) {
  SafeTensors st = load_safetensors(path);
  try {
    model.load_state_dict(st.tensors, true);
  } catch (const Error& e) {
    throw IOError(path + ": " + e.what());
  }
  return st.metadata;
}

void apply_optimizer_state(const SafeTensors& st, const std::string& name, Optimizer& optimizer) {
  // The optimizers look up the names they need; a file with more is not theirs.
  const std::map<std::string, Tensor> expected = optimizer.state();
  for (const auto& [key, t] : st.tensors)
    if (!expected.count(key)) throw IOError(name + ": unexpected tensor '" + key + "' in the optimizer state");
  try {
    optimizer.load_state(st.tensors);
  } catch (const Error& e) {
    throw IOError(name + ": " + e.what());
  }
}

namespace {

std::string get_or(const Metadata& m, const std::string& key, const std::string& fallback) {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

}  // namespace

void load_optimizer_state(const std::string& path, Optimizer& optimizer, const Metadata& weights_metadata) {
  const std::string opath = optimizer_state_path(path);
  SafeTensors st = load_safetensors(opath);
  const std::string wid = get_or(weights_metadata, "pair_id", ""), oid = get_or(st.metadata, "pair_id", "");
  const std::string wepoch = get_or(weights_metadata, "epoch", "?"), oepoch = get_or(st.metadata, "epoch", "?");
  const bool match = (!wid.empty() || !oid.empty()) ? wid == oid : wepoch == oepoch && wepoch != "?";
  if (!match)
    throw IOError(opath + ": optimizer state (pair_id '" + oid + "', epoch " + oepoch +
                  ") does not belong to " + path + " (pair_id '" + wid + "', epoch " + wepoch + ")");
  apply_optimizer_state(st, opath, optimizer);
}

void load_optimizer_state(const std::string& path, Optimizer& optimizer, const std::string& expected_epoch) {
  const std::string opath = optimizer_state_path(path);
  SafeTensors st = load_safetensors(opath);
  const std::string epoch = get_or(st.metadata, "epoch", "?");
  if (epoch != expected_epoch)
    throw IOError(opath + ": optimizer state is from epoch " + epoch + " but " + path +
                  " is from epoch " + expected_epoch);
  apply_optimizer_state(st, opath, optimizer);
}

}  // namespace dlcraft
