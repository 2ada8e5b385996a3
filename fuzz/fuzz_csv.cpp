// libFuzzer harness: bytes as a CSV file for read_csv. The first byte picks the options (target
// kind, header or not, delimiter), the rest is the file. Must end in a dlcraft::Error or in a
// data set that keeps read_csv's promises: as many targets as rows, finite float32 features,
// class indices within the sorted class names. Seeds: fuzz/corpus/csv/.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "datasets/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dlcraft;
  if (size == 0) return 0;
  // read_csv reads a file: one per fuzzing process, rewritten for each input.
  static const std::string path = "/tmp/dlcraft_fuzz_csv_" + std::to_string(getpid()) + ".csv";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size > 1 && std::fwrite(data + 1, 1, size - 1, f) != size - 1) std::abort();
  std::fclose(f);

  CsvOptions opt;
  const uint8_t pick = data[0];
  opt.target = pick % 3 == 0 ? CsvTarget::Auto : pick % 3 == 1 ? CsvTarget::Classes : CsvTarget::Values;
  opt.header = (pick & 4) == 0;
  opt.delimiter = (pick & 8) ? ';' : (pick & 16) ? '\t' : ',';
  if (opt.header && (pick & 32)) opt.label_column = "y";
  if (opt.header && (pick & 64)) opt.feature_columns = {"a", "b"};
  try {
    const TensorDataset ds = read_csv(path, opt);
    const int64_t n = ds.size();
    if (n < 1 || ds.x.dim() != 2 || ds.y.size(0) != n || ds.x.size(1) < 1) std::abort();
    if (int64_t(ds.feature_names.size()) != ds.x.size(1)) std::abort();
    for (float v : ds.x.to_vector())
      if (!std::isfinite(v)) std::abort();
    if (ds.has_classes()) {
      if (opt.target == CsvTarget::Values) std::abort();
      if (ds.classes.empty()) std::abort();
      for (int64_t c : ds.y.values_as<int64_t>())
        if (c < 0 || c >= int64_t(ds.classes.size())) std::abort();
      for (size_t k = 1; k < ds.classes.size(); ++k)
        if (ds.classes[k - 1] == ds.classes[k]) std::abort();
    } else {
      if (opt.target == CsvTarget::Classes || ds.y.shape() != Shape{n, 1}) std::abort();
      for (float v : ds.y.to_vector())
        if (!std::isfinite(v)) std::abort();
    }
  } catch (const Error&) {
  }
  return 0;
}
