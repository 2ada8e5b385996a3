// TEMPORARY: declared ops whose kernels are being written (issue 11). Each helper deletes its
// function here when its op file lands; the file goes when empty.
#include "core/error.hpp"
#include "core/ops.hpp"

namespace dlcraft {

Tensor adaptive_avg_pool2d(const Tensor&, Size2, const std::string& who) {
  throw ArgumentError(who + ": not implemented yet");
}

}  // namespace dlcraft
