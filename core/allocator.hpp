// Memory for tensors. Blocks are cached by size when freed and handed out again, so a training
// step that repeats the same shapes stops calling the system allocator after its first step
// (checked by tests/test_training.cpp; the counters below make it visible).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/device.hpp"

namespace dlcraft {

struct AllocatorStats {
  size_t system_allocs = 0;   // blocks obtained from malloc/cudaMalloc (cache misses)
  size_t cached_allocs = 0;   // blocks served from the cache
  size_t bytes_in_use = 0;    // bytes held by live tensors
  size_t bytes_cached = 0;    // bytes kept for reuse
};

// A block of raw device memory. Freed (returned to the cache) when the last owner lets go.
class Buffer {
 public:
  Buffer(Device device, size_t bytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

  // Bumped by every in-place write through any tensor on this memory (fill_, copy_, an
  // optimizer step...), so autograd can tell that a tensor it saved for backward has changed
  // (PyTorch's version counter; see SavedTensor in core/autograd.hpp).
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  uint64_t version_ = 0;
  Device device_;
  size_t bytes_;
  void* data_;
};

AllocatorStats allocator_stats(Device device);
// Tests: fill every block handed out with 0xFF bytes (NaN as float), so an output element a
// kernel forgets to write shows up as NaN.
void set_allocator_poison(bool on);
// Frees every cached block back to the system (memory held by live tensors stays).
void empty_cache(Device device);

// The device-specific halves, implemented in core/allocator.cpp (CPU) and
// kernels/cuda/runtime.cu (CUDA; a CPU-only build links kernels/cuda/stubs.cpp, which throws).
void* cuda_raw_alloc(size_t bytes);
void cuda_raw_free(void* p);

}  // namespace dlcraft
