// read_csv (datasets/csv.hpp) on CSV files the tests write: numeric features with class names,
// integer classes or float values as targets; RFC 4180 quoting, CRLF, blank lines, a byte-order
// mark; the label column anywhere, chosen feature columns, no header, other delimiters; and
// every error, each naming the file, the line and the column. tricky.csv is checked against
// Python's csv module (tests/golden/csv/, scripts/make_csv_golden.py).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/random.hpp"
#include "datasets/csv.hpp"
#include "test_data.hpp"

using namespace dlcraft;

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  static const std::string dir = test::fresh_dir("csv");
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The error read_csv raises for `text` (a CsvError, so that its fields can be checked too).
CsvError csv_error(const std::string& text, const CsvOptions& opt = {}) {
  const std::string path = write_file("bad.csv", text);
  try {
    read_csv(path, opt);
  } catch (const CsvError& e) {
    return e;
  }
  FAIL("no CsvError for:\n" << text);
  throw;  // not reached
}

// A random float written with a random number of digits, as a spreadsheet would.
std::string random_number(Generator& gen, float& value) {
  char buf[64];
  const double v = double(gen.uniform(-1000, 1000)) * std::pow(10.0, double(gen.below(7)) - 3.0);
  std::snprintf(buf, sizeof buf, gen.below(2) ? "%.*g" : "%.*e", 1 + int(gen.below(9)), v);
  value = float(std::strtod(buf, nullptr));
  return buf;
}

}  // namespace

TEST_CASE("read_csv: numeric features and class names", "[csv]") {
  Generator gen(3);
  const std::vector<std::string> species = {"virginica", "setosa", "versicolor"};
  for (int trial = 0; trial < 3; ++trial) {
    const int64_t rows = 1 + int64_t(gen.below(40)), cols = 1 + int64_t(gen.below(6));
    std::string text;
    for (int64_t c = 0; c < cols; ++c) text += "f" + std::to_string(c) + ",";
    text += "species\n";
    std::vector<float> x;
    std::vector<std::string> names;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        float v;
        text += random_number(gen, v) + ",";
        x.push_back(v);
      }
      names.push_back(species[gen.below(3)]);
      text += names.back() + "\n";
    }
    INFO(text);
    const TensorDataset data = read_csv(write_file("iris.csv", text));
    REQUIRE(data.x.shape() == Shape{rows, cols});
    CHECK(data.x.to_vector() == x);  // the nearest float32, as strtod then a cast
    REQUIRE(data.has_classes());
    REQUIRE(data.y.shape() == Shape{rows});
    // classes in sorted name order, only those present
    std::vector<std::string> expected = names;
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    CHECK(data.classes == expected);
    CHECK(data.num_classes() == int64_t(expected.size()));
    const std::vector<int64_t> y = data.y.values_as<int64_t>();
    for (int64_t r = 0; r < rows; ++r) CHECK(data.classes[size_t(y[size_t(r)])] == names[size_t(r)]);
    CHECK(data.feature_names.size() == size_t(cols));
    CHECK(data.feature_names.front() == "f0");
  }
}

TEST_CASE("read_csv: integer classes, float values, Auto", "[csv]") {
  const std::string ints = write_file("ints.csv", "a,b,label\n1,2,10\n3,4,2\n5,6,-1\n7,8,2\n9,0,7\n");
  CsvOptions classes;
  classes.target = CsvTarget::Classes;
  const TensorDataset c = read_csv(ints, classes);
  CHECK(c.classes == std::vector<std::string>{"-1", "2", "7", "10"});  // as numbers, not "-1" "10" "2" "7"
  CHECK(c.y.values_as<int64_t>() == std::vector<int64_t>{3, 1, 0, 1, 2});
  CHECK(c.x.to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 0});

  // Auto: all numbers, so float values (N, 1)
  const TensorDataset v = read_csv(ints);
  CHECK_FALSE(v.has_classes());
  CHECK(v.y.shape() == Shape{5, 1});
  CHECK(v.y.to_vector() == std::vector<float>{10, 2, -1, 2, 7});
  CHECK(v.classes.empty());

  // Auto: one name among numbers makes them all class names, sorted as text
  const TensorDataset mixed = read_csv(write_file("mixed.csv", "a,y\n1,10\n2,cat\n3,9\n"));
  CHECK(mixed.classes == std::vector<std::string>{"10", "9", "cat"});
  CHECK(mixed.y.values_as<int64_t>() == std::vector<int64_t>{0, 2, 1});

  CsvOptions values;
  values.target = CsvTarget::Values;
  const TensorDataset r = read_csv(write_file("reg.csv", "x, y\n 0.5 , +1.25e2\n-3,  -.5\n"), values);
  CHECK(r.y.to_vector() == std::vector<float>{125.0f, -0.5f});
  CHECK(r.x.to_vector() == std::vector<float>{0.5f, -3.0f});
  CHECK(r.feature_names == std::vector<std::string>{"x"});
}

