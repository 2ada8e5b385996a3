// Broadcast of the model and optimizer state, and the gradient buckets
// (distributed/data_parallel.hpp). Only process_group.cpp talks to MPI.
#include "distributed/data_parallel.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "core/autograd.hpp"
#include "distributed/nccl_comm.hpp"
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

// Broadcasts t in place; a tensor on a GPU goes through a host copy, also with NCCL: the ranks
// that receive broadcast_optimizer_state's tensors make them in host memory, and all ranks must
// take the same backend (once per run, so the copy costs little).
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

struct GradientBucketer::State {
  std::vector<std::pair<std::string, Tensor>> params;
  std::vector<std::vector<size_t>> buckets;
  std::vector<int64_t> bucket_numel;
  std::vector<Tensor> flat;  // one buffer per bucket, allocated once (as DDP keeps them)
  bool active = false;       // more than one process, or even_alone
  bool cuda = false;
  bool overlap = false;      // CUDA + NCCL: hooks start the buckets during backward
  // Where each parameter goes, and the hooks' bookkeeping for the current backward.
  std::vector<size_t> bucket_of;
  std::vector<int64_t> offset_of;
  std::vector<int64_t> hook_ids;
  std::vector<bool> final_grad;  // its gradient is in the bucket buffer already
  std::vector<int64_t> waiting;  // per bucket: parameters whose gradient is not final yet
  size_t next_start = 0;         // buckets [0, next_start) are reduced or under way
  int64_t started_in_backward = 0;
  bool stale = false;            // a parameter's gradient changed after it was copied

  // Parameter i's gradient (zeros when it has none) into its place in its bucket's buffer:
  // a copy queued on the main stream for a GPU.
  void copy_in(size_t i) {
    const Tensor& p = params[i].second;
    Tensor g = p.grad();
    if (!g.defined()) g = Tensor::zeros(p.shape(), p.device());
    char* dst = static_cast<char*>(flat[bucket_of[i]].raw_data()) + offset_of[i] * int64_t(sizeof(float));
    copy_bytes(dst, p.device(), g.raw_data(), g.device(), size_t(p.numel()) * sizeof(float));
  }

  // Starts bucket b's average: on the comm stream after what the main stream has queued (the
  // copies into the buffer) with NCCL; else through process_group (host memory for a GPU).
  void start(size_t b) {
    if (overlap) {
      comm_waits_for_main();
      nccl_all_reduce(flat[b], NcclOp::kAvg, CudaStream::kComm);
    } else {
      distributed::all_reduce_mean(flat[b]);
    }
  }

  // The hook: parameter i's gradient is final for this backward.
  void on_final_grad(size_t i) {
    if (final_grad[i]) {  // a second backward before all_reduce_mean(): redo it all there
      stale = true;
      return;
    }
    final_grad[i] = true;
    copy_in(i);
    --waiting[bucket_of[i]];
    // In bucket order only, so that every rank starts the same collectives in the same order.
    while (!stale && next_start < buckets.size() && waiting[next_start] == 0) {
      start(next_start++);
      ++started_in_backward;
    }
  }

  void reset() {
    std::fill(final_grad.begin(), final_grad.end(), false);
    for (size_t b = 0; b < buckets.size(); ++b) waiting[b] = int64_t(buckets[b].size());
    next_start = 0;
    started_in_backward = 0;
    stale = false;
  }
};

GradientBucketer::GradientBucketer(std::vector<std::pair<std::string, Tensor>> params, int64_t bucket_bytes,
                                   bool even_alone)
    : s_(std::make_shared<State>()) {
  if (bucket_bytes < 1)
    throw ArgumentError("GradientBucketer: bucket_bytes must be >= 1, got " + std::to_string(bucket_bytes));
  State& s = *s_;
  for (auto& [name, p] : params) {
    if (!p.defined()) throw ArgumentError("GradientBucketer: parameter " + name + " is undefined");
    if (!p.requires_grad()) continue;  // frozen: no gradient to average
    if (p.dtype() != DType::Float32)
      throw ArgumentError("GradientBucketer: parameter " + name + " " + p.str() + " must be float32");
    if (!s.params.empty() && p.device() != s.params.front().second.device())
      throw ArgumentError("GradientBucketer: parameter " + name + " " + p.str() + " is on another device than " +
                          s.params.front().first + " " + s.params.front().second.str());
    s.params.emplace_back(name, p);
  }
  // Reverse registration order: the order backward produces the gradients in.
  int64_t filled = 0;
  for (size_t i = s.params.size(); i-- > 0;) {
    const int64_t bytes = s.params[i].second.numel() * int64_t(sizeof(float));
    if (s.buckets.empty() || (filled > 0 && filled + bytes > bucket_bytes)) {
      s.buckets.emplace_back();
      s.bucket_numel.push_back(0);
      filled = 0;
    }
    s.buckets.back().push_back(i);
    s.bucket_numel.back() += s.params[i].second.numel();
    filled += bytes;
  }
  s.bucket_of.assign(s.params.size(), 0);
  s.offset_of.assign(s.params.size(), 0);
  for (size_t b = 0; b < s.buckets.size(); ++b) {
    int64_t offset = 0;
    for (size_t i : s.buckets[b]) {
      s.bucket_of[i] = b;
      s.offset_of[i] = offset;
      offset += s.params[i].second.numel();
    }
  }
  s.final_grad.assign(s.params.size(), false);
  s.waiting.assign(s.buckets.size(), 0);
  s.reset();
  s.cuda = !s.params.empty() && s.params.front().second.device().is_cuda();
  s.active = even_alone || world_size() > 1;
  s.overlap = s.active && s.cuda && nccl_enabled();
  const Device device = s.cuda ? s.params.front().second.device() : Device::cpu();
  for (int64_t n : s.bucket_numel) s.flat.push_back(Tensor::empty({n}, device));
  if (s.overlap) {
    std::weak_ptr<State> weak = s_;
    for (size_t i = 0; i < s.params.size(); ++i)
      s.hook_ids.push_back(register_post_accumulate_grad_hook(s.params[i].second, [weak, i](const Tensor&) {
        if (auto state = weak.lock()) state->on_final_grad(i);
      }));
  }
}

