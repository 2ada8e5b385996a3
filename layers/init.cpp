#include "layers/init.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/random.hpp"

namespace dlcraft {

void init_normal(Tensor& t, float mean, float std, Generator& gen) {
  Tensor v = Tensor::normal(t.shape(), gen, Device::cpu());
  float* p = v.data();
  for (int64_t i = 0; i < v.numel(); ++i) p[i] = mean + std * p[i];
  t.copy_(v);
}

void init_kaiming_normal_fan_out(Tensor& weight, Generator& gen) {
  if (weight.dim() < 2) throw ShapeError("kaiming_normal: weight " + to_string(weight.shape()) + " needs 2+ dims");
  const int64_t fan_out = weight.numel() / weight.size(1);  // out * receptive field
  init_normal(weight, 0.0f, std::sqrt(2.0f / float(fan_out)), gen);
}

}  // namespace dlcraft
