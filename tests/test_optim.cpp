// Adam and SGD against values worked out by hand (PyTorch's formulas, two steps, with weight
// decay), and their state saved and restored.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "optim/optimizer.hpp"

using namespace dlcraft;

namespace {
// p = [1, -2]; first gradient [0.5, 0.25] (then [-1, 3]); lr 0.1, weight decay 0.01.
void first_step(Optimizer& opt, Tensor& p) {
  p.set_grad(Tensor::from_vector({0.5f, 0.25f}, {2}));
  opt.step();
}
}  // namespace

TEST_CASE("Adam step matches hand-computed values") {
  // Step 1: g' = g + 0.01 p; m = 0.1 g'; v = 0.001 g'^2; m^ = g', v^ = g'^2
  //         p -= 0.1 * g' / (|g'| + 1e-8)  -> p moves by 0.1 against the sign of g'.
  Tensor p = Tensor::from_vector({1.0f, -2.0f}, {2}).requires_grad_();
  Adam adam({{"p", p}}, AdamOptions{0.1f, 0.9f, 0.999f, 1e-8f, 0.01f});
  first_step(adam, p);
  CHECK(p.to_vector()[0] == Approx(0.9000000019607843).epsilon(1e-6));
  CHECK(p.to_vector()[1] == Approx(-2.099999995652174).epsilon(1e-6));
  p.set_grad(Tensor::from_vector({-1.0f, 3.0f}, {2}));
  adam.step();
  CHECK(p.to_vector()[0] == Approx(0.9355236415321513).epsilon(1e-5));
  CHECK(p.to_vector()[1] == Approx(-2.1793485082566435).epsilon(1e-5));
  CHECK(adam.steps() == 2);
}

TEST_CASE("SGD momentum matches hand-computed values") {
  // buf = g' on step 1, then 0.9 buf + g'; p -= 0.1 buf.
  Tensor p = Tensor::from_vector({1.0f, -2.0f}, {2}).requires_grad_();
  SGD sgd({{"p", p}}, SgdOptions{0.1f, 0.9f, 0.0f, 0.01f, false});
  first_step(sgd, p);
  CHECK(p.to_vector()[0] == Approx(0.949).epsilon(1e-6));
  CHECK(p.to_vector()[1] == Approx(-2.023).epsilon(1e-6));
  p.set_grad(Tensor::from_vector({-1.0f, 3.0f}, {2}));
  sgd.step();
  CHECK(p.to_vector()[0] == Approx(1.002151).epsilon(1e-6));
  CHECK(p.to_vector()[1] == Approx(-2.341677).epsilon(1e-6));
}

TEST_CASE("optimizer state round-trips") {
  // Two optimizers: one runs 3 steps straight; the other runs 1, is saved, restored into a
  // fresh optimizer, and runs 2 more. Both must end at the same parameters.
  auto grads = [](int step) { return Tensor::from_vector({0.3f * step, -0.7f, 0.1f}, {3}); };
  Tensor a = Tensor::from_vector({1, 2, 3}, {3}).requires_grad_();
  Adam straight({{"w", a}}, {0.05f});
  for (int s = 1; s <= 3; ++s) {
    a.set_grad(grads(s));
    straight.step();
  }
  Tensor b = Tensor::from_vector({1, 2, 3}, {3}).requires_grad_();
  std::map<std::string, Tensor> saved;
  {
    Adam first({{"w", b}}, {0.05f});
    b.set_grad(grads(1));
    first.step();
    for (auto& [k, v] : first.state()) saved[k] = v.clone();
  }
  CHECK(saved.count("exp_avg.w") == 1);
  CHECK(saved.count("exp_avg_sq.w") == 1);
  Adam resumed({{"w", b}}, {0.05f});
  resumed.load_state(saved);
  for (int s = 2; s <= 3; ++s) {
    b.set_grad(grads(s));
    resumed.step();
  }
  CHECK(a.to_vector() == b.to_vector());
  saved.erase("exp_avg.w");
  CHECK_THROWS_AS(resumed.load_state(saved), ArgumentError);
  CHECK_THROWS_AS(Adam({{"w", b}}, {-1.0f}), ArgumentError);
}
