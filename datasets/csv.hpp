// CSV files as data sets: numeric feature columns and one target column, as the notes read
// a table with pandas before Keras' fit. read_csv returns a TensorDataset (tensor_dataset.hpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "datasets/tensor_dataset.hpp"

namespace dlcraft {

// A cell or line that cannot be read, with where: "data.csv: line 7, column 'petal_width': 'abc'
// is not a number". line is 1-based and counts the header; column is the header name (or
// "column 3", 1-based, without a header).
class CsvError : public IOError {
 public:
  CsvError(const std::string& path, int64_t line, const std::string& column, const std::string& what);
  std::string path, column;
  int64_t line;
};

enum class CsvTarget {
  Auto,     // classes when any target cell is not a number, else float values
  Classes,  // class names (any text, integers included) -> indices 0..K-1 in sorted name order
            // (integers sorted as numbers), names kept in TensorDataset::classes
  Values,   // numbers -> float32 (N, 1)
};

struct CsvOptions {
  std::string label_column;                  // the target column's header name; empty: the last column
  std::vector<std::string> feature_columns;  // empty: every other column (all must be numbers)
  CsvTarget target = CsvTarget::Auto;
  char delimiter = ',';
  bool header = true;  // false: columns are named "column 1", ...; label_column must then be empty
};

// Reads the whole file: RFC 4180 quoting, CRLF, LF or CR, blank lines skipped, a UTF-8
// byte-order mark skipped, surrounding spaces of numbers, class names and header names ignored.
// Errors (all CsvError/IOError naming the file): missing file, empty file, unknown label or
// feature column (listing the header), a feature that is the label or listed twice, a name twice
// in the header, a row with too few or too many cells, an empty or non-numeric feature cell,
// NaN/Inf or a number beyond float32 in a feature or a value target, an empty target, no data
// rows, a quoted cell not closed, a quote inside an unquoted cell, a line over 1 MiB, more than
// 2^31 cells. A bad delimiter (a quote, a line break) or label_column without a header:
// ArgumentError.
TensorDataset read_csv(const std::string& path, const CsvOptions& options = {});

}  // namespace dlcraft
