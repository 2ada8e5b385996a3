// The CUDA runtime calls dlcraft makes, on the CPU (DLCRAFT_CUDA=EMU). Device memory is host
// memory from malloc, sized exactly, so AddressSanitizer sees a kernel that reads or writes
// past the end of a buffer. Copies and fills run at once: the one stream is always idle.
#include <cuda_runtime.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

namespace {

// The emulated GPU's memory: a budget, so that an impossible allocation fails as on a GPU.
constexpr size_t kTotalBytes = size_t(16) << 30;  // 16 GiB
std::atomic<size_t> g_used{0};
std::mutex g_sizes_mutex;
std::unordered_map<void*, size_t>& sizes() {
  static auto* m = new std::unordered_map<void*, size_t>;  // never destroyed: frees at exit
  return *m;
}

thread_local cudaError_t t_last_error = cudaSuccess;
thread_local std::string t_launch_failure;  // what the last failed launch said

cudaError_t fail(cudaError_t err) {
  t_last_error = err;
  return err;
}

}  // namespace

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

// An H100's limits and SM count, so that kernels pick the same launch shapes (GEMM's split-K)
// as on the GPU the project runs on.
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return fail(cudaErrorInvalidValue);
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "dlcraft emulated GPU (CPU)");
  prop->totalGlobalMem = kTotalBytes;
  prop->sharedMemPerBlock = 48 << 10;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 132;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) return fail(cudaErrorInvalidValue);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = prop.maxThreadsPerBlock; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = prop.multiProcessorCount; return cudaSuccess;
  }
  return fail(cudaErrorInvalidValue);
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaGetLastError() {
  const cudaError_t err = t_last_error;
  t_last_error = cudaSuccess;
  return err;
}

cudaError_t cudaPeekAtLastError() { return t_last_error; }

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

// For a failed launch, the emulator's own account (which kernel line, which threads).
const char* cudaGetErrorString(cudaError_t err) {
  if ((err == cudaErrorInvalidConfiguration || err == cudaErrorLaunchFailure) && !t_launch_failure.empty())
    return t_launch_failure.c_str();
  switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unknown error";
}

cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (g_used.fetch_add(bytes) + bytes > kTotalBytes) {
    g_used -= bytes;
    return fail(cudaErrorMemoryAllocation);
  }
  *p = std::malloc(bytes);
  if (!*p) {
    g_used -= bytes;
    return fail(cudaErrorMemoryAllocation);
  }
  std::lock_guard<std::mutex> lock(g_sizes_mutex);
  sizes()[*p] = bytes;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(g_sizes_mutex);
    auto it = sizes().find(p);
    if (it == sizes().end()) return fail(cudaErrorInvalidValue);
    g_used -= it->second;
    sizes().erase(it);
  }
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** p, size_t bytes) {
  *p = std::malloc(bytes);
  return *p ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  *total_bytes = kTotalBytes;
  *free_bytes = kTotalBytes - g_used;
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind, cudaStream_t) {
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
  if (bytes) std::memset(p, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  static char the_stream;  // any non-null handle: there is one stream
  *stream = reinterpret_cast<cudaStream_t>(&the_stream);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

// Events: all work before a record has already run (every call runs at once), so a recorded
// event is complete and waiting on it returns at once. A handle is checked, as CUDA checks it.
namespace {
std::mutex g_events_mutex;
std::unordered_map<void*, bool>& events() {  // handle -> recorded at least once
  static auto* m = new std::unordered_map<void*, bool>;
  return *m;
}
}  // namespace

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) {
  auto* handle = reinterpret_cast<cudaEvent_t>(new char);
  std::lock_guard<std::mutex> lock(g_events_mutex);
  events()[handle] = false;
  *event = handle;
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  {
    std::lock_guard<std::mutex> lock(g_events_mutex);
    if (!events().erase(event)) return fail(cudaErrorInvalidValue);
  }
  delete reinterpret_cast<char*>(event);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  std::lock_guard<std::mutex> lock(g_events_mutex);
  auto it = events().find(event);
  if (it == events().end()) return fail(cudaErrorInvalidValue);
  it->second = true;
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(g_events_mutex);
  return events().count(event) ? cudaSuccess : fail(cudaErrorInvalidValue);
}

cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t event, unsigned) {
  return cudaEventSynchronize(event);
}

namespace dlcraft {
namespace emu {

cudaError_t launch_grid(dim3 grid, dim3 block, const std::function<void()>& thread_body) {
  bool invalid_config = false;
  std::string what = run_grid(Dim3{grid.x, grid.y, grid.z}, Dim3{block.x, block.y, block.z}, thread_body, &invalid_config);
  if (what.empty()) return cudaSuccess;
  t_launch_failure = "emulator: " + what;
  return fail(invalid_config ? cudaErrorInvalidConfiguration : cudaErrorLaunchFailure);
}

}  // namespace emu
}  // namespace dlcraft
