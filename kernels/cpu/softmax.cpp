// softmax, log_softmax and logsumexp along one dimension on the CPU. x is seen as
// (outer, dim, inner): line l = (o, i) holds x[(o * dim + j) * inner + i] for j in [0, dim),
// so the same loop serves the last dimension (inner = 1) and any other.
// Numerically stable: the line's maximum m is subtracted before exp (exp(x - m) <= 1 never
// overflows), and added back in log space: logsumexp = m + log sum exp(x - m).
// Backward (docs/reductions.md):
//   softmax      y = exp(x) / sum exp(x):    dx = y * (dy - sum_j dy_j y_j)
//   log_softmax  y = x - logsumexp(x):       dx = dy - exp(y) * sum_j dy_j
//   logsumexp    y = log sum exp(x):         dx = dy * exp(x - y)   (= dy * softmax(x))
#include <cmath>
#include <vector>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {
namespace {

// The maximum over a line; fmax skips NaN (a NaN still turns the whole line to NaN through
// exp), as the GPU's fmaxf does, so both give the same answer.
inline float line_max(const float* x, int64_t dim, int64_t inner) {
  float m = -INFINITY;
  for (int64_t j = 0; j < dim; ++j) m = std::fmax(m, x[j * inner]);
  return m;
}

inline double line_sum_exp(const float* x, int64_t dim, int64_t inner, float m) {
  double s = 0;
  for (int64_t j = 0; j < dim; ++j) s += std::exp(double(x[j * inner]) - m);
  return s;
}

}  // namespace

void softmax_forward_cpu(int64_t outer, int64_t dim, int64_t inner, bool log, const float* x,
                         float* y) {
  const int64_t lines = outer * inner;
  if (inner == 1 && !log) {
    // softmax over the last dimension: rows in parallel, exp(x - m) computed once per element
    // and kept (in double) for the scaling pass; the same numbers as the loop below.
#pragma omp parallel if (lines * dim > 65536)
    {
      std::vector<double> e(static_cast<size_t>(dim));
#pragma omp for schedule(static)
      for (int64_t l = 0; l < lines; ++l) {
        const float* xl = x + l * dim;
        float* yl = y + l * dim;
        const float m = line_max(xl, dim, 1);
        double s = 0;
        for (int64_t j = 0; j < dim; ++j) {
          e[size_t(j)] = std::exp(double(xl[j]) - m);
          s += e[size_t(j)];
        }
        for (int64_t j = 0; j < dim; ++j) yl[j] = float(e[size_t(j)] / s);
      }
    }
    return;
  }
#pragma omp parallel for schedule(static) if (lines * dim > 65536)
  for (int64_t l = 0; l < lines; ++l) {
    const int64_t start = (l / inner) * dim * inner + l % inner;
    const float* xl = x + start;
    float* yl = y + start;
    const float m = line_max(xl, dim, inner);
    const double s = line_sum_exp(xl, dim, inner, m);
    if (log) {
      const double log_s = std::log(s);
      for (int64_t j = 0; j < dim; ++j) yl[j * inner] = float(double(xl[j * inner]) - m - log_s);
    } else {
      for (int64_t j = 0; j < dim; ++j) yl[j * inner] = float(std::exp(double(xl[j * inner]) - m) / s);
    }
  }
}

void softmax_backward_cpu(int64_t outer, int64_t dim, int64_t inner, bool log, const float* y,
                          const float* dy, float* dx) {
  const int64_t lines = outer * inner;
#pragma omp parallel for schedule(static) if (lines * dim > 65536)
  for (int64_t l = 0; l < lines; ++l) {
    const int64_t start = (l / inner) * dim * inner + l % inner;
    const float *yl = y + start, *gl = dy + start;
    float* dl = dx + start;
    double s = 0;  // sum_j dy_j y_j (softmax) or sum_j dy_j (log_softmax)
    for (int64_t j = 0; j < dim; ++j) s += log ? double(gl[j * inner]) : double(gl[j * inner]) * yl[j * inner];
    for (int64_t j = 0; j < dim; ++j) {
      const int64_t k = j * inner;
      dl[k] = log ? float(gl[k] - std::exp(double(yl[k])) * s) : float(yl[k] * (gl[k] - s));
    }
  }
}

void logsumexp_forward_cpu(int64_t outer, int64_t dim, int64_t inner, const float* x, float* y) {
  const int64_t lines = outer * inner;
#pragma omp parallel for schedule(static) if (lines * dim > 65536)
  for (int64_t l = 0; l < lines; ++l) {
    const float* xl = x + (l / inner) * dim * inner + l % inner;
    float m = line_max(xl, dim, inner);
    // As torch: an infinite maximum is not subtracted (inf - inf would be NaN); all -inf
    // gives log 0 = -inf, a +inf gives +inf.
    if (std::isinf(m)) m = 0;
    y[l] = float(m + std::log(line_sum_exp(xl, dim, inner, m)));
  }
}

void logsumexp_backward_cpu(int64_t outer, int64_t dim, int64_t inner, const float* x,
                            const float* y, const float* dy, float* dx) {
  const int64_t n = outer * dim * inner;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t e = 0; e < n; ++e) {
    const int64_t l = (e / (dim * inner)) * inner + e % inner;
    dx[e] = float(dy[l] * std::exp(double(x[e]) - y[l]));
  }
}

}  // namespace dlcraft
