// Softmax cross-entropy on the CPU. See docs/softmax_cross_entropy.md.
// loss = mean_n [ log(sum_j exp(z[n,j])) - z[n,label_n] ], computed with the row maximum
// subtracted first so exp() never overflows, however large the logits.
#include <cmath>

#include "kernels/cpu/kernels_cpu.hpp"

namespace dlcraft {

void softmax_cross_entropy_forward_cpu(int n, int classes, const float* logits,
                                       const int32_t* labels, float* probs, float* loss) {
  double total = 0.0;
  for (int i = 0; i < n; ++i) {
    const float* z = logits + int64_t(i) * classes;
    float* p = probs + int64_t(i) * classes;
    float m = z[0];
    for (int j = 1; j < classes; ++j) m = std::max(m, z[j]);
    double sum = 0.0;
    for (int j = 0; j < classes; ++j) sum += std::exp(double(z[j]) - m);
    double log_sum = std::log(sum);
    for (int j = 0; j < classes; ++j) p[j] = float(std::exp(double(z[j]) - m - log_sum));
    total += log_sum + m - z[labels[i]];  // -log softmax(z)[label]
  }
  *loss = float(total / n);
}

void softmax_cross_entropy_backward_cpu(int n, int classes, const float* probs,
                                        const int32_t* labels, float dloss, float* dlogits) {
  // d(mean loss)/dz = (softmax(z) - onehot(label)) / n
  const float scale = dloss / float(n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < classes; ++j) {
      int64_t k = int64_t(i) * classes + j;
      dlogits[k] = (probs[k] - (j == labels[i] ? 1.0f : 0.0f)) * scale;
    }
}

}  // namespace dlcraft
