// Weight initialisations that torchvision's models use (torch.nn.init), drawn from a Generator.
#pragma once
#include "core/tensor.hpp"

namespace dlcraft {

class Generator;

// kaiming_normal_(mode="fan_out", nonlinearity="relu"): N(0, sqrt(2 / fan_out)) with fan_out =
// out_channels * kernel_h * kernel_w (He et al. 2015: keeps the variance of the backward
// signal constant through ReLU layers).
void init_kaiming_normal_fan_out(Tensor& weight, Generator& gen);
// normal_(mean, std).
void init_normal(Tensor& t, float mean, float std, Generator& gen);

}  // namespace dlcraft
