// The losses (손실 함수) on the CPU, one fused pass each: the forward writes every element's
// (or row's) loss, and the op sums or averages those with reduce_sum / reduce_mean; the
// backward writes the input's (and target's) gradient in one pass, reading the loss's gradient
// per element (reduction None) or once (stride 0: Mean/Sum, with scale 1/n for Mean).
// The point-wise formulas are shared with the GPU: kernels/loss_formulas.hpp. docs/losses.md.
#include <cmath>

#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/loss_formulas.hpp"

namespace dlcraft {
namespace {

template <class L>
void point_forward(int64_t n, const float* x, const float* t, float* loss) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t e = 0; e < n; ++e) loss[e] = L::loss(x[e], t[e]);
}

template <class L>
void point_backward(int64_t n, const float* x, const float* t, const float* dl, int64_t dl_stride,
                    float scale, float* dx, float* dt) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t e = 0; e < n; ++e) {
    float gx, gt;
    L::grad(x[e], t[e], &gx, &gt);
    const float g = dl[e * dl_stride] * scale;
    if (dx) dx[e] = gx * g;
    if (dt) dt[e] = gt * g;
  }
}

}  // namespace

void mse_loss_forward_cpu(int64_t n, const float* x, const float* t, float* loss) {
  point_forward<loss_formula::Mse>(n, x, t, loss);
}
void mse_loss_backward_cpu(int64_t n, const float* x, const float* t, const float* dl,
                           int64_t dl_stride, float scale, float* dx, float* dt) {
  point_backward<loss_formula::Mse>(n, x, t, dl, dl_stride, scale, dx, dt);
}
void l1_loss_forward_cpu(int64_t n, const float* x, const float* t, float* loss) {
  point_forward<loss_formula::L1>(n, x, t, loss);
}
void l1_loss_backward_cpu(int64_t n, const float* x, const float* t, const float* dl,
                          int64_t dl_stride, float scale, float* dx, float* dt) {
  point_backward<loss_formula::L1>(n, x, t, dl, dl_stride, scale, dx, dt);
}
void bce_loss_forward_cpu(int64_t n, const float* x, const float* t, float* loss) {
  point_forward<loss_formula::Bce>(n, x, t, loss);
}
void bce_loss_backward_cpu(int64_t n, const float* x, const float* t, const float* dl,
                           int64_t dl_stride, float scale, float* dx, float* dt) {
  point_backward<loss_formula::Bce>(n, x, t, dl, dl_stride, scale, dx, dt);
}
void bce_logits_loss_forward_cpu(int64_t n, const float* x, const float* t, float* loss) {
  point_forward<loss_formula::BceWithLogits>(n, x, t, loss);
}
void bce_logits_loss_backward_cpu(int64_t n, const float* x, const float* t, const float* dl,
                                  int64_t dl_stride, float scale, float* dx, float* dt) {
  point_backward<loss_formula::BceWithLogits>(n, x, t, dl, dl_stride, scale, dx, dt);
}

// nll: the loss of row i is minus the log-probability of its class; the gradient is -1 there
// and 0 elsewhere.
void nll_loss_forward_cpu(int64_t n, int64_t classes, const float* lp, const int64_t* t,
                          float* loss) {
  for (int64_t i = 0; i < n; ++i) loss[i] = -lp[i * classes + t[i]];
}

void nll_loss_backward_cpu(int64_t n, int64_t classes, const int64_t* t, const float* dl,
                           int64_t dl_stride, float scale, float* dx) {
#pragma omp parallel for schedule(static) if (n * classes > 65536)
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < classes; ++j)
      dx[i * classes + j] = j == t[i] ? -dl[i * dl_stride] * scale : 0.0f;
}

// Cross-entropy straight from the logits: -log softmax(z)_j = lse - z_j with the stable
// lse = m + log sum exp(z - m), so no probability is ever rounded to 0 and then logged.
// With label smoothing e the target is (1 - e) onehot + e/C everywhere (torch's definition):
// loss = (1 - e)(lse - z_t) + e/C sum_j (lse - z_j) = lse - (1 - e) z_t - e/C sum_j z_j.
void cross_entropy_forward_cpu(int64_t n, int64_t classes, float smoothing, const float* z,
                               const int64_t* t, float* loss, float* lse) {
#pragma omp parallel for schedule(static) if (n * classes > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float* zi = z + i * classes;
    float m = -INFINITY;
    for (int64_t j = 0; j < classes; ++j) m = std::fmax(m, zi[j]);
    double s = 0, zsum = 0;
    for (int64_t j = 0; j < classes; ++j) {
      s += std::exp(double(zi[j]) - m);
      zsum += zi[j];
    }
    const double l = m + std::log(s);
    lse[i] = float(l);
    loss[i] = float(l - (1.0 - smoothing) * zi[t[i]] - smoothing * zsum / double(classes));
  }
}

void cross_entropy_backward_cpu(int64_t n, int64_t classes, float smoothing, const float* z,
                                const int64_t* t, const float* lse, const float* dl,
                                int64_t dl_stride, float scale, float* dz) {
  const float uniform = smoothing / float(classes);
#pragma omp parallel for schedule(static) if (n * classes > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float g = dl[i * dl_stride] * scale;
    for (int64_t j = 0; j < classes; ++j) {
      const int64_t k = i * classes + j;
      const float p = std::exp(z[k] - lse[i]);
      dz[k] = (p - (j == t[i] ? 1.0f - smoothing : 0.0f) - uniform) * g;
    }
  }
}

}  // namespace dlcraft
