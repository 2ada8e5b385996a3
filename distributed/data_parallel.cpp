// Broadcast of the model and optimizer state, and the gradient buckets
// (distributed/data_parallel.hpp). Only process_group.cpp talks to MPI.
#include "distributed/data_parallel.hpp"

#include <cstring>
#include <sstream>

#include "core/autograd.hpp"
#include "distributed/process_group.hpp"

namespace dlcraft {
namespace distributed {

namespace {

// "name dtype [d0,d1,...]" per line: what must be equal on every rank before tensors are sent.
std::string describe(const std::string& name, const Tensor& t) {
  std::string s = name + " " + to_string(t.dtype()) + " [";
  for (size_t i = 0; i < t.shape().size(); ++i) s += (i ? "," : "") + std::to_string(t.shape()[i]);
  return s + "]\n";
}

// Every rank learns whether all ranks are fine; all throw together, so none waits for another.
void agree_or_throw(bool ok, const std::string& my_problem, const std::string& what) {
  if (all_reduce_min(ok ? 1 : 0) == 1) return;
  throw DistributedError(rank_name() + ": " + what + ": " +
                         (ok ? std::string("another rank differs from rank 0") : my_problem));
}

// The first line where `mine` and `theirs` differ, for the message.
std::string first_difference(const std::string& mine, const std::string& theirs) {
  std::istringstream a(mine), b(theirs);
  std::string la, lb;
  while (true) {
    const bool ga = bool(std::getline(a, la)), gb = bool(std::getline(b, lb));
    if (!ga && !gb) return "";
    if (!ga) la = "(nothing)";
    if (!gb) lb = "(nothing)";
    if (la != lb) return "here \"" + la + "\", on the root \"" + lb + "\"";
  }
}

// Broadcasts t in place; a tensor on a GPU goes through a host copy.
void broadcast_any_device(Tensor& t, int root) {
  if (t.device().is_cpu()) {
    broadcast(t, root);
    return;
  }
  Tensor host = t.to(Device::cpu());
  broadcast(host, root);
  NoGradGuard no_grad;
  t.copy_(host);
}

}  // namespace

void broadcast_parameters(const std::vector<std::pair<std::string, Tensor>>& named, int root) {
  if (world_size() == 1) return;
  std::string mine, layout;
  for (const auto& [name, t] : named) mine += describe(name, t);
  layout = mine;
  broadcast(layout, root);
  agree_or_throw(layout == mine, "the model differs from rank " + std::to_string(root) + "'s: " +
                                     first_difference(mine, layout),
                 "broadcast_parameters");
  // Parameters require grad: the copy is not part of any graph.
  NoGradGuard no_grad;
  for (const auto& entry : named) {
    Tensor t = entry.second;
    broadcast_any_device(t, root);
  }
}

void broadcast_parameters(Module& model, int root) {
  std::vector<std::pair<std::string, Tensor>> all = model.named_parameters();
  for (auto& b : model.named_buffers()) all.push_back(std::move(b));
  broadcast_parameters(all, root);
}

void broadcast_optimizer_state(Optimizer& optimizer, int root) {
  if (world_size() == 1) return;
  // Only the root's state counts (the others may not have stepped yet, so may hold no
  // moments): its layout goes first, the others make empty tensors to receive it.
  std::map<std::string, Tensor> state;
  std::string layout;
  if (rank() == root) {
    state = optimizer.state();
    for (const auto& [name, t] : state) layout += describe(name, t);
  }
  broadcast(layout, root);
  if (rank() != root) {
    std::istringstream in(layout);
    std::string line;
    while (std::getline(in, line)) {
      // "name dtype [d0,...]"; names have no spaces (they are dotted module paths).
      const size_t a = line.find(' '), b = line.find(' ', a + 1);
      const std::string name = line.substr(0, a), dtype = line.substr(a + 1, b - a - 1);
      Shape shape;
      std::string dims = line.substr(b + 2, line.size() - b - 3);
      std::istringstream ds(dims);
      for (std::string d; std::getline(ds, d, ',');) shape.push_back(std::stoll(d));
      const DType dt = dtype == "int64" ? DType::Int64 : dtype == "bool" ? DType::Bool : DType::Float32;
      state[name] = Tensor::empty(shape, TensorOptions(dt));
    }
  }
  for (auto& entry : state) broadcast_any_device(entry.second, root);
  bool ok = true;
  std::string problem;
  if (rank() != root) {
    try {
      optimizer.load_state(state);
    } catch (const Error& e) {
      ok = false;
      problem = std::string("rank ") + std::to_string(root) + "'s optimizer state does not fit: " + e.what();
    }
  }
  agree_or_throw(ok, problem, "broadcast_optimizer_state");
}

GradientBucketer::GradientBucketer(std::vector<std::pair<std::string, Tensor>> params, int64_t bucket_bytes) {
  if (bucket_bytes < 1)
    throw ArgumentError("GradientBucketer: bucket_bytes must be >= 1, got " + std::to_string(bucket_bytes));
  for (auto& [name, p] : params) {
    if (!p.defined()) throw ArgumentError("GradientBucketer: parameter " + name + " is undefined");
    if (!p.requires_grad()) continue;  // frozen: no gradient to average
    if (!p.device().is_cpu() || p.dtype() != DType::Float32)
      throw ArgumentError("GradientBucketer: parameter " + name + " " + p.str() +
                          " must be float32 in host memory (the NCCL backend for GPUs is not built yet)");
    params_.emplace_back(name, p);
  }
  // Reverse registration order: the order backward produces the gradients in.
  int64_t filled = 0;
  for (size_t i = params_.size(); i-- > 0;) {
    const int64_t bytes = params_[i].second.numel() * int64_t(sizeof(float));
    if (buckets_.empty() || (filled > 0 && filled + bytes > bucket_bytes)) {
      buckets_.emplace_back();
      bucket_numel_.push_back(0);
      filled = 0;
    }
    buckets_.back().push_back(i);
    bucket_numel_.back() += params_[i].second.numel();
    filled += bytes;
  }
  for (int64_t n : bucket_numel_) flat_.push_back(Tensor::empty({n}));
}

void GradientBucketer::all_reduce_mean() {
  if (world_size() == 1) return;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    float* flat = flat_[b].data();
    int64_t offset = 0;
    for (size_t i : buckets_[b]) {  // flatten: the grads end to end (zeros for a missing one)
      const Tensor& p = params_[i].second;
      const Tensor g = p.grad();
      if (g.defined())
        std::memcpy(flat + offset, g.data(), size_t(p.numel()) * sizeof(float));
      else
        std::memset(flat + offset, 0, size_t(p.numel()) * sizeof(float));
      offset += p.numel();
    }
    distributed::all_reduce_mean(flat_[b]);
    offset = 0;
    for (size_t i : buckets_[b]) {  // and back into each grad
      const Tensor& p = params_[i].second;
      Tensor g = p.grad();
      if (!g.defined()) {
        g = Tensor::empty(p.shape());
        p.set_grad(g);
      }
      std::memcpy(g.data(), flat + offset, size_t(p.numel()) * sizeof(float));
      g.bump_version();
      offset += p.numel();
    }
  }
}

}  // namespace distributed
}  // namespace dlcraft
