// The losses (손실 함수) on the GPU. CPU reference: kernels/cpu/losses.cpp; the point-wise
// formulas are shared with it (kernels/loss_formulas.hpp). One thread per element for the
// point-wise losses, nll and the backward passes; cross-entropy's forward needs each row's
// max and sum (log-sum-exp), so it takes one block per row (the rows layout of reduce.cu),
// with as few threads as the row needs. The mean / sum over the batch is reduce_mean_cuda /
// reduce_sum_cuda, called by the op. The loss's gradient is read per element or, for a
// reduced loss, once (dl_stride 0) straight from device memory: no host round trip.
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/cuda/reduce.cuh"
#include "kernels/loss_formulas.hpp"

namespace dlcraft {
namespace {

constexpr int kThreads = 256;

#define DLCRAFT_GRID_STRIDE(e, n) \
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < (n); e += int64_t(gridDim.x) * blockDim.x)

template <class L>
__global__ void point_forward_kernel(int64_t n, const float* x, const float* t, float* loss) {
  DLCRAFT_GRID_STRIDE(e, n) loss[e] = L::loss(x[e], t[e]);
}

template <class L>
__global__ void point_backward_kernel(int64_t n, const float* x, const float* t, const float* dl, int64_t dl_stride,
                                      float scale, float* dx, float* dt) {
  DLCRAFT_GRID_STRIDE(e, n) {
    float gx, gt;
    L::grad(x[e], t[e], &gx, &gt);
    const float g = dl[e * dl_stride] * scale;
    if (dx) dx[e] = gx * g;
    if (dt) dt[e] = gt * g;
  }
}

template <class L>
void point_forward(const char* op, int64_t n, const float* x, const float* t, float* loss) {
  if (n == 0) return;
  launch(op, point_forward_kernel<L>, grid_for(n), kThreads, n, x, t, loss);
}

template <class L>
void point_backward(const char* op, int64_t n, const float* x, const float* t, const float* dl, int64_t dl_stride,
                    float scale, float* dx, float* dt) {
  if (n == 0) return;
  launch(op, point_backward_kernel<L>, grid_for(n), kThreads, n, x, t, dl, dl_stride, scale, dx, dt);
}

__global__ void nll_forward_kernel(int64_t n, int64_t classes, const float* lp, const int64_t* t, float* loss) {
  DLCRAFT_GRID_STRIDE(i, n) loss[i] = -lp[i * classes + t[i]];
}

__global__ void nll_backward_kernel(int64_t n, int64_t classes, const int64_t* t, const float* dl, int64_t dl_stride,
                                    float scale, float* dx) {
  DLCRAFT_GRID_STRIDE(k, n * classes) {
    const int64_t i = k / classes, j = k % classes;
    dx[k] = j == t[i] ? -dl[i * dl_stride] * scale : 0.0f;
  }
}

// One block per row: lse = m + log sum exp(z - m); loss = lse - (1-e) z_t - e/C sum z.
__global__ void cross_entropy_forward_kernel(int64_t n, int64_t classes, float smoothing, const float* z,
                                             const int64_t* t, float* loss, float* lse) {
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const float* zi = z + i * classes;
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < classes; j += blockDim.x) m = fmaxf(m, zi[j]);
    m = block_all_max(m);
    float s = 0.0f, zsum = 0.0f;
    for (int64_t j = threadIdx.x; j < classes; j += blockDim.x) {
      s += expf(zi[j] - m);
      zsum += zi[j];
    }
    s = block_reduce_sum(s);
    zsum = block_reduce_sum(zsum);
    if (threadIdx.x == 0) {
      const float l = m + logf(s);
      lse[i] = l;
      loss[i] = l - (1.0f - smoothing) * zi[t[i]] - smoothing * zsum / float(classes);
    }
  }
}

