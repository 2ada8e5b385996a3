// Bits shared by the command-line programs: device choice, version text, metadata helpers.
#pragma once
#include <string>
#include <vector>

#include "core/device.hpp"
#include "core/ops.hpp"
#include "datasets/transforms.hpp"
#include "layers/checkpoint.hpp"
#include "layers/checkpoint_metadata.hpp"

namespace dlcraft {

// "auto" -> the GPU when this build has CUDA and one is visible, else the CPU (and says so on
// stderr); "cuda" without one is a DeviceError; "cpu" is the CPU.
Device choose_device(const std::string& name);
// --conv: im2col, winograd2 (F(2x2,3x3)), winograd4 (F(4x4,3x3)) or auto (per layer shape, the
// fastest of the three on its first forward) for the CPU's 3x3 stride-1 convs (docs/winograd.md).
ConvAlgorithm parse_conv_algorithm(const std::string& name);
extern const std::vector<std::string> kConvAlgorithmNames;

// "dlcraft 0.1.0 (CPU only)" or "dlcraft 0.1.0 (CUDA 13.0, ...)".
std::string version_text();

// Refuses loaded weights that hold NaN or ±Inf (saved from a run that diverged, or damaged):
// IOError naming the file and the first such tensor. One reduction per tensor, on its device.
void check_finite_weights(const Module& model, const std::string& file);

// Normalisation travels in a checkpoint's metadata as text ("0.49,0.48,0.45"); the reader
// wants finite means and finite standard deviations above 0 (IOError naming file and key).
void put_normalization(Metadata& m, const Normalization& n);
Normalization get_normalization(const Metadata& m, const std::string& file);
std::string join(const std::vector<std::string>& items, char sep);
std::vector<std::string> split(const std::string& s, char sep);

}  // namespace dlcraft
