// Reverse-mode automatic differentiation (backprop / 역전파) over a graph of ops.
//
// Each op that produces a tensor from inputs needing gradients records a Node: the inputs and
// a function that, given dL/d(output), adds dL/d(input) into each input's .grad.
// backward() visits the nodes in reverse topological order, so a tensor used twice (a residual
// y = f(x) + x) receives the sum of both gradients before its own node runs.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace dlcraft {

struct Node {
  std::string name;              // op name, for error messages and debugging
  // Set when backward has run through this node and freed what it saved; a second backward
  // then raises AutogradError, as PyTorch does (unless the first used retain_graph).
  bool released = false;
  std::vector<Tensor> inputs;    // what gradients flow back to
  // Gets dL/d(output); must call accumulate_grad(inputs[i], dL/d(inputs[i])) for inputs that
  // require grad. It must not capture the output tensor (that would make a reference cycle).
  std::function<void(const Tensor& grad_output)> backward;
};

// Whether ops record the graph (off inside NoGradGuard, e.g. for evaluation).
bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when `out` should get a grad_fn: grad mode is on and some input requires grad.
bool needs_grad(const std::vector<Tensor>& inputs);

// Attaches a node to `out` (when needs_grad) and returns it.
Tensor record(Tensor out, const std::string& name, std::vector<Tensor> inputs,
              std::function<void(const Tensor&)> backward);

// t.grad += g (or t.grad = g when t has none yet). Gradients are never modified in place, so
// one tensor may safely be the gradient of several inputs.
void accumulate_grad(const Tensor& t, const Tensor& g);

void run_backward(const Tensor& root, const Tensor& grad_root, bool retain_graph = false);

// PyTorch's register_post_accumulate_grad_hook: `hook(leaf)` runs inside backward, once per
// backward, as soon as the engine has added the last gradient into the leaf's .grad (every op
// that uses it has run its backward), with leaf.grad() final for this backward. The gradient
// bucketer (distributed/data_parallel.hpp) starts a bucket's all-reduce from it while backward
// goes on. ArgumentError for a tensor that is not a leaf requiring grad. The hook runs with
// grad mode off; it must not call backward. Returns an id for remove_post_accumulate_grad_hook.
int64_t register_post_accumulate_grad_hook(const Tensor& leaf, std::function<void(const Tensor&)> hook);
// Removes the hook `id` of `leaf` (nothing if it is gone already).
void remove_post_accumulate_grad_hook(const Tensor& leaf, int64_t id);

// A tensor an op keeps for its backward (x for y = x * w, y for y = sigmoid(x)...), with the
// version of its memory when saved. get() raises AutogradError when the tensor was changed in
// place since (x.fill_(0), an optimizer step...) — the gradient would be silently wrong.
// Capture SavedTensors, not plain Tensors, in backward functions of ops that read a value.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& t) : tensor_(t), version_(t.defined() ? t.version() : 0) {}  // NOLINT
  const Tensor& get(const std::string& op) const;
  bool defined() const { return tensor_.defined(); }

 private:
  Tensor tensor_;
  uint64_t version_ = 0;
};

}  // namespace dlcraft
