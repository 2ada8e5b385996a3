#include "apps/app_common.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/error.hpp"
#include "core/ops.hpp"
#include "dlcraft/version.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {

Device choose_device(const std::string& name) {
  if (name == "cpu") return Device::cpu();
  if (name == "cuda") {
    if (!DLCRAFT_WITH_CUDA)
      throw DeviceError("--device cuda: this dlcraft was built without CUDA (CPU only); "
                        "rebuild with -DDLCRAFT_CUDA=ON or use --device cpu");
    if (!cuda_available()) throw DeviceError("--device cuda: no CUDA GPU is visible on this machine");
    return Device::cuda(0);
  }
  if (name == "auto") {
    if (DLCRAFT_WITH_CUDA && cuda_available()) return Device::cuda(0);
    std::fprintf(stderr, "device: auto -> cpu (%s)\n",
                 DLCRAFT_WITH_CUDA ? "no CUDA GPU visible" : "this build is CPU only");
    return Device::cpu();
  }
  throw ArgumentError("--device must be auto, cpu or cuda, got '" + name + "'");
}

const std::vector<std::string> kConvAlgorithmNames{"auto", "im2col", "winograd2", "winograd4", "benchmark"};

ConvAlgorithm parse_conv_algorithm(const std::string& name) {
  if (name == "im2col") return ConvAlgorithm::Im2col;
  if (name == "winograd2") return ConvAlgorithm::Winograd2;
  if (name == "winograd4") return ConvAlgorithm::Winograd4;
  if (name == "auto") return ConvAlgorithm::Auto;
  if (name == "benchmark") return ConvAlgorithm::Benchmark;
  throw ArgumentError("--conv must be auto, im2col, winograd2, winograd4 or benchmark, got '" + name + "'");
}

void check_finite_weights(const Module& model, const std::string& file) {
  const auto params = model.named_parameters();
  std::vector<Tensor> tensors;
  for (const auto& np : params) tensors.push_back(np.second);
  const int64_t bad = first_nonfinite(tensors);
  if (bad >= 0)
    throw IOError(file + ": tensor " + params[size_t(bad)].first +
                  " holds NaN/Inf values (saved from a run that diverged, or damaged); "
                  "use an earlier checkpoint");
}

std::string version_text() { return std::string("dlcraft ") + DLCRAFT_VERSION + " (" + cuda_build_info() + ")"; }

std::string join(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? std::string(1, sep) : "") + items[i];
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);) out.push_back(item);
  return out;
}

void put_normalization(Metadata& m, const Normalization& n) {
  auto three = [](const std::array<float, 3>& v) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.9g,%.9g,%.9g", v[0], v[1], v[2]);
    return std::string(buf);
  };
  m["normalize_mean"] = three(n.mean);
  m["normalize_std"] = three(n.std);
}

Normalization get_normalization(const Metadata& m, const std::string& file) {
  Normalization n;
  const std::vector<float> mean = get_metadata_floats(m, "normalize_mean", file, 3, false);
  const std::vector<float> sd = get_metadata_floats(m, "normalize_std", file, 3, true);
  std::copy(mean.begin(), mean.end(), n.mean.begin());
  std::copy(sd.begin(), sd.end(), n.std.begin());
  return n;
}

}  // namespace dlcraft