GradientBucketer::~GradientBucketer() {
  if (!s_) return;  // moved from
  for (size_t i = 0; i < s_->hook_ids.size(); ++i)
    remove_post_accumulate_grad_hook(s_->params[i].second, s_->hook_ids[i]);
  // All-reduces still under way on the comm stream (a backward without all_reduce_mean()):
  // the main stream waits for them before the buffers' memory goes back to the allocator,
  // which hands it out for work on the main stream.
  if (s_->overlap && s_->next_start > 0) {
    try {
      main_waits_for_comm();
    } catch (...) {  // a destructor does not throw; the error shows at the next CUDA call
    }
  }
}

GradientBucketer::GradientBucketer(GradientBucketer&&) noexcept = default;
GradientBucketer& GradientBucketer::operator=(GradientBucketer&& other) noexcept {
  if (this != &other) {
    GradientBucketer old(std::move(*this));  // its destructor removes the old hooks
    s_ = std::move(other.s_);
  }
  return *this;
}

const std::vector<std::vector<size_t>>& GradientBucketer::buckets() const { return s_->buckets; }
bool GradientBucketer::overlaps() const { return s_->overlap; }
int64_t GradientBucketer::buckets_started_in_backward() const { return s_->started_in_backward; }

void GradientBucketer::all_reduce_mean() {
  State& s = *s_;
  if (!s.active) return;
  if (!s.cuda) {
    for (size_t b = 0; b < s.buckets.size(); ++b) {
      float* flat = s.flat[b].data();
      int64_t offset = 0;
      for (size_t i : s.buckets[b]) {  // flatten: the grads end to end (zeros for a missing one)
        const Tensor& p = s.params[i].second;
        const Tensor g = p.grad();
        if (g.defined())
          std::memcpy(flat + offset, g.data(), size_t(p.numel()) * sizeof(float));
        else
          std::memset(flat + offset, 0, size_t(p.numel()) * sizeof(float));
        offset += p.numel();
      }
      distributed::all_reduce_mean(s.flat[b]);
      offset = 0;
      for (size_t i : s.buckets[b]) {  // and back into each grad
        const Tensor& p = s.params[i].second;
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
    return;
  }
  if (s.stale) {
    // The buckets started with older gradients: let them finish (the buffers are rewritten
    // on the main stream next), then reduce everything again; every rank does the same.
    if (s.overlap) main_waits_for_comm();
    s.reset();
  }
  // The buckets backward did not start: parameters it did not reach (unused, or no hooks).
  for (size_t b = s.next_start; b < s.buckets.size(); ++b) {
    for (size_t i : s.buckets[b])
      if (!s.final_grad[i]) s.copy_in(i);
    s.start(b);
  }
  if (s.overlap) main_waits_for_comm();  // the averages are in the buffers for what follows
  for (size_t i = 0; i < s.params.size(); ++i) {
    // A new tensor per grad: a gradient tensor may be shared (autograd never writes one in place).
    const Tensor& p = s.params[i].second;
    Tensor g = Tensor::empty(p.shape(), p.device());
    const char* src = static_cast<const char*>(s.flat[s.bucket_of[i]].raw_data()) + s.offset_of[i] * int64_t(sizeof(float));
    copy_bytes(g.raw_data(), g.device(), src, p.device(), size_t(p.numel()) * sizeof(float));
    p.set_grad(g);
  }
  s.reset();
}

}  // namespace distributed
}  // namespace dlcraft
