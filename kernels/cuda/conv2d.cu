// conv2d (합성곱) on the GPU, ours. See docs/convolution.md ("On the GPU").
//   im2col + our GEMM (kernels/cuda/gemm.cu), the same decomposition as the CPU fast path:
//   forward       y_n   = W (K x CRS) * col_n (CRS x P) + b      one batched GEMM, bias in its epilogue
//   grad input    dcol_n = W^T * dy_n, then col2im (a gather: each input pixel sums its taps,
//                 no atomics, so results repeat exactly)
//   grad weight   dW = sum_n dy_n * col_n^T                       one GEMM summing over images
//   grad bias     db[k] = sum over n, p of dy                     one block per channel
// Why im2col rather than implicit GEMM: it reuses one tested GEMM for all three products and
// reads like the CPU code; the cost is the col buffer's memory traffic (see the note).
// Images go in chunks so the col buffer stays under kColBudget bytes. A pointwise conv (1x1,
// stride 1, no padding) needs no col at all: the GEMMs read x and write dx directly.
#include <algorithm>
#include <memory>

#include "core/allocator.hpp"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/gemm.cuh"

namespace dlcraft {
namespace {

constexpr size_t kColBudget = size_t(512) << 20;  // 512 MiB of col buffer at most

// One thread per col element: (image j of the chunk, row crs = (c, i, j), output position p).
// col is (chunk, CRS, P).
__global__ void im2col_kernel(Conv2dShape s, const float* x, int chunk, float* col) {
  const int oh = s.out_h(), ow = s.out_w(), P = oh * ow, CRS = s.c * s.r * s.s;
  const int64_t total = int64_t(chunk) * CRS * P;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total; idx += int64_t(gridDim.x) * blockDim.x) {
    const int p = int(idx % P);
    const int crs = int((idx / P) % CRS);
    const int n = int(idx / (int64_t(P) * CRS));
    const int c = crs / (s.r * s.s), i = (crs / s.s) % s.r, j = crs % s.s;
    const int hi = (p / ow) * s.stride_h + i - s.pad_h, wi = (p % ow) * s.stride_w + j - s.pad_w;
    const bool inside = hi >= 0 && hi < s.h && wi >= 0 && wi < s.w;
    col[idx] = inside ? x[((int64_t(n) * s.c + c) * s.h + hi) * s.w + wi] : 0.0f;
  }
}

// One thread per input element (n, c, h, w): sums dcol over every tap (i, j) whose window
// position (p, q) put that tap on this pixel: p*stride_h + i - pad_h == h (and the same for w).
__global__ void col2im_kernel(Conv2dShape s, const float* dcol, int chunk, float* dx) {
  const int oh = s.out_h(), ow = s.out_w(), P = oh * ow, CRS = s.c * s.r * s.s;
  const int64_t total = int64_t(chunk) * s.c * s.h * s.w;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total; idx += int64_t(gridDim.x) * blockDim.x) {
    const int w = int(idx % s.w), h = int((idx / s.w) % s.h);
    const int c = int((idx / (int64_t(s.w) * s.h)) % s.c), n = int(idx / (int64_t(s.w) * s.h * s.c));
    float acc = 0.0f;
    for (int i = 0; i < s.r; ++i) {
      const int ph = h + s.pad_h - i;
      if (ph < 0 || ph % s.stride_h != 0 || ph / s.stride_h >= oh) continue;
      for (int j = 0; j < s.s; ++j) {
        const int pw = w + s.pad_w - j;
        if (pw < 0 || pw % s.stride_w != 0 || pw / s.stride_w >= ow) continue;
        const int crs = (c * s.r + i) * s.s + j, p = (ph / s.stride_h) * ow + pw / s.stride_w;
        acc += dcol[(int64_t(n) * CRS + crs) * P + p];
      }
    }
    dx[idx] = acc;
  }
}

// One block per output channel k: a tree sum of dy[:, k, :, :] in shared memory.
__global__ void conv_bias_grad_kernel(Conv2dShape s, const float* dy, float* db) {
  const int k = blockIdx.x, P = s.out_h() * s.out_w();
  float acc = 0.0f;
  for (int64_t e = threadIdx.x; e < int64_t(s.n) * P; e += blockDim.x) {
    const int n = int(e / P), p = int(e % P);
    acc += dy[(int64_t(n) * s.k + k) * P + p];
  }
  __shared__ float part[256];
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) part[threadIdx.x] += part[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) db[k] = part[0];
}

// A 1x1 kernel with stride 1 and no padding: col_n would be x_n itself (C x H*W), so the
// GEMMs read x (and write dx) directly, with no col buffer and no im2col/col2im launch.
bool pointwise(const Conv2dShape& s) {
  return s.r == 1 && s.s == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_h == 0 && s.pad_w == 0;
}

