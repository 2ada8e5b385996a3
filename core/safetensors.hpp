// safetensors files (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the raw
// little-endian data. PyTorch reads ours with safetensors.torch.load_file. We write three of the
// format's dtypes, ours: F32 (float32), I64 (int64) and BOOL (bool, one byte 0 or 1); we also
// read F16 and BF16 (half-size pretrained weights), widened to float32 exactly.
#pragma once
#include <cstddef>
#include <iosfwd>
#include <map>
#include <string>

#include "core/tensor.hpp"

namespace dlcraft {

struct SafeTensors {
  std::map<std::string, Tensor> tensors;          // on the CPU
  std::map<std::string, std::string> metadata;    // free-form strings
};

// Writes tensors of any dtype (from any device) atomically: temp file, fsync, then rename.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// The same bytes to a stream (for callers that manage their own temp files and renames).
void write_safetensors(std::ostream& out, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Reads F32, I64 and BOOL tensors, and F16 / BF16 ones as float32 (every 16-bit value, incl.
// subnormals, infinities and NaN payloads, is exactly a float32); other dtypes (F64, I32, U8,
// ...) are refused. The reader trusts nothing:
// integer JSON numbers only for shapes and offsets, byte counts (numel * element size) checked
// for overflow, a header of at most 100 MB, data_offsets that tile the data exactly (no gaps,
// overlaps or trailing bytes), BOOL bytes 0 or 1, string metadata. Any problem is an IOError
// naming the file (and the tensor). Callers that need float32 check the dtype themselves
// (load_state_dict, the optimizers' load_state).
SafeTensors load_safetensors(const std::string& path);
// The same from bytes in memory; `name` stands for the file in messages.
SafeTensors parse_safetensors(const char* data, size_t size, const std::string& name);
// The metadata alone, reading only the header, after the same checks; the file's size must be
// what the header's offsets say, so a truncated (half-written) file is an IOError.
std::map<std::string, std::string> read_safetensors_metadata(const std::string& path);

}  // namespace dlcraft
