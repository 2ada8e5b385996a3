// read_csv (datasets/csv.hpp): a hand-written RFC 4180 reader feeding a TensorDataset. The file
// is read in blocks, one record at a time, so memory holds the parsed numbers, not the text.
// Note: docs/csv_data.md.
#include "datasets/csv.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <unordered_map>

namespace dlcraft {

namespace {

constexpr int64_t kMaxRecordBytes = int64_t(1) << 20;  // a longer line is not a table we mean to read
constexpr int64_t kMaxCells = int64_t(1) << 31;        // 8 GiB of float32 features at most

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// "column 'petal_width'", or "column 3" for the names made up for a file without a header.
std::string describe_column(const std::string& column) {
  const bool made_up = column.size() > 7 && column.compare(0, 7, "column ") == 0 &&
                       column.find_first_not_of("0123456789", 7) == std::string::npos;
  return made_up ? column : "column '" + column + "'";
}

// A cell as a number: surrounding spaces ignored, an optional '+', then what from_chars reads
// (decimal or exponent form, "inf" and "nan" too, so the caller can say they are not finite).
enum class Number { Ok, Empty, NotANumber, OutOfRange };
Number parse_number(std::string_view cell, double& value) {
  std::string_view s = trim(cell);
  if (s.empty()) return Number::Empty;
  if (s.front() == '+') {
    s.remove_prefix(1);
    if (s.empty() || s.front() == '-' || s.front() == '+') return Number::NotANumber;
  }
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (end != s.data() + s.size()) return Number::NotANumber;
  if (ec == std::errc::result_out_of_range) return Number::OutOfRange;
  if (ec != std::errc()) return Number::NotANumber;
  return Number::Ok;
}

bool parse_integer(std::string_view s, int64_t& value) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// The file's records, one at a time: cells split on the delimiter, "quoted" cells with the
// delimiter, line breaks and doubled quotes inside, CRLF/LF/CR line ends, blank lines skipped.
class RecordReader {
 public:
  RecordReader(std::FILE* file, const std::string& path, char delimiter)
      : file_(file), path_(path), delim_(delimiter), buffer_(1 << 16) {}

  // The column names for error messages (the header's, once read).
  void set_names(const std::vector<std::string>* names) { names_ = names; }

  // The next record that is not blank, with the 1-based line it starts on; false at the end.
  bool next(std::vector<std::string>& cells, int64_t& line) {
    for (;;) {
      record_bytes_ = 0;
      column_ = 0;
      line = line_;
      int c = get();
      if (c == EOF) return false;
      cells.clear();
      bool any_quoted = false;
      for (;;) {  // one cell per turn; c is its first character
        std::string cell;
        const int column = int(cells.size());
        column_ = column;
        if (c == '"') {
          c = read_quoted(cell, column);
          any_quoted = true;
        } else {
          while (c != delim_ && c != '\n' && c != '\r' && c != EOF) {
            if (c == '"') {
              // Spaces before an opening quote are tolerated; a quote later in the cell is not
              // RFC 4180 and usually a cell that needed quoting.
              if (!trim(cell).empty())
                throw error(line_, column, "a quote inside an unquoted cell; quote the whole cell "
                                           "and write a quote in it as two (\"say \"\"hi\"\"\")");
              cell.clear();
              c = read_quoted(cell, column);
              any_quoted = true;
              break;
            }
            cell.push_back(char(c));
            c = get();
          }
        }
        cells.push_back(std::move(cell));
        if (c != delim_) break;
        c = get();
      }
      end_line(c);
      // A blank line: nothing but spaces (",,," is a row of empty cells, unless spaces delimit).
      const bool blank = !any_quoted && (cells.size() == 1 || is_blank(delim_)) &&
                         std::all_of(cells.begin(), cells.end(), [](const std::string& s) { return trim(s).empty(); });
      if (blank) continue;
      return true;
    }
  }

 private:
  // Reads a quoted cell after its opening quote; returns the character after the cell.
  int read_quoted(std::string& cell, int column) {
    const int64_t start_line = line_;
    for (;;) {
      int c = get();
      if (c == EOF)
        throw error(start_line, column, "a quoted cell opened here is not closed before the end of the file");
      if (c == '"') {
        c = get();
        if (c == '"') {
          cell.push_back('"');
          continue;
        }
        while (is_blank(char(c)) && c != delim_) c = get();
        if (c != delim_ && c != '\n' && c != '\r' && c != EOF)
          throw error(line_, column, std::string("'") + char(c) + "' after the closing quote of a quoted cell " +
                                         "(a quote inside a quoted cell is written as two)");
        return c;
      }
      if (c == '\n' || (c == '\r' && peek() != '\n')) ++line_;
      cell.push_back(char(c));
    }
  }

  void end_line(int c) {
    if (c == '\r' && peek() == '\n') get();
    if (c != EOF) ++line_;
  }

