// libFuzzer harness: bytes as a PATH.optim file, loaded into Adam and SGD for a Linear(4, 3)
// (names exp_avg.weight, exp_avg_sq.bias, momentum_buffer.weight, step, ...). Must end in a
// dlcraft::Error or success. Seeds: fuzz/corpus/optim_state/.
#include <cstddef>
#include <cstdint>

#include "core/error.hpp"
#include "core/safetensors.hpp"
#include "layers/checkpoint.hpp"
#include "layers/layers.hpp"
#include "optim/optimizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dlcraft;
  SafeTensors st;
  try {
    st = parse_safetensors(reinterpret_cast<const char*>(data), size, "fuzz.optim");
  } catch (const Error&) {
    return 0;
  }
  Linear model(4, 3);
  Adam adam(model.named_parameters());
  SGD sgd(model.named_parameters(), {0.1f, 0.9f});
  for (Optimizer* opt : {static_cast<Optimizer*>(&adam), static_cast<Optimizer*>(&sgd)}) {
    try {
      apply_optimizer_state(st, "fuzz.optim", *opt);
    } catch (const Error&) {
    }
  }
  return 0;
}
