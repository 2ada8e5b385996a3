// Element types a tensor can hold. float32 is what the network computes in; int64 holds labels,
// indices and argmax results (torch.long); bool holds masks from comparisons (torch.bool, one
// byte per element). Ops say in their error which dtypes they take.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace dlcraft {

enum class DType { Float32, Int64, Bool };

inline size_t element_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
  }
  return 4;
}

// "float32", "int64", "bool": the names PyTorch prints (torch.float32, torch.int64, torch.bool).
inline std::string to_string(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  return "?";
}

// The C++ type stored for each dtype (bool is stored as one byte, 0 or 1).
template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::Bool; };

}  // namespace dlcraft
