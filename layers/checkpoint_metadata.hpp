// Typed reads of a checkpoint's metadata (safetensors metadata is all strings). A checkpoint is
// a file a user points at, so each reader checks everything and throws IOError naming the file
// and the key: "ck.safetensors: metadata 'epoch' must be an integer in 1..1000000000, got '-5'".
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlcraft {

using Metadata = std::map<std::string, std::string>;

// An integer in lo..hi, written as plain decimal digits ("abc", "1e3", " 5", "+5" are errors).
int64_t get_metadata_int(const Metadata& m, const std::string& key, const std::string& file,
                         int64_t lo, int64_t hi);
uint64_t get_metadata_uint64(const Metadata& m, const std::string& key, const std::string& file);
// `count` comma-separated finite numbers ("0.49,0.48,0.45"); all above 0 when `positive`.
std::vector<float> get_metadata_floats(const Metadata& m, const std::string& key, const std::string& file,
                                       size_t count, bool positive);

// "classes" as a JSON list of strings, so a name may hold a comma ("cat,dog").
void put_class_names(Metadata& m, const std::vector<std::string>& classes);
// Reads the JSON list, or the older comma-joined form; 1..100000 non-empty names.
std::vector<std::string> get_class_names(const Metadata& m, const std::string& file);

}  // namespace dlcraft
