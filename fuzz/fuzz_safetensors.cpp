// libFuzzer harness: bytes as a safetensors checkpoint. The reader, loading into a small model
// (strict names and shapes), and the checks train_cifar/predict run on its metadata must end
// in a dlcraft::Error or success; anything else (crash, sanitizer report, other exception) is
// a bug. Seeds: fuzz/corpus/safetensors/.
#include <cstddef>
#include <cstdint>

#include "core/error.hpp"
#include "core/safetensors.hpp"
#include "layers/checkpoint_metadata.hpp"
#include "layers/layers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dlcraft;
  try {
    SafeTensors st = parse_safetensors(reinterpret_cast<const char*>(data), size, "fuzz.safetensors");
    for (auto get : {+[](const Metadata& m) { get_metadata_floats(m, "normalize_std", "fuzz.safetensors", 3, true); },
                     +[](const Metadata& m) { get_class_names(m, "fuzz.safetensors"); },
                     +[](const Metadata& m) { get_metadata_int(m, "epoch", "fuzz.safetensors", 1, 1000000000); },
                     +[](const Metadata& m) { get_metadata_uint64(m, "seed", "fuzz.safetensors"); }}) {
      try {
        get(st.metadata);
      } catch (const Error&) {
      }
    }
    Linear model(4, 3);
    model.load_state_dict(st.tensors, true);
  } catch (const Error&) {
  }
  return 0;
}