int images_per_chunk(const Conv2dShape& s) {
  // At most 65535 images: the batched GEMM puts one image per grid z index.
  const size_t most = std::min<size_t>(size_t(s.n), 65535);
  if (pointwise(s)) return int(std::max<size_t>(1, most));  // no col buffer to bound
  const size_t per_image = sizeof(float) * size_t(s.c) * s.r * s.s * s.out_h() * s.out_w();
  const size_t by_budget = kColBudget / std::max<size_t>(per_image, 1);
  return int(std::max<size_t>(1, std::min<size_t>(most, by_budget)));
}

void im2col(const Conv2dShape& s, const float* x, int chunk, float* col) {
  const int64_t total = int64_t(chunk) * s.c * s.r * s.s * s.out_h() * s.out_w();
  launch("conv2d im2col", im2col_kernel, grid_for(total), 256, s, x, chunk, col);
}

// The col (or dcol) buffer of one chunk; none for a pointwise conv.
std::unique_ptr<Buffer> col_buffer(const Conv2dShape& s, int chunk) {
  if (pointwise(s)) return nullptr;
  const size_t count = size_t(chunk) * s.c * s.r * s.s * s.out_h() * s.out_w();
  return std::make_unique<Buffer>(Device::cuda(), sizeof(float) * count);
}

}  // namespace

void conv2d_forward_cuda(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y,
                         bool relu) {
  const int P = s.out_h() * s.out_w(), CRS = s.c * s.r * s.s, chunk = images_per_chunk(s);
  const std::unique_ptr<Buffer> col = col_buffer(s, chunk);
  for (int n0 = 0; n0 < s.n; n0 += chunk) {
    const int count = std::min(chunk, s.n - n0);
    const float* xn = x + int64_t(n0) * s.c * s.h * s.w;
    const float* colp = xn;  // pointwise: x_n is col_n (CRS*P = C*H*W floats apart)
    if (col) {
      im2col(s, xn, count, static_cast<float*>(col->data()));
      colp = static_cast<const float*>(col->data());
    }
    GemmBatch batch{count, 0, int64_t(CRS) * P, int64_t(s.k) * P, false};
    GemmEpilogue ep;
    ep.bias_row = b;  // row of y_n = output channel k
    ep.relu = relu;   // conv2d_relu: the fused epilogue (docs/fused_epilogues.md)
    gemm_cuda_ex(false, false, s.k, P, CRS, 1.0f, w, CRS, colp, P, 0.0f, y + int64_t(n0) * s.k * P, P, batch, ep);
  }
}

void conv2d_backward_input_cuda(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  const int P = s.out_h() * s.out_w(), CRS = s.c * s.r * s.s, chunk = images_per_chunk(s);
  const std::unique_ptr<Buffer> dcol = col_buffer(s, chunk);
  for (int n0 = 0; n0 < s.n; n0 += chunk) {
    const int count = std::min(chunk, s.n - n0);
    float* dxn = dx + int64_t(n0) * s.c * s.h * s.w;
    float* dcolp = dcol ? static_cast<float*>(dcol->data()) : dxn;  // pointwise: dcol_n is dx_n
    GemmBatch batch{count, 0, int64_t(s.k) * P, int64_t(CRS) * P, false};
    gemm_cuda_ex(true, false, CRS, P, s.k, 1.0f, w, CRS, dy + int64_t(n0) * s.k * P, P, 0.0f, dcolp, P, batch, {});
    if (dcol) {
      const int64_t total = int64_t(count) * s.c * s.h * s.w;
      launch("conv2d col2im", col2im_kernel, grid_for(total), 256, s, dcolp, count, dxn);
    }
  }
}

void conv2d_backward_weight_cuda(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db) {
  const int P = s.out_h() * s.out_w(), CRS = s.c * s.r * s.s, chunk = images_per_chunk(s);
  if (s.n == 0) fill_cuda(int64_t(s.k) * CRS, 0.0f, dw);  // no images: a zero gradient
  const std::unique_ptr<Buffer> col = col_buffer(s, chunk);
  for (int n0 = 0; n0 < s.n; n0 += chunk) {
    const int count = std::min(chunk, s.n - n0);
    const float* xn = x + int64_t(n0) * s.c * s.h * s.w;
    const float* colp = xn;
    if (col) {
      im2col(s, xn, count, static_cast<float*>(col->data()));
      colp = static_cast<const float*>(col->data());
    }
    // dW (K x CRS) += sum over the chunk's images of dy_n (K x P) * col_n^T (P x CRS)
    GemmBatch batch{count, int64_t(s.k) * P, int64_t(CRS) * P, 0, true};
    gemm_cuda_ex(false, true, s.k, CRS, P, 1.0f, dy + int64_t(n0) * s.k * P, P, colp, P,
                 n0 == 0 ? 0.0f : 1.0f, dw, CRS, batch, {});
  }
  if (db && s.k > 0) {
    launch("conv2d bias gradient", conv_bias_grad_kernel, s.k, 256, s, dy, db);
  }
}

}  // namespace dlcraft
