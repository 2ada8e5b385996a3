#include "optim/optimizer.hpp"

namespace dlcraft {

Optimizer::Optimizer(std::vector<std::pair<std::string, Tensor>> params)
    : params_(std::move(params)) {}

void Optimizer::zero_grad() {
  for (auto& [name, p] : params_) p.zero_grad();
}

}  // namespace dlcraft
