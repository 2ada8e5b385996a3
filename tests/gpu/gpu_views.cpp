// matmul, views and indexing on the GPU against the CPU reference: matmul in every form
// (batched and broadcast included, relative tolerance 1e-4), the data movement exactly (values
// and gradients), int64 tensors through the same kernels, and repeated indices in the
// backward of index_select and gather (the atomicAdd path).
#include <catch2/catch.hpp>

#include "core/creation.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

namespace {
Tensor ids(const std::vector<int64_t>& v) { return Tensor::from_vector(v, {int64_t(v.size())}); }
}  // namespace

TEST_CASE("matmul on the GPU matches the CPU, batched and broadcast", "[tensor]") {
  Generator gen(21);
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{7}, {7}},       {{3, 5}, {5, 7}},       {{5}, {5, 7}},          {{3, 5}, {5}},
      {{4, 3, 5}, {4, 5, 7}}, {{4, 3, 5}, {5, 7}}, {{3, 5}, {4, 5, 7}},
      {{2, 1, 3, 5}, {4, 5, 7}},  // [j,1,n,m] x [k,m,p] -> [j,k,n,p]
      {{3, 1, 2, 4}, {1, 2, 4, 3}}, {{5}, {2, 5, 3}}, {{2, 3, 5}, {5}},
      {{2, 70, 33}, {33, 65}},  // more than one 64x64 tile, one B for the batch
  };
  for (const auto& c : cases)
    check_cuda_matches_cpu("matmul " + to_string(c.first) + " x " + to_string(c.second),
                           [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                           {uniform_tensor(c.first, gen), uniform_tensor(c.second, gen)}, 1e-4);
  check_cuda_matches_cpu("matmul, empty inner size",
                         [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                         {uniform_tensor({2, 3, 0}, gen), uniform_tensor({0, 4}, gen)}, 1e-4);
}

TEST_CASE("views and data movement on the GPU match the CPU exactly", "[tensor]") {
  Generator gen(22);
  Tensor x = uniform_tensor({3, 5, 4}, gen);
  auto same = [](const std::string& what, const OpFn& f, const std::vector<Tensor>& in) {
    check_cuda_matches_cpu(what, f, in, 0.0);
  };
  same("permute", [](const std::vector<Tensor>& in) { return permute(in[0], {2, 0, 1}); }, {x});
  same("transpose", [](const std::vector<Tensor>& in) { return transpose(in[0], 0, 1); }, {x});
  same("permute 5-D", [](const std::vector<Tensor>& in) { return permute(in[0], {4, 2, 0, 3, 1}); },
       {uniform_tensor({2, 3, 1, 4, 5}, gen)});
  same("transpose, larger", [](const std::vector<Tensor>& in) { return transpose(in[0], 0, 1); },
       {uniform_tensor({300, 257}, gen)});
  same("flatten and unsqueeze",
       [](const std::vector<Tensor>& in) { return unsqueeze(flatten(in[0], 0, 1), 1); }, {x});
  same("cat", [](const std::vector<Tensor>& in) { return cat({in[0], in[1], in[0]}, 1); },
       {x, uniform_tensor({3, 2, 4}, gen)});
  same("stack", [](const std::vector<Tensor>& in) { return stack({in[0], in[1]}, -1); },
       {x, uniform_tensor({3, 5, 4}, gen)});
  same("narrow", [](const std::vector<Tensor>& in) { return narrow(in[0], 2, 1, 2); }, {x});
  same("slice step 2", [](const std::vector<Tensor>& in) { return slice(in[0], 1, -4, 100, 2); }, {x});
  same("slice step 3", [](const std::vector<Tensor>& in) { return slice(in[0], 0, 0, 3, 3); }, {x});
  same("select", [](const std::vector<Tensor>& in) { return select(in[0], 1, -1); }, {x});

  // int64 through the same kernels (no gradients).
  Tensor xi = randint(-1000, 1000, {3, 5, 4}, gen);
  same("permute int64", [](const std::vector<Tensor>& in) { return permute(in[0], {1, 2, 0}); }, {xi});
  same("cat int64", [](const std::vector<Tensor>& in) { return cat({in[0], in[0]}, 2); }, {xi});
  same("slice int64", [](const std::vector<Tensor>& in) { return slice(in[0], 2, 1, 4, 2); }, {xi});
  same("index_select int64",
       [](const std::vector<Tensor>& in) { return index_select(in[0], 1, ids({4, 0, 4}).to(in[0].device())); }, {xi});
  Tensor m = Tensor::empty({2, 3}, DType::Bool);
  for (int64_t i = 0; i < 6; ++i) m.data_ptr<uint8_t>()[i] = uint8_t(i % 2);
  same("transpose bool", [](const std::vector<Tensor>& in) { return transpose(in[0], 0, 1); }, {m});
}

TEST_CASE("index_select and gather on the GPU match the CPU, repeated indices included",
          "[tensor]") {
  Generator gen(23);
  Tensor x = uniform_tensor({6, 5, 3}, gen);
  // Repeats: the backward's atomicAdd adds several gradients into one element.
  for (int64_t dim : {0, 1, 2}) {
    const int64_t size = x.shape()[dim];
    Tensor index = randint(0, size, {11}, gen);
    check_cuda_matches_cpu("index_select dim " + std::to_string(dim),
                           [=](const std::vector<Tensor>& in) { return index_select(in[0], dim, index.to(in[0].device())); },
                           {x}, 1e-5);
    Shape ishape = x.shape();
    ishape[dim] = 7;
    Tensor gi = randint(0, size, ishape, gen);
    check_cuda_matches_cpu("gather dim " + std::to_string(dim),
                           [=](const std::vector<Tensor>& in) { return gather(in[0], dim, gi.to(in[0].device())); },
                           {x}, 1e-5);
  }
  // Many reads of few rows: 2000 picks of 4 rows, each row's gradient a sum of ~500 terms.
  Tensor table = uniform_tensor({4, 3}, gen);
  Tensor many = randint(0, 4, {2000}, gen);
  check_cuda_matches_cpu("index_select, 2000 picks of 4 rows",
                         [=](const std::vector<Tensor>& in) { return index_select(in[0], 0, many.to(in[0].device())); },
                         {table}, 1e-5);
  CHECK_THROWS_AS(index_select(x.to(Device::cuda()), 0, ids({6}).to(Device::cuda())), ArgumentError);
  CHECK_THROWS_AS(index_select(x.to(Device::cuda()), 0, ids({0})), DeviceError);
}
