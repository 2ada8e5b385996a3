#include "core/autograd.hpp"

#include <atomic>
#include <unordered_set>

#include "core/error.hpp"
#include "core/ops.hpp"

namespace dlcraft {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(Tensor out, const std::string& name, std::vector<Tensor> inputs,
              std::function<void(const Tensor&)> backward) {
  if (!needs_grad(inputs)) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
  return out;
}

void accumulate_grad(const Tensor& t, const Tensor& g) {
  if (!t.defined() || !t.requires_grad()) return;
  if (g.shape() != t.shape())
    throw ShapeError("gradient of shape " + to_string(g.shape()) + " for a tensor of shape " +
                     to_string(t.shape()));
  Tensor old = t.grad();
  t.set_grad(old.defined() ? add(old, g) : g);
}

int64_t register_post_accumulate_grad_hook(const Tensor& leaf, std::function<void(const Tensor&)> hook) {
  if (!leaf.defined() || !leaf.requires_grad() || leaf.grad_fn())
    throw ArgumentError("register_post_accumulate_grad_hook: the tensor must be a leaf that requires grad" +
                        std::string(leaf.defined() ? ", got " + leaf.str() : ", got an undefined tensor") +
                        (leaf.defined() && leaf.grad_fn() ? " made by " + leaf.grad_fn()->name : ""));
  static std::atomic<int64_t> next_id{0};
  const int64_t id = ++next_id;
  leaf.impl()->post_accumulate_grad_hooks.emplace_back(id, std::move(hook));
  return id;
}

void remove_post_accumulate_grad_hook(const Tensor& leaf, int64_t id) {
  if (!leaf.defined()) return;
  auto& hooks = leaf.impl()->post_accumulate_grad_hooks;
  for (auto it = hooks.begin(); it != hooks.end(); ++it)
    if (it->first == id) {
      hooks.erase(it);
      return;
    }
}

const Tensor& SavedTensor::get(const std::string& op) const {
  if (tensor_.defined() && tensor_.version() != version_)
    throw AutogradError(op + ": a tensor " + to_string(tensor_.shape()) +
                        " saved for its backward was modified by an in-place operation (version " +
                        std::to_string(version_) + " when saved, " +
                        std::to_string(tensor_.version()) +
                        " now); clone() it before changing it, or change it after backward()");
  return tensor_;
}

void run_backward(const Tensor& root, const Tensor& grad_root, bool retain_graph) {
  if (!root.requires_grad())
    throw ArgumentError("backward() on a tensor that does not require grad");
  if (root.grad_fn() && root.grad_fn()->released)
    throw AutogradError("backward(): trying to backward through the graph a second time (after " +
                        root.grad_fn()->name +
                        "); its saved tensors were freed. Use backward(grad, /*retain_graph=*/true) "
                        "for the first call if you need a second");
  if (grad_root.shape() != root.shape())
    throw ShapeError("backward(): gradient " + to_string(grad_root.shape()) + " for output " +
                     to_string(root.shape()));
  NoGradGuard no_grad;  // the backward pass itself is not differentiated

  // Topological order by iterative depth-first search (a deep net would overflow recursion).
  // `order` holds owning pointers: running a node frees its inputs' last other owner.
  std::vector<std::shared_ptr<TensorImpl>> order;
  std::unordered_set<TensorImpl*> seen;
  std::vector<std::pair<std::shared_ptr<TensorImpl>, size_t>> stack{{root.impl(), 0}};
  seen.insert(root.impl().get());
  while (!stack.empty()) {
    std::shared_ptr<TensorImpl> impl = stack.back().first;
    size_t& next = stack.back().second;
    const auto& fn = impl->grad_fn;
    if (fn && fn->released)
      throw AutogradError("backward(): trying to backward through the graph a second time (at " +
                          fn->name + "); its saved tensors were freed");
    if (fn && next < fn->inputs.size()) {
      std::shared_ptr<TensorImpl> child = fn->inputs[next++].impl();
      if (child && child->requires_grad && seen.insert(child.get()).second)
        stack.push_back({std::move(child), 0});
    } else {
      order.push_back(std::move(impl));
      stack.pop_back();
    }
  }

  accumulate_grad(root, grad_root);
  // `order` lists inputs before their users; walk it backwards: outputs first.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* impl = it->get();
    if (!impl->grad_fn) {
      // A leaf keeps its .grad for the optimizer. The ops that use it come after it in `order`,
      // so this reverse walk has run all their backwards already: its gradient is final here.
      if (!impl->post_accumulate_grad_hooks.empty() && impl->grad) {
        const Tensor leaf(*it);
        const auto hooks = impl->post_accumulate_grad_hooks;  // a hook may remove itself
        for (const auto& h : hooks) h.second(leaf);
      }
      continue;
    }
    std::shared_ptr<Node> fn = impl->grad_fn;
    Tensor grad(impl->grad);
    impl->grad.reset();  // non-leaf gradients are not kept, as in PyTorch
    if (grad.defined()) fn->backward(grad);
    if (!retain_graph) {
      // Free the graph as we go: the node keeps only its name, to raise on a second backward.
      fn->backward = nullptr;
      fn->inputs.clear();
      fn->released = true;
    }
    it->reset();  // done with this tensor: its activation can be freed now
  }
}

}  // namespace dlcraft
