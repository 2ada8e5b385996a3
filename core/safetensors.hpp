// safetensors files (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the raw
// little-endian data. PyTorch reads ours with safetensors.torch.load_file.
#pragma once
#include <map>
#include <string>

#include "core/tensor.hpp"

namespace dlcraft {

struct SafeTensors {
  std::map<std::string, Tensor> tensors;          // on the CPU
  std::map<std::string, std::string> metadata;    // free-form strings
};

// Writes float32 tensors (from any device) atomically: temp file, then rename.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// Reads F32 tensors; IOError naming the file for a truncated or malformed file.
SafeTensors load_safetensors(const std::string& path);

}  // namespace dlcraft
