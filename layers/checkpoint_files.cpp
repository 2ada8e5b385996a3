// The commit protocol for the checkpoint pair PATH (weights) + PATH.optim (optimizer state).
// Every moment of a save leaves one of these on disk (W = PATH, O = PATH.optim, Wn = PATH.next,
// On = PATH.optim.next; "new" = the pair being saved):
//   writing On or Wn         W, O old and matching; On/Wn partial or complete  -> keep W, O
//   after rename On -> O     W old, O new, Wn new and complete                 -> Wn -> W
//   after rename Wn -> W     W, O new and matching
// so recover_checkpoint can always return to a matching pair, and never needs to delete W or O.
#include <cstdio>
#include <random>

#include "core/error.hpp"
#include "core/file_io.hpp"
#include "layers/checkpoint.hpp"

namespace dlcraft {

namespace {

std::string random_pair_id() {
  std::random_device rd;
  std::string id;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", unsigned(rd()));
    id += buf;
  }
  return id;
}

// One of the four files: absent, unreadable/partial, or complete with its pair id and epoch.
struct FileState {
  std::string path;
  bool exists = false, complete = false;
  std::string pair_id, epoch;
};

FileState inspect(const std::string& path) {
  FileState s;
  s.path = path;
  s.exists = file_exists(path);
  if (!s.exists) return s;
  try {
    Metadata m = read_safetensors_metadata(path);  // checks the size too: a half file fails
    s.complete = true;
    if (m.count("pair_id")) s.pair_id = m["pair_id"];
    if (m.count("epoch")) s.epoch = m["epoch"];
  } catch (const Error&) {
  }
  return s;
}

// Checkpoints from before pair ids match by epoch.
bool same_pair(const FileState& w, const FileState& o) {
  if (!w.complete || !o.complete) return false;
  if (!w.pair_id.empty() || !o.pair_id.empty()) return w.pair_id == o.pair_id;
  return !w.epoch.empty() && w.epoch == o.epoch;
}

}  // namespace

CheckpointRecovery recover_checkpoint(const std::string& path) {
  FileState w = inspect(path), o = inspect(optimizer_state_path(path));
  FileState wn = inspect(next_path(path)), on = inspect(next_path(optimizer_state_path(path)));
  CheckpointRecovery r;
  auto remove = [&](const FileState& s) {
    if (!s.exists) return;
    remove_file(s.path);
    r.removed.push_back(s.path);
  };
  auto roll = [&](const FileState& from, const std::string& to) {
    rename_durable(from.path, to);
    r.rolled_forward = true;
  };
  if (same_pair(w, o)) {
    r.pair = true;
    remove(wn), remove(on);  // a save that never committed (or its leftovers)
  } else if (same_pair(wn, on)) {
    roll(on, o.path), roll(wn, w.path);
  } else if (same_pair(wn, o)) {  // killed between the two renames
    roll(wn, w.path), remove(on);
  } else if (same_pair(w, on)) {
    roll(on, o.path), remove(wn);
  } else if (!o.exists && !on.exists) {  // weights alone (saved without an optimizer)
    if (!w.complete && wn.complete) roll(wn, w.path);
    else remove(wn);
  } else {
    // No pair to be had: drop what is half-written, keep anything complete for a human to see.
    if (!wn.complete) remove(wn);
    if (!on.complete) remove(on);
  }
  r.pair = r.pair || r.rolled_forward;
  if (r.rolled_forward)
    r.note = path + ": an interrupted save was completed (rolled forward to epoch " +
             inspect(path).epoch + ")";
  else if (!r.removed.empty())
    r.note = path + ": removed " + std::to_string(r.removed.size()) + " temp file(s) of an interrupted save";
  return r;
}

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const Metadata& metadata) {
  // First make what is on disk a whole pair again, so the temps below may be overwritten.
  recover_checkpoint(path);
  const std::string opath = optimizer_state_path(path), wnext = next_path(path), onext = next_path(opath);
  Metadata m = metadata;
  m["pair_id"] = random_pair_id();
  try {
    if (optimizer) {
      Metadata om{{"pair_id", m["pair_id"]}};
      if (m.count("epoch")) om["epoch"] = m["epoch"];
      write_file_durable(onext, [&](std::ostream& out) { write_safetensors(out, optimizer->state(), om); });
    }
    write_file_durable(wnext, [&](std::ostream& out) { write_safetensors(out, model.state_dict(), m); });
  } catch (...) {
    std::remove(onext.c_str());  // nothing is committed yet: the old pair stands
    std::remove(wnext.c_str());
    throw;
  }
  // The commit. Optimizer first: from here on PATH.next is what recovery needs, so it stays
  // even if the second rename fails.
  if (optimizer) rename_durable(onext, opath);
  rename_durable(wnext, path);
}

}  // namespace dlcraft
