// TensorLoader (datasets/tensor_dataset.hpp) with the GPU as the destination: each batch's
// inputs and float targets copied to the GPU hold exactly the CPU batch's floats, and the
// labels are the same, for class and value targets, odd sizes and a partial last batch.
#include <catch2/catch.hpp>

#include <vector>

#include "core/random.hpp"
#include "datasets/tensor_dataset.hpp"

using namespace dlcraft;

namespace {

// One epoch of `loader` on `device`, as host vectors: inputs, values, labels per batch.
struct EpochData {
  std::vector<std::vector<float>> inputs, values;
  std::vector<std::vector<int32_t>> labels;
};
EpochData read_epoch(TensorLoader& loader, int64_t epoch, Device device) {
  EpochData e;
  loader.start_epoch(epoch);
  Tensor inputs;
  Targets targets;
  while (loader.next_batch_targets(device, inputs, targets)) {
    CHECK(inputs.device() == device);
    e.inputs.push_back(inputs.to_vector());
    e.labels.push_back(targets.labels);
    if (!targets.are_classes()) {
      CHECK(targets.values.device() == device);
      e.values.push_back(targets.values.to_vector());
    }
  }
  return e;
}

}  // namespace

TEST_CASE("tensor loader batches on the GPU equal the CPU's", "[tensor_loader]") {
  Generator gen(17);
  const int64_t n = 53;
  const Tensor x = Tensor::normal({n, 3, 5}, gen);
  std::vector<int64_t> classes(static_cast<size_t>(n));
  for (int64_t& c : classes) c = int64_t(gen.below(7));
  const Tensor y_values = Tensor::normal({n, 2}, gen);
  TensorLoaderOptions opt;
  opt.batch_size = 8;  // 6 full batches and one of 5
  opt.seed = 4;
  for (const Tensor& y : {Tensor::from_vector(classes, {n}), y_values}) {
    TensorLoader loader(TensorDataset(x, y), opt);
    for (int64_t epoch = 0; epoch < 2; ++epoch) {
      const EpochData cpu = read_epoch(loader, epoch, Device::cpu());
      const EpochData gpu = read_epoch(loader, epoch, Device::cuda());
      REQUIRE(cpu.inputs.size() == 7);
      CHECK(cpu.inputs.back().size() == 5 * 15);
      CHECK(gpu.inputs == cpu.inputs);
      CHECK(gpu.labels == cpu.labels);
      CHECK(gpu.values == cpu.values);
    }
  }
}