  int get() {
    if (pos_ == end_ && !fill()) return EOF;
    if (++record_bytes_ > kMaxRecordBytes) throw error(line_, column_, "the line is longer than 1 MiB");
    return static_cast<unsigned char>(buffer_[pos_++]);
  }
  int peek() {
    if (pos_ == end_ && !fill()) return EOF;
    return static_cast<unsigned char>(buffer_[pos_]);
  }
  bool fill() {
    pos_ = 0;
    end_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
    if (end_ == 0 && std::ferror(file_))
      throw IOError(path_ + ": read error at line " + std::to_string(line_) + ": " + std::strerror(errno));
    if (first_block_) {  // a UTF-8 byte-order mark, as spreadsheets write
      first_block_ = false;
      if (end_ >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
    }
    return pos_ < end_;
  }

  CsvError error(int64_t line, int column, const std::string& what) const {
    std::string name;
    if (column >= 0)
      name = names_ && column < int(names_->size()) ? (*names_)[column] : "column " + std::to_string(column + 1);
    return CsvError(path_, line, name, what);
  }

  std::FILE* file_;
  const std::string& path_;
  char delim_;
  std::vector<char> buffer_;
  size_t pos_ = 0, end_ = 0;
  bool first_block_ = true;
  int64_t line_ = 1, record_bytes_ = 0;
  int column_ = 0;  // the cell being read, for errors
  const std::vector<std::string>* names_ = nullptr;
};

// The target column's cells, kept until the whole column is seen (CsvTarget::Auto decides
// then): all texts in one string, so a million rows cost no million allocations.
struct TargetCells {
  std::string text;
  std::vector<size_t> ends;
  std::string_view operator[](size_t i) const {
    const size_t begin = i ? ends[i - 1] : 0;
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
};

// Class names -> indices in sorted name order; integers sort as numbers ("2" before "10").
Tensor class_indices(const TargetCells& cells, std::vector<std::string>& classes) {
  const size_t n = cells.ends.size();
  std::unordered_map<std::string_view, int64_t> first_id;
  std::vector<std::string_view> names;
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) {
    const auto [it, added] = first_id.emplace(cells[i], int64_t(names.size()));
    if (added) names.push_back(cells[i]);
    ids[i] = it->second;
  }
  std::vector<int64_t> as_int(names.size());
  bool all_integers = true;
  for (size_t k = 0; k < names.size() && all_integers; ++k) all_integers = parse_integer(names[k], as_int[k]);
  std::vector<int64_t> order(names.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = int64_t(k);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (all_integers && as_int[a] != as_int[b]) return as_int[a] < as_int[b];
    return names[a] < names[b];
  });
  std::vector<int64_t> rank(names.size());
  classes.clear();
  for (size_t r = 0; r < order.size(); ++r) {
    rank[order[r]] = int64_t(r);
    classes.emplace_back(names[order[r]]);
  }
  for (int64_t& id : ids) id = rank[id];
  return Tensor::from_vector(ids, {int64_t(n)});
}

int64_t find_column(const std::vector<std::string>& names, const std::string& name, const std::string& path,
                    int64_t header_line, const char* role) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return int64_t(it - names.begin());
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  throw CsvError(path, header_line, name, std::string("no such ") + role + " column; the columns are: " + list);
}

}  // namespace

CsvError::CsvError(const std::string& path_in, int64_t line_in, const std::string& column_in,
                   const std::string& what)
    : IOError(path_in + (line_in > 0 ? ": line " + std::to_string(line_in) : std::string()) +
              (column_in.empty() ? std::string() : (line_in > 0 ? ", " : ": ") + describe_column(column_in)) +
              ": " + what),
      path(path_in),
      column(column_in),
      line(line_in) {}

