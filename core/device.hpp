// Where a tensor's memory lives. The device travels with the tensor; every op dispatches on it
// in one visible place (core/ops/*.cpp). There is no global CPU/GPU mode.
#pragma once
#include <string>

namespace dlcraft {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// True when this build has CUDA kernels and a GPU is visible at run time.
bool cuda_available();
// Number of visible GPUs (0 in a CPU-only build).
int cuda_device_count();

}  // namespace dlcraft