// dz = (softmax - (1-e) onehot - e/C) * dl * scale, one thread per logit.
__global__ void cross_entropy_backward_kernel(int64_t n, int64_t classes, float smoothing, const float* z,
                                              const int64_t* t, const float* lse, const float* dl,
                                              int64_t dl_stride, float scale, float* dz) {
  const float uniform = smoothing / float(classes);
  DLCRAFT_GRID_STRIDE(k, n * classes) {
    const int64_t i = k / classes, j = k % classes;
    const float p = expf(z[k] - lse[i]);
    dz[k] = (p - (j == t[i] ? 1.0f - smoothing : 0.0f) - uniform) * (dl[i * dl_stride] * scale);
  }
}

#undef DLCRAFT_GRID_STRIDE

}  // namespace

void mse_loss_forward_cuda(int64_t n, const float* x, const float* t, float* loss) {
  point_forward<loss_formula::Mse>("mse_loss_forward_cuda", n, x, t, loss);
}
void mse_loss_backward_cuda(int64_t n, const float* x, const float* t, const float* dl, int64_t dl_stride,
                            float scale, float* dx, float* dt) {
  point_backward<loss_formula::Mse>("mse_loss_backward_cuda", n, x, t, dl, dl_stride, scale, dx, dt);
}
void l1_loss_forward_cuda(int64_t n, const float* x, const float* t, float* loss) {
  point_forward<loss_formula::L1>("l1_loss_forward_cuda", n, x, t, loss);
}
void l1_loss_backward_cuda(int64_t n, const float* x, const float* t, const float* dl, int64_t dl_stride,
                           float scale, float* dx, float* dt) {
  point_backward<loss_formula::L1>("l1_loss_backward_cuda", n, x, t, dl, dl_stride, scale, dx, dt);
}
void bce_loss_forward_cuda(int64_t n, const float* x, const float* t, float* loss) {
  point_forward<loss_formula::Bce>("bce_loss_forward_cuda", n, x, t, loss);
}
void bce_loss_backward_cuda(int64_t n, const float* x, const float* t, const float* dl, int64_t dl_stride,
                            float scale, float* dx, float* dt) {
  point_backward<loss_formula::Bce>("bce_loss_backward_cuda", n, x, t, dl, dl_stride, scale, dx, dt);
}
void bce_logits_loss_forward_cuda(int64_t n, const float* x, const float* t, float* loss) {
  point_forward<loss_formula::BceWithLogits>("bce_logits_loss_forward_cuda", n, x, t, loss);
}
void bce_logits_loss_backward_cuda(int64_t n, const float* x, const float* t, const float* dl, int64_t dl_stride,
                                   float scale, float* dx, float* dt) {
  point_backward<loss_formula::BceWithLogits>("bce_logits_loss_backward_cuda", n, x, t, dl, dl_stride, scale, dx,
                                              dt);
}

void nll_loss_forward_cuda(int64_t n, int64_t classes, const float* lp, const int64_t* t, float* loss) {
  if (n == 0) return;
  launch("nll_loss_forward_cuda", nll_forward_kernel, grid_for(n), kThreads, n, classes, lp, t, loss);
}

void nll_loss_backward_cuda(int64_t n, int64_t classes, const int64_t* t, const float* dl, int64_t dl_stride,
                            float scale, float* dx) {
  if (n * classes == 0) return;
  launch("nll_loss_backward_cuda", nll_backward_kernel, grid_for(n * classes), kThreads, n, classes, t, dl,
         dl_stride, scale, dx);
}

void cross_entropy_forward_cuda(int64_t n, int64_t classes, float smoothing, const float* z, const int64_t* t,
                                float* loss, float* lse) {
  if (n == 0) return;
  launch("cross_entropy_forward_cuda", cross_entropy_forward_kernel, grid_for(n, 1), reduce_block_threads(classes),
         n, classes, smoothing, z, t, loss, lse);
}

void cross_entropy_backward_cuda(int64_t n, int64_t classes, float smoothing, const float* z, const int64_t* t,
                                 const float* lse, const float* dl, int64_t dl_stride, float scale, float* dz) {
  if (n * classes == 0) return;
  launch("cross_entropy_backward_cuda", cross_entropy_backward_kernel, grid_for(n * classes), kThreads, n, classes,
         smoothing, z, t, lse, dl, dl_stride, scale, dz);
}

}  // namespace dlcraft
