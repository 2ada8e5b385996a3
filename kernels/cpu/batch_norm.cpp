// Batch normalisation (배치 정규화) on the CPU. See docs/batch_norm.md.
// x is read as (n, c, inner); channel ch is the n blocks of `inner` values at
// x + (i * c + ch) * inner. One OpenMP thread owns a whole channel, forward and backward: its
// statistics and its outputs. So no two threads write the same element, every sum runs in
// one fixed order (the results repeat bit for bit for any thread count), and the channel's
// values, read twice or three times, are still in the cache the second time.
#include <cmath>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

namespace {

// Sum of f(x[j]) over the channel, in double: float sums over 10^5 values (a (32,64,56,56)
// batch) would lose about 5 digits; double keeps all of float's.
template <class F>
double channel_sum(const BatchNormShape& s, const float* x, int64_t ch, F f) {
  double acc = 0.0;
  for (int64_t i = 0; i < s.n; ++i) {
    const float* xp = x + (i * s.c + ch) * s.inner;
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < s.inner; ++j) acc += f(xp[j]);
  }
  return acc;
}

}  // namespace

void batch_norm_forward_cpu(const BatchNormShape& s, bool training, double momentum, double eps,
                            const float* x, const float* weight, const float* bias,
                            float* running_mean, float* running_var, float* y, float* save_mean,
                            float* save_invstd) {
  const int64_t m = s.per_channel();
#pragma omp parallel for schedule(static) if (s.c * m > 32768)
  for (int64_t ch = 0; ch < s.c; ++ch) {
    double mean, var;
    if (training) {
      // Two passes: the mean, then the squared deviations from it. The one-pass
      // sum(x^2)/M - mean^2 cancels when the mean is large next to the spread.
      mean = channel_sum(s, x, ch, [](float v) { return double(v); }) / double(m);
      const double sq = channel_sum(s, x, ch, [mean](float v) {
        const double d = double(v) - mean;
        return d * d;
      });
      var = sq / double(m);  // biased: what normalises this batch
      // The running statistics get the unbiased variance (m > 1: the op checks it), as torch.
      if (running_mean) running_mean[ch] = float((1.0 - momentum) * running_mean[ch] + momentum * mean);
      if (running_var)
        running_var[ch] = float((1.0 - momentum) * running_var[ch] + momentum * sq / double(m - 1));
    } else {
      mean = running_mean[ch];
      var = running_var[ch];
    }
    const float invstd = float(1.0 / std::sqrt(var + eps));
    save_mean[ch] = float(mean);
    save_invstd[ch] = invstd;
    // y = (x - mean) * scale + b: subtracting first keeps the digits that x * scale + shift
    // would cancel away when |mean| >> std.
    const float mu = float(mean), scale = invstd * (weight ? weight[ch] : 1.0f),
                b = bias ? bias[ch] : 0.0f;
    for (int64_t i = 0; i < s.n; ++i) {
      const int64_t off = (i * s.c + ch) * s.inner;
      const float* xp = x + off;
      float* yp = y + off;
#pragma omp simd
      for (int64_t j = 0; j < s.inner; ++j) yp[j] = (xp[j] - mu) * scale + b;
    }
  }
}

void batch_norm_backward_cpu(const BatchNormShape& s, bool training, const float* x,
                             const float* dy, const float* weight, const float* save_mean,
                             const float* save_invstd, float* dx, float* dweight, float* dbias) {
  const int64_t m = s.per_channel();
#pragma omp parallel for schedule(static) if (s.c * m > 32768)
  for (int64_t ch = 0; ch < s.c; ++ch) {
    const float mu = save_mean[ch], invstd = save_invstd[ch];
    // One pass for both sums: sum dy and sum dy * (x - mean); the second times invstd is
    // sum dy * xhat.
    double sum_dy = 0.0, sum_dy_xmu = 0.0;
    for (int64_t i = 0; i < s.n; ++i) {
      const int64_t off = (i * s.c + ch) * s.inner;
      const float *xp = x + off, *gp = dy + off;
#pragma omp simd reduction(+ : sum_dy, sum_dy_xmu)
      for (int64_t j = 0; j < s.inner; ++j) {
        sum_dy += double(gp[j]);
        sum_dy_xmu += double(gp[j]) * (double(xp[j]) - double(mu));
      }
    }
    const double sum_dy_xhat = sum_dy_xmu * double(invstd);
    dbias[ch] = float(sum_dy);
    dweight[ch] = float(sum_dy_xhat);
    if (!dx) continue;
    const float w = weight ? weight[ch] : 1.0f;
    // dx = w invstd / M (M dy - sum dy - xhat sum dy xhat) = a * dy - b * (x - mean) - c, with
    // a = w invstd, b = w invstd^2 sum(dy xhat) / M and c = w invstd sum(dy) / M.
    // In eval the statistics are constants, so only a * dy remains.
    const float a = w * invstd;
    const float b = training ? float(double(a) * double(invstd) * sum_dy_xhat / double(m)) : 0.0f;
    const float c = training ? float(double(a) * sum_dy / double(m)) : 0.0f;
    for (int64_t i = 0; i < s.n; ++i) {
      const int64_t off = (i * s.c + ch) * s.inner;
      const float *xp = x + off, *gp = dy + off;
      float* dxp = dx + off;
#pragma omp simd
      for (int64_t j = 0; j < s.inner; ++j) dxp[j] = a * gp[j] - b * (xp[j] - mu) - c;
    }
  }
}

}  // namespace dlcraft
