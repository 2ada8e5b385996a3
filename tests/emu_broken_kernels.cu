// Kernels with deliberate bugs, each beside its correct form (Bug::None); see
// emu_broken_kernels.hpp. Built in the emulated build only (DLCRAFT_CUDA=EMU).
#include "tests/emu_broken_kernels.hpp"

#include "kernels/cuda/cuda_check.cuh"

namespace dlcraft {
namespace emu_test {
namespace {

constexpr int kThreads = 256;

// One block per 256 elements: a tree sum in shared memory.
//   MissingBarrier: no barrier between the stores and the first reads.
//   DivergentBarrier: the loop's barrier inside `if (tid < stride)`.
__global__ void block_sum_kernel(const float* x, float* sums, Bug bug) {
  __shared__ float part[kThreads];
  const int tid = threadIdx.x;
  part[tid] = x[blockIdx.x * kThreads + tid];
  if (bug != Bug::MissingBarrier) __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (tid < stride) {
      part[tid] += part[tid + stride];
      if (bug == Bug::DivergentBarrier) __syncthreads();
    }
    if (bug != Bug::DivergentBarrier) __syncthreads();
  }
  if (tid == 0) sums[blockIdx.x] = part[0];
}

// One block: thread i writes x[i] to shared memory and reads its left neighbour's.
//   MissingBarrier: no barrier in between (right only when thread i-1 happens to run first).
__global__ void shift_right_kernel(const float* x, float* y, Bug bug) {
  __shared__ float s[kThreads];
  const int tid = threadIdx.x;
  s[tid] = x[tid];
  if (bug != Bug::MissingBarrier) __syncthreads();
  y[tid] = tid > 0 ? s[tid - 1] : 0.0f;
}

// One 16x16 tile of C per block of 16x16 threads; A and B pass through shared memory 16
// columns at a time.
//   MissingBarrier: no barrier after the multiply, so a fast thread loads the next tile over
//   the one its neighbours are still reading.
//   OffByOne: A's tile is read one column to the right (past the end of A in the last tile).
__global__ void matmul_kernel(int n, const float* a, const float* b, float* c, Bug bug) {
  __shared__ float as[16][16], bs[16][16];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * 16 + ty, col = blockIdx.x * 16 + tx;
  const int shift = bug == Bug::OffByOne ? 1 : 0;
  float acc = 0.0f;
  for (int k0 = 0; k0 < n; k0 += 16) {
    as[ty][tx] = a[row * n + k0 + tx + shift];
    bs[ty][tx] = b[(k0 + ty) * n + col];
    __syncthreads();
    for (int k = 0; k < 16; ++k) acc += as[ty][k] * bs[k][tx];
    if (bug != Bug::MissingBarrier) __syncthreads();
  }
  c[row * n + col] = acc;
}

// Each warp adds its 32 values with xor shuffles; lane 0 writes the sum.
//   InactiveLane: lanes 16..31 return first, yet the full mask still names them.
__global__ void warp_sum_kernel(const float* x, float* sums, Bug bug) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x, lane = threadIdx.x % 32;
  float v = x[i];
  if (bug == Bug::InactiveLane && lane >= 16) return;
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  if (lane == 0) sums[i / 32] = v;
}

__global__ void empty_kernel() {}

// Device memory holding a copy of a host vector, freed at the end of the scope.
class DeviceFloats {
 public:
  explicit DeviceFloats(const std::vector<float>& host) : n_(host.size()) {
    cuda_check(cudaMalloc(reinterpret_cast<void**>(&p_), n_ * sizeof(float)), "cudaMalloc");
    cuda_check(cudaMemcpyAsync(p_, host.data(), n_ * sizeof(float), cudaMemcpyHostToDevice, dlcraft_stream()), "copy");
  }
  explicit DeviceFloats(size_t n) : DeviceFloats(std::vector<float>(n, 0.0f)) {}
  ~DeviceFloats() { cudaFree(p_); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  float* get() const { return p_; }
  std::vector<float> to_host() const {
    std::vector<float> host(n_);
    cuda_check(cudaMemcpyAsync(host.data(), p_, n_ * sizeof(float), cudaMemcpyDeviceToHost, dlcraft_stream()), "copy");
    cuda_check(cudaStreamSynchronize(dlcraft_stream()), "sync");
    return host;
  }

 private:
  size_t n_;
  float* p_ = nullptr;
};

}  // namespace

std::vector<float> block_sums(const std::vector<float>& x, Bug bug) {
  const unsigned blocks = unsigned(x.size() / kThreads);
  DeviceFloats dx(x), dsums(blocks);
  launch("block_sums", block_sum_kernel, blocks, kThreads, dx.get(), dsums.get(), bug);
  return dsums.to_host();
}

std::vector<float> shift_right(const std::vector<float>& x, Bug bug) {
  DeviceFloats dx(x), dy(x.size());
  launch("shift_right", shift_right_kernel, 1, kThreads, dx.get(), dy.get(), bug);
  return dy.to_host();
}

std::vector<float> matmul(int n, const std::vector<float>& a, const std::vector<float>& b, Bug bug) {
  DeviceFloats da(a), db(b), dc(size_t(n) * n);
  launch("matmul", matmul_kernel, dim3(n / 16, n / 16), dim3(16, 16), n, da.get(), db.get(), dc.get(), bug);
  return dc.to_host();
}

std::vector<float> warp_sums(const std::vector<float>& x, int block_threads, Bug bug) {
  DeviceFloats dx(x), dsums(x.size() / 32);
  launch("warp_sums", warp_sum_kernel, unsigned(x.size() / block_threads), block_threads, dx.get(), dsums.get(), bug);
  return dsums.to_host();
}

void launch_empty(unsigned block_threads, unsigned grid_y) {
  launch("launch_empty", empty_kernel, dim3(1, grid_y), block_threads);
}

}  // namespace emu_test
}  // namespace dlcraft
