// TEMPORARY: declared ops whose kernels are being written (issue 11). Each helper deletes its
// function here when its op file lands; the file goes when empty.
#include "core/error.hpp"
#include "core/ops.hpp"

namespace dlcraft {

Tensor batch_norm(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool, double,
                  double, const std::string& who) {
  throw ArgumentError(who + ": not implemented yet");
}

Tensor dropout(const Tensor&, double, bool, Generator*, const std::string& who) {
  throw ArgumentError(who + ": not implemented yet");
}

}  // namespace dlcraft
