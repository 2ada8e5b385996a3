// poison_tensor IN OUT NAME VALUE: copies the safetensors file IN to OUT (tensors and
// metadata) with the middle element of tensor NAME set to VALUE ("nan", "inf", "-inf" or a
// number), for the app tests of the divergence guard and of the checks on loading.
// NAME "metadata:KEY" sets the metadata string KEY to VALUE instead.
#include <cstdio>
#include <string>

#include "core/safetensors.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: poison_tensor IN OUT NAME VALUE\n");
    return 2;
  }
  try {
    dlcraft::SafeTensors st = dlcraft::load_safetensors(argv[1]);
    const std::string name = argv[3], meta = "metadata:";
    if (name.rfind(meta, 0) == 0) {
      st.metadata[name.substr(meta.size())] = argv[4];
      dlcraft::save_safetensors(argv[2], st.tensors, st.metadata);
      return 0;
    }
    auto it = st.tensors.find(argv[3]);
    if (it == st.tensors.end() || it->second.numel() == 0) {
      std::fprintf(stderr, "poison_tensor: %s has no tensor %s\n", argv[1], argv[3]);
      return 1;
    }
    it->second.data()[it->second.numel() / 2] = std::stof(argv[4]);  // stof reads nan, inf
    dlcraft::save_safetensors(argv[2], st.tensors, st.metadata);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "poison_tensor: %s\n", e.what());
    return 1;
  }
  return 0;
}