TEST_CASE("read_csv: RFC 4180 quoting, CRLF, blank lines, byte-order mark", "[csv]") {
  const std::string text =
      "\xEF\xBB\xBF"
      "\"width, cm\",\"height \"\"in\"\"\",name\r\n"
      "\r\n"
      "\"1.5\",2,\"a, b\"\r\n"
      "   \r\n"
      "3,\"4\",\"say \"\"hi\"\"\"\r\n"
      "5,6,\"two\r\nlines\"\r\n"
      "7,8,  \"a, b\"  \r\n"
      "\r\n";
  const TensorDataset data = read_csv(write_file("quoted.csv", text));
  CHECK(data.feature_names == std::vector<std::string>{"width, cm", "height \"in\""});
  CHECK(data.x.to_vector() == std::vector<float>{1.5f, 2, 3, 4, 5, 6, 7, 8});
  CHECK(data.classes == std::vector<std::string>{"a, b", "say \"hi\"", "two\r\nlines"});
  CHECK(data.y.values_as<int64_t>() == std::vector<int64_t>{0, 1, 2, 0});
  // lines keep counting through the quoted line break: the bad cell below is on line 9
  const CsvError e = csv_error(text.substr(0, text.size() - 2) + "9,x,z\r\n");
  CHECK(e.line == 9);
  CHECK(e.column == "height \"in\"");
  // LF only, no line end at the end of the file
  CHECK(read_csv(write_file("lf.csv", "a,b\n1,x\n2,y")).y.values_as<int64_t>() == std::vector<int64_t>{0, 1});
  // old Mac line ends (CR alone)
  CHECK(read_csv(write_file("cr.csv", "a,b\r1,x\r2,y\r")).x.to_vector() == std::vector<float>{1, 2});
}

