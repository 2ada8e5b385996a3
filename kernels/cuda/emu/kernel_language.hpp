// The CUDA C++ kernel language, as plain C++ for the emulated build (DLCRAFT_CUDA=EMU):
// the qualifiers, the built-in variables, __syncthreads, warp shuffles, atomicAdd and the
// device math our kernels use. Included through the emulated <cuda_runtime.h>; never in a
// real CUDA build.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/cuda/emu/scheduler.hpp"

// Function qualifiers: every function is an ordinary host function here.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict

// __shared__ variables are thread_local statics, all in one named section: each OS thread
// running blocks has its own copy, which it fills with 0xFF bytes (NaN as float) before each
// block, so a read before any thread of the block wrote shows up as NaN. (shared_memory.cpp)
#define __shared__ static thread_local __attribute__((section("dlcraft_emu_shared")))

// The built-in variables of the running CUDA thread.
#define threadIdx (::dlcraft::emu::current->thread_idx)
#define blockIdx (::dlcraft::emu::current->block_idx)
#define blockDim (::dlcraft::emu::current->block_dim)
#define gridDim (::dlcraft::emu::current->grid_dim)
constexpr int warpSize = 32;  // a built-in variable in CUDA

// Barriers and shuffles switch to the other threads of the block; their place in the source
// goes with them, for the checks' messages.
#define DLCRAFT_EMU_SITE (::dlcraft::emu::Site{__func__, __FILE__, __LINE__})
#define __syncthreads() ::dlcraft::emu::syncthreads(DLCRAFT_EMU_SITE)
#define __shfl_sync(...) ::dlcraft::emu::shfl_idx(DLCRAFT_EMU_SITE, __VA_ARGS__)
#define __shfl_xor_sync(...) ::dlcraft::emu::shfl_xor(DLCRAFT_EMU_SITE, __VA_ARGS__)
#define __shfl_down_sync(...) ::dlcraft::emu::shfl_down(DLCRAFT_EMU_SITE, __VA_ARGS__)
#define __shfl_up_sync(...) ::dlcraft::emu::shfl_up(DLCRAFT_EMU_SITE, __VA_ARGS__)
#define __any_sync(...) ::dlcraft::emu::any_sync(DLCRAFT_EMU_SITE, __VA_ARGS__)
#define __all_sync(...) ::dlcraft::emu::all_sync(DLCRAFT_EMU_SITE, __VA_ARGS__)

namespace dlcraft {
namespace emu {

// Every lane of the warp hands in `value` and gets the value of lane `src` (of its own
// width-wide segment); a lane outside the segment keeps its own value, as on the GPU.
template <typename T>
T shfl_from(Site where, unsigned mask, T value, int src, bool keep_own) {
  static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 8, "shuffles move up to 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  bits = shuffle(where, mask, bits, keep_own ? lane_id() : src);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}
template <typename T>
T shfl_idx(Site where, unsigned mask, T value, int src_lane, int width = 32) {
  const int base = lane_id() / width * width;
  return shfl_from(where, mask, value, base + src_lane % width, false);
}
template <typename T>
T shfl_xor(Site where, unsigned mask, T value, int lane_mask, int width = 32) {
  const int src = lane_id() ^ lane_mask;
  return shfl_from(where, mask, value, src, src / width != lane_id() / width);
}
template <typename T>
T shfl_down(Site where, unsigned mask, T value, unsigned delta, int width = 32) {
  const int src = lane_id() + int(delta);
  return shfl_from(where, mask, value, src, src / width != lane_id() / width);
}
template <typename T>
T shfl_up(Site where, unsigned mask, T value, unsigned delta, int width = 32) {
  const int src = lane_id() - int(delta);
  return shfl_from(where, mask, value, src, src < 0 || src / width != lane_id() / width);
}

// Warp votes, built from shuffles (a butterfly over the 32 lanes): the same mask checks apply.
inline int any_sync(Site where, unsigned mask, int predicate) {
  unsigned v = predicate ? 1u : 0u;
  for (int offset = 16; offset > 0; offset >>= 1) v |= shfl_xor(where, mask, v, offset);
  return v != 0;
}
inline int all_sync(Site where, unsigned mask, int predicate) {
  unsigned v = predicate ? 1u : 0u;
  for (int offset = 16; offset > 0; offset >>= 1) v &= shfl_xor(where, mask, v, offset);
  return v != 0;
}

}  // namespace emu
}  // namespace dlcraft

// atomicAdd: blocks run on several worker threads at once, so this must be a real atomic.
// A compare-and-swap loop on the float's bits (the CUDA programming guide's loop for double
// before sm_60): read the old value, add, and store only if nobody changed it meanwhile;
// else try again. Returns the old value, as CUDA's does. (The threads of one block are fibers
// on one worker: no switch happens inside, so they never race here.) Used by the scatter-add
// of index_select/gather's backward (kernels/cuda/indexing.cu) and the sum steps.
inline float atomicAdd(float* address, float value) {
  float old, sum;
  __atomic_load(address, &old, __ATOMIC_RELAXED);
  do {
    sum = old + value;
  } while (!__atomic_compare_exchange(address, &old, &sum, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return old;
}
inline int atomicAdd(int* address, int value) { return __atomic_fetch_add(address, value, __ATOMIC_RELAXED); }
inline unsigned atomicAdd(unsigned* address, unsigned value) {
  return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
}

// Device math. fmaf is a slow library call on a CPU compiled without FMA instructions (it was
// 40% of the GEMM's time); multiply-then-add rounds once more, well within the tests' tolerance.
#define fmaf(a, b, c) ((a) * (b) + (c))
// What is not already in <cmath>'s global namespace.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t max(int64_t a, int64_t b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
// CUDA's isnan/isinf/isfinite are global device functions; <cmath> has them in std:: only.
using std::isfinite;
using std::isinf;
using std::isnan;

