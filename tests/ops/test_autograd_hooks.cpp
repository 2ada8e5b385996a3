// register_post_accumulate_grad_hook (core/autograd.hpp), on the CPU: the hook runs once per
// backward for each leaf, after the last gradient was added into it (with the final .grad),
// leaves nearer the loss first; not for a leaf the backward does not reach; removable. The
// GPU gradient bucketer starts its all-reduces from it (tests/dist/test_dist_nccl.cpp).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"

using namespace dlcraft;

namespace {

// What a hook saw: which leaf, and a copy of its .grad at that moment.
struct Seen {
  std::string leaf;
  std::vector<float> grad;
};

}  // namespace

TEST_CASE("post-accumulate-grad hook: once per backward, after the final accumulation", "[autograd][hooks]") {
  Generator gen(11);
  // w is used three times (two branches and a residual), so it gets three contributions;
  // a hook run after the first or second would see a partial gradient.
  Tensor x = Tensor::normal({5, 7}, gen);
  Tensor w = Tensor::normal({7, 3}, gen).requires_grad_(true);
  Tensor v = Tensor::normal({3, 3}, gen).requires_grad_(true);
  Tensor unused = Tensor::normal({4}, gen).requires_grad_(true);
  std::vector<Seen> seen;
  auto watch = [&seen](const std::string& name) {
    return [&seen, name](const Tensor& leaf) { seen.push_back({name, leaf.grad().to_vector()}); };
  };
  register_post_accumulate_grad_hook(w, watch("w"));
  register_post_accumulate_grad_hook(v, watch("v"));
  const int64_t unused_id = register_post_accumulate_grad_hook(unused, watch("unused"));

  auto loss_of = [&] {
    Tensor h = add(matmul(x, w), tanh(matmul(x, w)));  // (5, 3)
    Tensor y = matmul(h, v);                            // v: nearer the loss than w
    return add(sum(mul(y, y)), sum(mul(w, w)));
  };
  loss_of().backward();
  REQUIRE(seen.size() == 2);  // not `unused`: backward did not reach it
  // v's gradient is final before w's, which still waits for the branches below v.
  REQUIRE(seen[0].leaf == "v");
  REQUIRE(seen[1].leaf == "w");
  REQUIRE(seen[0].grad == v.grad().to_vector());
  REQUIRE(seen[1].grad == w.grad().to_vector());
  const std::vector<float> w_grad_once = w.grad().to_vector();

  // A second backward accumulates: the hook sees the sum of both (twice the first).
  seen.clear();
  loss_of().backward();
  REQUIRE(seen.size() == 2);
  REQUIRE(seen[1].leaf == "w");
  REQUIRE(seen[1].grad == w.grad().to_vector());
  for (size_t i = 0; i < w_grad_once.size(); ++i) REQUIRE(seen[1].grad[i] == Approx(2 * w_grad_once[i]).epsilon(1e-5));

  // A leaf that is the loss's only input; and removal stops the calls.
  seen.clear();
  sum(mul(unused, unused)).backward();
  REQUIRE(seen.size() == 1);
  REQUIRE(seen[0].leaf == "unused");
  remove_post_accumulate_grad_hook(unused, unused_id);
  remove_post_accumulate_grad_hook(unused, unused_id);  // gone already: nothing
  seen.clear();
  sum(mul(unused, unused)).backward();
  REQUIRE(seen.empty());
}

TEST_CASE("post-accumulate-grad hook: a hook that removes itself, and the errors", "[autograd][hooks]") {
  Generator gen(12);
  Tensor a = Tensor::normal({9}, gen).requires_grad_(true);
  int calls = 0;
  int64_t id = 0;
  id = register_post_accumulate_grad_hook(a, [&](const Tensor& leaf) {
    ++calls;
    remove_post_accumulate_grad_hook(leaf, id);
  });
  sum(mul(a, a)).backward();
  sum(mul(a, a)).backward();
  REQUIRE(calls == 1);

  Tensor not_leaf = mul(a, 2.0);
  REQUIRE_THROWS_MATCHES(register_post_accumulate_grad_hook(not_leaf, [](const Tensor&) {}), ArgumentError,
                         Catch::Message("register_post_accumulate_grad_hook: the tensor must be a leaf that requires "
                                        "grad, got Tensor[9] cpu made by mul"));
  REQUIRE_THROWS_AS(register_post_accumulate_grad_hook(Tensor::normal({3}, gen), [](const Tensor&) {}), ArgumentError);
  REQUIRE_THROWS_WITH(register_post_accumulate_grad_hook(Tensor(), [](const Tensor&) {}),
                      Catch::Contains("got an undefined tensor"));
}
