// Tensor basics, autograd bookkeeping and the caching allocator.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/allocator.hpp"
#include "core/autograd.hpp"
#include "core/file_io.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "core/safetensors.hpp"

using namespace dlcraft;

TEST_CASE("tensors hold values and shapes and devices") {
  Tensor t = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.numel() == 6);
  CHECK(t.size(-1) == 3);
  CHECK(t.device() == Device::cpu());
  Tensor c = t.clone();
  c.fill_(7);
  CHECK(t.to_vector()[0] == 1);  // clone is a copy
  CHECK(c.to_vector() == std::vector<float>(6, 7));
  Tensor r = reshape(t, {3, -1});
  CHECK(r.shape() == Shape{3, 2});
  CHECK(r.to_vector() == t.to_vector());
  CHECK_THROWS_AS(Tensor::from_vector({1, 2}, {3}), ShapeError);
  CHECK_THROWS_AS(t.item(), ShapeError);
  CHECK_THROWS_AS(t.size(2), ShapeError);
}

TEST_CASE("gradients accumulate over every path and leaves keep them") {
  Tensor x = Tensor::from_vector({1, -2, 3}, {3}).requires_grad_();
  Tensor y = add(add(relu(x), x), x);  // d/dx = relu'(x) + 2
  y.backward(Tensor::full({3}, 1.0f));
  CHECK(x.grad().to_vector() == std::vector<float>{3, 2, 3});
  // The graph is freed after backward: the node keeps only its name, to refuse a second one.
  REQUIRE(y.grad_fn());
  CHECK(y.grad_fn()->released);
  CHECK(y.grad_fn()->inputs.empty());
  CHECK_FALSE(y.grad_fn()->backward);
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  {
    NoGradGuard no_grad;
    Tensor z = relu(x);
    CHECK_FALSE(z.requires_grad());
  }
  Tensor constant = Tensor::from_vector({1, 1, 1}, {3});
  CHECK_THROWS_AS(relu(constant).backward(Tensor::full({3}, 1.0f)), ArgumentError);
}

TEST_CASE("the allocator reuses freed blocks") {
  const auto before = allocator_stats(Device::cpu());
  { Tensor a = Tensor::empty({1234567}); }
  const auto mid = allocator_stats(Device::cpu());
  { Tensor b = Tensor::empty({1234567}); }
  const auto after = allocator_stats(Device::cpu());
  CHECK(mid.system_allocs >= before.system_allocs);
  CHECK(after.system_allocs == mid.system_allocs);  // the second came from the cache
  CHECK(after.cached_allocs == mid.cached_allocs + 1);
}

TEST_CASE("safetensors round-trip and rejection of corrupt files") {
  Generator g(3);
  std::map<std::string, Tensor> tensors{{"a.weight", Tensor::normal({3, 4}, g)}, {"b", Tensor::normal({5}, g)}};
  const std::string path = "test_tensor_roundtrip.safetensors";
  save_safetensors(path, tensors, {{"epoch", "7"}});
  SafeTensors back = load_safetensors(path);
  CHECK(back.metadata.at("epoch") == "7");
  REQUIRE(back.tensors.size() == 2);
  CHECK(back.tensors.at("a.weight").shape() == Shape{3, 4});
  CHECK(back.tensors.at("a.weight").to_vector() == tensors.at("a.weight").to_vector());
  CHECK(back.tensors.at("b").to_vector() == tensors.at("b").to_vector());

  std::vector<char> bytes = read_file_bytes(path);
  auto write = [](const std::string& p, const std::vector<char>& b) {
    write_file_atomic(p, [&](std::ostream& o) { o.write(b.data(), std::streamsize(b.size())); });
  };
  write("truncated.safetensors", std::vector<char>(bytes.begin(), bytes.end() - 8));
  CHECK_THROWS_WITH(load_safetensors("truncated.safetensors"), Catch::Contains("truncated.safetensors"));
  std::vector<char> garbage = bytes;
  garbage[10] = '!';
  write("garbage.safetensors", garbage);
  CHECK_THROWS_AS(load_safetensors("garbage.safetensors"), IOError);
  write("tiny.safetensors", {'x'});
  CHECK_THROWS_AS(load_safetensors("tiny.safetensors"), IOError);
  CHECK_THROWS_WITH(load_safetensors("missing.safetensors"), Catch::Contains("missing.safetensors"));
}

TEST_CASE("a CUDA tensor without a GPU says so in plain words", "[tensor][errors]") {
  if (cuda_available()) return;  // a GPU is there: test_gpu covers this machine
  // A CUDA build says "no CUDA GPU is visible", a CPU-only build "built without CUDA";
  // never the runtime's "cudaErrorInsufficientDriver" alone.
  auto t = Tensor::from_vector({1.f, 2.f, 3.f}, {3});
  try {
    (void)t.to(Device::cuda());
    FAIL("moving a tensor to a missing GPU did not throw");
  } catch (const DeviceError& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK((what.find("no CUDA GPU is visible") != std::string::npos ||
           what.find("built without CUDA") != std::string::npos));
  }
}
