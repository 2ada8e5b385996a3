#include "core/allocator.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

// One cache per device kind: freed blocks wait in a list keyed by their exact size.
// Exact sizes are enough here: a training loop asks for the same few sizes every step.
struct Cache {
  std::mutex mutex;
  std::multimap<size_t, void*> free_blocks;
  AllocatorStats stats;
};

constexpr int kMaxGpus = 16;

Cache& cache_for(Device d) {
  // Never destroyed: tensors in static storage may still free blocks during program exit.
  static Cache* cpu_cache = new Cache;
  static Cache* cuda_caches = new Cache[kMaxGpus];
  if (d.is_cpu()) return *cpu_cache;
  if (d.index < 0 || d.index >= kMaxGpus) throw DeviceError("no such GPU: " + d.str());
  return cuda_caches[d.index];
}

std::atomic<bool> g_poison{false};

void poison(Device d, void* p, size_t bytes) {
  if (d.is_cuda())
    poison_cuda(p, bytes);
  else
    std::memset(p, 0xFF, bytes);
}

void* system_alloc(Device d, size_t bytes) {
  if (d.is_cuda()) return cuda_raw_alloc(bytes);
  // 64-byte alignment suits AVX-512 loads and keeps rows of different tensors apart.
  size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p)
    throw OutOfMemoryError("out of memory: could not allocate " + std::to_string(bytes) +
                           " bytes on the CPU");
  return p;
}

void system_free(Device d, void* p) {
  if (d.is_cuda())
    cuda_raw_free(p);
  else
    std::free(p);
}

}  // namespace

Buffer::Buffer(Device device, size_t bytes) : device_(device), bytes_(bytes), data_(nullptr) {
  Cache& c = cache_for(device);
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_blocks.find(bytes);
    if (it != c.free_blocks.end()) {
      data_ = it->second;
      c.free_blocks.erase(it);
      c.stats.cached_allocs++;
      c.stats.bytes_cached -= bytes;
      c.stats.bytes_in_use += bytes;
      if (g_poison) poison(device, data_, bytes);
      return;
    }
  }
  void* p = nullptr;
  try {
    p = system_alloc(device, bytes);
  } catch (const OutOfMemoryError&) {
    // Give the cache back and try once more before reporting.
    empty_cache(device);
    p = system_alloc(device, bytes);
  }
  data_ = p;
  if (g_poison) poison(device, data_, bytes);
  std::lock_guard<std::mutex> lock(c.mutex);
  c.stats.system_allocs++;
  c.stats.bytes_in_use += bytes;
}

void set_allocator_poison(bool on) { g_poison = on; }

Buffer::~Buffer() {
  Cache& c = cache_for(device_);
  std::lock_guard<std::mutex> lock(c.mutex);
  c.free_blocks.emplace(bytes_, data_);
  c.stats.bytes_in_use -= bytes_;
  c.stats.bytes_cached += bytes_;
}

AllocatorStats allocator_stats(Device device) {
  Cache& c = cache_for(device);
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.stats;
}

void empty_cache(Device device) {
  if (device.is_cuda()) cuda_synchronize();  // queued kernels may still use cached blocks
  Cache& c = cache_for(device);
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& [bytes, p] : c.free_blocks) system_free(device, p);
  c.free_blocks.clear();
  c.stats.bytes_cached = 0;
}

}  // namespace dlcraft
