// expand, sum and sum_to on the GPU against the CPU reference: random shapes with odd sizes,
// every combination of reduced dimensions (rows, columns and both kernels), long reductions.
#include <catch2/catch.hpp>

#include "core/ops.hpp"
#include "op_test_util.hpp"

using namespace dlcraft;
using namespace dlcraft::test;

TEST_CASE("sum, expand and sum_to on the GPU match the CPU", "[tensor][memcheck]") {
  Generator gen(11);
  for (Shape shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 17}, Shape{33, 1, 9}, Shape{1, 2000}}) {
    Tensor x = uniform_tensor(shape, gen);
    const int64_t r = int64_t(shape.size());
    for (int64_t mask = 0; mask < (int64_t(1) << r); ++mask) {
      std::vector<int64_t> dims;
      for (int64_t d = 0; d < r; ++d)
        if (mask >> d & 1) dims.push_back(d);
      check_cuda_matches_cpu("sum over mask " + std::to_string(mask) + " of " + to_string(shape),
                             [&](const std::vector<Tensor>& in) { return sum(in[0], dims, mask & 1); },
                             {x}, 1e-5);
    }
  }
  check_cuda_matches_cpu("sum of 100000", [](const std::vector<Tensor>& in) { return sum(in[0]); },
                         {uniform_tensor({100000}, gen)}, 1e-4);
  check_cuda_matches_cpu("expand", [](const std::vector<Tensor>& in) { return expand(in[0], {4, 3, 5}); },
                         {uniform_tensor({3, 1}, gen)});
  check_cuda_matches_cpu("sum_to", [](const std::vector<Tensor>& in) { return sum_to(in[0], {1, 5}); },
                         {uniform_tensor({6, 3, 5}, gen)});
}