TensorDataset read_csv(const std::string& path, const CsvOptions& opt) {
  if (opt.delimiter == '"' || opt.delimiter == '\n' || opt.delimiter == '\r' || opt.delimiter == '\0')
    throw ArgumentError("read_csv " + path + ": the delimiter cannot be a quote, a line break or NUL");
  if (!opt.header && !opt.label_column.empty())
    throw ArgumentError("read_csv " + path + ": label_column '" + opt.label_column +
                        "' needs a header; without one the label is the last column");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw IOError(path + ": cannot open: " + std::strerror(errno));
  RecordReader reader(file.get(), path, opt.delimiter);

  // The header (or the first row, which then is data too).
  std::vector<std::string> cells, names;
  int64_t line = 0;
  if (!reader.next(cells, line)) throw CsvError(path, 0, "", "the file is empty");
  const int64_t header_line = line;
  for (size_t k = 0; k < cells.size(); ++k) {
    std::string name(opt.header ? trim(cells[k]) : std::string_view());
    names.push_back(name.empty() ? "column " + std::to_string(k + 1) : name);
  }
  for (size_t k = 0; k < names.size(); ++k)
    for (size_t j = 0; j < k; ++j)
      if (names[j] == names[k])
        throw CsvError(path, header_line, names[k],
                       "appears twice in the header (columns " + std::to_string(j + 1) + " and " +
                           std::to_string(k + 1) + "), so it cannot be told apart");
  reader.set_names(&names);
  const int64_t ncols = int64_t(names.size());

  const int64_t label = opt.label_column.empty() ? ncols - 1 : find_column(names, opt.label_column, path, header_line, "label");
  std::vector<int64_t> features;
  if (opt.feature_columns.empty()) {
    for (int64_t k = 0; k < ncols; ++k)
      if (k != label) features.push_back(k);
  } else {
    for (const std::string& name : opt.feature_columns) {
      const int64_t k = find_column(names, name, path, header_line, "feature");
      if (k == label) throw CsvError(path, header_line, name, "is the label column; it cannot also be a feature");
      if (std::find(features.begin(), features.end(), k) != features.end())
        throw CsvError(path, header_line, name, "is listed twice in feature_columns");
      features.push_back(k);
    }
  }
  if (features.empty())
    throw CsvError(path, header_line, names[label], "is the only column: there are no feature columns");

  std::vector<float> x;
  TargetCells targets;
  bool all_numbers = true;            // CsvTarget::Auto: are the targets values?
  int64_t first_non_finite_line = 0;  // ... and where the first NaN/Inf among them is
  std::string first_non_finite;
  std::vector<float> values;
  int64_t rows = 0;
  auto bad_number = [&](Number kind, int64_t at, int64_t column, std::string_view cell, const char* role) {
    const std::string text(trim(cell));
    switch (kind) {
      case Number::Empty: return CsvError(path, at, names[column], std::string("empty ") + role + " cell (it must be a number)");
      case Number::OutOfRange: return CsvError(path, at, names[column], "'" + text + "' is out of the float32 range");
      default: return CsvError(path, at, names[column], "'" + text + "' is not a number");
    }
  };
  bool have_row = !opt.header;  // without a header the first record is a row
  while (have_row || reader.next(cells, line)) {
    have_row = false;
    if (int64_t(cells.size()) < ncols)
      throw CsvError(path, line, names[cells.size()],
                     "missing: the row has " + std::to_string(cells.size()) + " cells but the " +
                         (opt.header ? "header has " : "first row has ") + std::to_string(ncols));
    if (int64_t(cells.size()) > ncols)
      throw CsvError(path, line, "column " + std::to_string(ncols + 1),
                     "the row has " + std::to_string(cells.size()) + " cells but the " +
                         (opt.header ? "header has " : "first row has ") + std::to_string(ncols));
    if ((rows + 1) * ncols > kMaxCells)
      throw CsvError(path, line, "", "more than 2^31 cells; read_csv takes files up to that size (split the file)");
    for (int64_t k : features) {
      double v = 0;
      const Number kind = parse_number(cells[k], v);
      if (kind != Number::Ok) throw bad_number(kind, line, k, cells[k], "feature");
      if (!std::isfinite(v)) throw CsvError(path, line, names[k], "'" + std::string(trim(cells[k])) + "' is not a finite number");
      if (std::fabs(v) > double(std::numeric_limits<float>::max())) throw bad_number(Number::OutOfRange, line, k, cells[k], "");
      x.push_back(float(v));
    }
    const std::string_view target = trim(cells[label]);
    if (target.empty()) throw CsvError(path, line, names[label], "the target is empty");
    if (opt.target == CsvTarget::Values) {
      double v = 0;
      const Number kind = parse_number(target, v);
      if (kind != Number::Ok) throw bad_number(kind, line, label, target, "target");
      if (!std::isfinite(v)) throw CsvError(path, line, names[label], "'" + std::string(target) + "' is not a finite number");
      if (std::fabs(v) > double(std::numeric_limits<float>::max())) throw bad_number(Number::OutOfRange, line, label, target, "");
      values.push_back(float(v));
    } else {
      targets.text.append(target);
      targets.ends.push_back(targets.text.size());
      double v = 0;
      if (opt.target == CsvTarget::Auto && all_numbers) {
        const Number kind = parse_number(target, v);
        all_numbers = kind == Number::Ok || kind == Number::OutOfRange;
        if (all_numbers && first_non_finite_line == 0 &&
            (kind == Number::OutOfRange || !(std::fabs(v) <= double(std::numeric_limits<float>::max())))) {
          first_non_finite_line = line;
          first_non_finite = target;
        }
      }
    }
    ++rows;
  }
  if (rows == 0) throw CsvError(path, header_line, "", "a header but no data rows");

  TensorDataset out;
  out.x = Tensor::from_vector(x, {rows, int64_t(features.size())});
  for (int64_t k : features) out.feature_names.push_back(names[k]);
  const bool as_values = opt.target == CsvTarget::Values || (opt.target == CsvTarget::Auto && all_numbers);
  if (opt.target == CsvTarget::Auto && all_numbers) {
    if (first_non_finite_line > 0)
      throw CsvError(path, first_non_finite_line, names[label],
                     "'" + first_non_finite + "' is not a finite float32 number");
    values.reserve(size_t(rows));
    for (size_t i = 0; i < targets.ends.size(); ++i) {
      double v = 0;
      parse_number(targets[i], v);
      values.push_back(float(v));
    }
  }
  if (as_values)
    out.y = Tensor::from_vector(values, {rows, 1});
  else
    out.y = class_indices(targets, out.classes);
  return out;
}

}  // namespace dlcraft