TEST_CASE("read_csv: label column in the middle, chosen features, no header, delimiters", "[csv]") {
  const std::string path = write_file("middle.csv",
                                      "sepal,species,petal,width\n"
                                      "1,b,2,3\n"
                                      "4,a,5,6\n");
  CsvOptions opt;
  opt.label_column = "species";
  const TensorDataset all = read_csv(path, opt);
  CHECK(all.feature_names == std::vector<std::string>{"sepal", "petal", "width"});
  CHECK(all.x.to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(all.y.values_as<int64_t>() == std::vector<int64_t>{1, 0});

  opt.feature_columns = {"width", "sepal"};  // in the order given
  const TensorDataset some = read_csv(path, opt);
  CHECK(some.feature_names == std::vector<std::string>{"width", "sepal"});
  CHECK(some.x.to_vector() == std::vector<float>{3, 1, 6, 4});

  CsvOptions width;  // a number column as the target; the text column left out
  width.label_column = "width";
  width.feature_columns = {"petal"};
  const TensorDataset w = read_csv(path, width);
  CHECK(w.y.to_vector() == std::vector<float>{3, 6});
  CHECK(w.x.to_vector() == std::vector<float>{2, 5});

  CsvOptions none;
  none.header = false;
  const TensorDataset n = read_csv(write_file("noheader.csv", "1,2,x\n3,4,y\n"), none);
  CHECK(n.feature_names == std::vector<std::string>{"column 1", "column 2"});
  CHECK(n.x.to_vector() == std::vector<float>{1, 2, 3, 4});
  CHECK(n.classes == std::vector<std::string>{"x", "y"});

  CsvOptions semi;
  semi.delimiter = ';';
  const TensorDataset s = read_csv(write_file("semi.csv", "a;b;c\n1.5;2;\"x;y\"\n"), semi);
  CHECK(s.classes == std::vector<std::string>{"x;y"});
  CsvOptions tab;
  tab.delimiter = '\t';
  CHECK(read_csv(write_file("tab.tsv", "a\tb\n1.5\t7\n\n2\t8\n"), tab).y.to_vector() == std::vector<float>{7, 8});
}

TEST_CASE("read_csv: errors name the file, the line and the column", "[csv]") {
  // (the text, what the message must say, the line, the column)
  struct Case {
    std::string text, says;
    int64_t line;
    std::string column;
  };
  const std::vector<Case> cases = {
      {"a,b,c\n1,2,x\n3,,y\n", "line 3, column 'b': empty feature cell", 3, "b"},
      {"a,b,c\n1,2,x\n3,abc,y\n", "line 3, column 'b': 'abc' is not a number", 3, "b"},
      {"a,b,c\n1,2,x\n3,4.5.6,y\n", "line 3, column 'b': '4.5.6' is not a number", 3, "b"},
      {"a,b,c\n1,2,x\n\n3,nan,y\n", "line 4, column 'b': 'nan' is not a finite number", 4, "b"},
      {"a,b,c\n-inf,2,x\n", "line 2, column 'a': '-inf' is not a finite number", 2, "a"},
      {"a,b,c\n1e39,2,x\n", "line 2, column 'a': '1e39' is out of the float32 range", 2, "a"},
      {"a,b,c\n1,2,x\n3,4\n", "line 3, column 'c': missing: the row has 2 cells but the header has 3", 3, "c"},
      {"a,b,c\n1,2,x,9\n", "line 2, column 4: the row has 4 cells but the header has 3", 2, "column 4"},
      {"a,b,c\n1,2,x\n3,4,  \n", "line 3, column 'c': the target is empty", 3, "c"},
      {"a,b,c\n1,2,\"x\n3,4,y\n", "line 2, column 'c': a quoted cell opened here is not closed", 2, "c"},
      {"a,b,c\n1,2 \"x\",y\n", "line 2, column 'b': a quote inside an unquoted cell", 2, "b"},
      {"a,b,c\n1,\"2\"x,y\n", "line 2, column 'b': 'x' after the closing quote", 2, "b"},
      {"a,b,a\n1,2,3\n", "line 1, column 'a': appears twice in the header", 1, "a"},
      {"\n\na,b,c\n", "line 3: a header but no data rows", 3, ""},
      {"label\nx\n", "line 1, column 'label': is the only column", 1, "label"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const CsvError e = csv_error(c.text);
    CHECK_THAT(e.what(), Catch::Contains(c.says) && Catch::StartsWith(e.path + ": "));
    CHECK(e.path.find("bad.csv") != std::string::npos);
    CHECK(e.line == c.line);
    CHECK(e.column == c.column);
  }
  // the same with REQUIRE_THROWS_WITH, for one case of each kind of column name
  const std::string path = write_file("bad_cell.csv", "x1,x2,y\n0.5,1,a\n0.25,oops,b\n");
  REQUIRE_THROWS_WITH(read_csv(path), Catch::Contains("bad_cell.csv: line 3, column 'x2': 'oops' is not a number"));
  CsvOptions no_header;
  no_header.header = false;
  REQUIRE_THROWS_WITH(read_csv(write_file("bad_nh.csv", "1,2,a\n3,?,b\n"), no_header),
                      Catch::Contains("bad_nh.csv: line 2, column 2: '?' is not a number"));
  REQUIRE_THROWS_WITH(read_csv(write_file("few_nh.csv", "1,2,a\n3,b\n"), no_header),
                      Catch::Contains("line 2, column 3: missing: the row has 2 cells but the first row has 3"));
}

TEST_CASE("read_csv: targets, columns and options that cannot be read", "[csv]") {
  CsvOptions values;
  values.target = CsvTarget::Values;
  CsvError e = csv_error("a,y\n1,2\n3,cat\n", values);
  CHECK(e.what() == std::string(e.path + ": line 3, column 'y': 'cat' is not a number"));
  e = csv_error("a,y\n1,2\n3,inf\n", values);
  CHECK_THAT(e.what(), Catch::Contains("line 3, column 'y': 'inf' is not a finite number"));
  // Auto: all numbers but one NaN is an error at that NaN, not a class named "nan"
  e = csv_error("a,y\n1,2\n2,1.5\n3,NaN\n4,7\n");
  CHECK_THAT(e.what(), Catch::Contains("line 4, column 'y': 'NaN' is not a finite"));

  CsvOptions unknown;
  unknown.label_column = "kind";
  e = csv_error("a,b,species\n1,2,x\n", unknown);
  CHECK_THAT(e.what(), Catch::Contains("line 1, column 'kind': no such label column; the columns are: a, b, species"));
  CsvOptions feature;
  feature.feature_columns = {"a", "c"};
  e = csv_error("a,b,species\n1,2,x\n", feature);
  CHECK_THAT(e.what(), Catch::Contains("line 1, column 'c': no such feature column"));
  feature.feature_columns = {"a", "species"};
  e = csv_error("a,b,species\n1,2,x\n", feature);
  CHECK_THAT(e.what(), Catch::Contains("line 1, column 'species': is the label column"));
  feature.feature_columns = {"b", "b"};
  e = csv_error("a,b,species\n1,2,x\n", feature);
  CHECK_THAT(e.what(), Catch::Contains("column 'b': is listed twice"));

  // a line longer than 1 MiB, and the file's own problems
  e = csv_error("a,b\n1," + std::string(size_t(1) << 20, 'x') + "\n");
  CHECK_THAT(e.what(), Catch::Contains("line 2, column 'b': the line is longer than 1 MiB"));
  e = csv_error("");
  CHECK(e.what() == std::string(e.path + ": the file is empty"));
  e = csv_error("\n \r\n\n");
  CHECK_THAT(e.what(), Catch::Contains("the file is empty"));
  const std::string missing = test::fresh_dir("csv_missing") + "/nothing.csv";
  CHECK_THROWS_AS(read_csv(missing), IOError);
  CHECK_THROWS_WITH(read_csv(missing), Catch::Contains("nothing.csv: cannot open"));

  const std::string ok = write_file("ok.csv", "a,b\n1,x\n");
  CsvOptions bad;
  bad.header = false;
  bad.label_column = "b";
  CHECK_THROWS_AS(read_csv(ok, bad), ArgumentError);
  CHECK_THROWS_WITH(read_csv(ok, bad), Catch::Contains("ok.csv") && Catch::Contains("needs a header"));
  CsvOptions quote;
  quote.delimiter = '"';
  CHECK_THROWS_AS(read_csv(ok, quote), ArgumentError);
}

TEST_CASE("read_csv: as Python's csv module reads tricky.csv", "[csv]") {
  const std::string dir = std::string(DLCRAFT_GOLDEN_DIR) + "/csv";
  std::ifstream in(dir + "/tricky.json");
  REQUIRE(in);
  const nlohmann::json golden = nlohmann::json::parse(in);
  CsvOptions opt;
  opt.label_column = "species";
  const TensorDataset data = read_csv(dir + "/tricky.csv", opt);
  const int64_t rows = golden["rows"].get<int64_t>();
  REQUIRE(data.x.shape() == Shape{rows, 4});
  CHECK(data.feature_names == golden["feature_names"].get<std::vector<std::string>>());
  const std::vector<double> x = golden["x"].get<std::vector<double>>();
  const std::vector<float> got = data.x.to_vector();
  REQUIRE(got.size() == x.size());
  for (size_t i = 0; i < x.size(); ++i) CHECK(got[i] == float(x[i]));
  CHECK(data.classes == golden["classes"].get<std::vector<std::string>>());
  CHECK(data.y.values_as<int64_t>() == golden["y"].get<std::vector<int64_t>>());
}
