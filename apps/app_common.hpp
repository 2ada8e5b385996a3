// Bits shared by the command-line programs: device choice, version text, metadata helpers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/device.hpp"
#include "datasets/transforms.hpp"
#include "layers/checkpoint.hpp"

namespace dlcraft {

// "auto" -> the GPU when this build has CUDA and one is visible, else the CPU (and says so on
// stderr); "cuda" without one is a DeviceError; "cpu" is the CPU.
Device choose_device(const std::string& name);

// "dlcraft 0.1.0 (CPU only)" or "dlcraft 0.1.0 (CUDA 13.0, ...)".
std::string version_text();

// Normalisation and class names travel in a checkpoint's metadata as text. The readers check
// everything (a checkpoint is a file a user points at) and throw IOError naming the file and key.
void put_normalization(Metadata& m, const Normalization& n);
// Means finite, standard deviations finite and above 0.
Normalization get_normalization(const Metadata& m, const std::string& file);
// "classes" as a JSON list of strings (names may hold commas).
void put_class_names(Metadata& m, const std::vector<std::string>& classes);
// Reads the JSON list, or the older comma-joined form; 1..100000 non-empty names.
std::vector<std::string> get_class_names(const Metadata& m, const std::string& file);
// An integer key in lo..hi, written as plain decimal digits ("abc", "1e3", " 5" are errors).
int64_t get_metadata_int(const Metadata& m, const std::string& key, const std::string& file,
                         int64_t lo, int64_t hi);
uint64_t get_metadata_uint64(const Metadata& m, const std::string& key, const std::string& file);
std::string join(const std::vector<std::string>& items, char sep);
std::vector<std::string> split(const std::string& s, char sep);

}  // namespace dlcraft
