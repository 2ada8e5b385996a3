// Checkpoints. The weights go to PATH as safetensors with PyTorch's state_dict names, so
//   model.load_state_dict(safetensors.torch.load_file(PATH))
// works in PyTorch; free-form metadata (epoch, normalisation, ...) rides in its header.
// The optimizer state goes beside it to PATH.optim (also safetensors).
//
// The two files are one pair: both carry the same random "pair_id" (and the "epoch"), and they
// are committed so that a kill at any moment leaves a pair a resume can use
// (layers/checkpoint_files.cpp; docs/architecture.md, "Checkpoints"):
//   1. recover_checkpoint(PATH): finish or clean up what an earlier, killed save left;
//   2. write PATH.optim.next and PATH.next in full and fsync them;
//   3. rename PATH.optim.next -> PATH.optim, then PATH.next -> PATH (fsync of the directory).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/safetensors.hpp"
#include "layers/checkpoint_metadata.hpp"
#include "layers/module.hpp"
#include "optim/optimizer.hpp"

namespace dlcraft {

std::string optimizer_state_path(const std::string& weights_path);  // PATH.optim
std::string next_path(const std::string& path);                     // PATH.next: a save in progress

// Saves the pair as above (weights alone when `optimizer` is null). Adds "pair_id" to the
// metadata; the optimizer file gets "pair_id" and, when given, "epoch".
void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const Metadata& metadata);

// What recover_checkpoint found and did.
struct CheckpointRecovery {
  bool pair = false;                 // PATH and PATH.optim now match
  bool rolled_forward = false;       // a complete .next file was renamed into place
  std::vector<std::string> removed;  // stale or partial temp files deleted
  std::string note;                  // one line for the user, empty when there was nothing to do
};
// Makes PATH / PATH.optim a matching pair again after a save was killed: when they do not
// match but complete .next files do, rolls forward; removes temps that are partial or no
// longer needed. Never removes PATH or PATH.optim; does nothing when nothing is there.
CheckpointRecovery recover_checkpoint(const std::string& path);

// Loads the weights (strict: every name and shape must match, no extra tensors) and returns
// the metadata.
Metadata load_weights(const std::string& path, Module& model);
// Loads PATH.optim into the optimizer. It must belong to the weights whose metadata is given:
// the same pair_id (checkpoints from before pair ids: the same epoch).
void load_optimizer_state(const std::string& path, Optimizer& optimizer, const Metadata& weights_metadata);
// Older form: PATH.optim's "epoch" must equal `expected_epoch`.
void load_optimizer_state(const std::string& path, Optimizer& optimizer, const std::string& expected_epoch);
// The tensors of an optimizer file (already parsed; `name` for messages) into the optimizer:
// exactly the names and shapes optimizer.state() has, and a valid step count.
void apply_optimizer_state(const SafeTensors& st, const std::string& name, Optimizer& optimizer);

}  // namespace dlcraft
