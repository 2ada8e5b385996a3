// model.summary() in the classic Keras 2 layout: a 65-column table with '_' and '=' rules,
// columns at 29 and 55 ("Layer (type)", "Output Shape", "Param #"), then the totals. A column
// widens when a name or shape is longer (Keras would cut it). Note: docs/dense.md.
#include "layers/summary.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "core/autograd.hpp"
#include "core/creation.hpp"
#include "core/error.hpp"
#include "train/training.hpp"

namespace dlcraft {

namespace {

// 1234567 -> "1,234,567", as Keras' "{:,}".
std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

// [1,10] -> "(None, 10)"; [1] -> "(None,)" as a Python tuple prints.
std::string keras_shape(const Shape& s) {
  if (s.empty()) return "()";
  std::string out = "(None";
  for (size_t i = 1; i < s.size(); ++i) out += ", " + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// Keras' print_row: each field padded to its column, at least one space before the next.
std::string table_row(const std::vector<std::string>& fields, const std::vector<size_t>& widths) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    line += fields[i];
    if (i + 1 < fields.size()) line += std::string(widths[i] - fields[i].size(), ' ');
  }
  return line;
}

// Puts back each module's own forward hook, also when the forward pass throws.
class HookRestorer {
 public:
  void save(Module* m) { saved_.emplace_back(m, m->forward_hook()); }
  ~HookRestorer() {
    for (auto& [m, hook] : saved_) m->set_forward_hook(hook);
  }

 private:
  std::vector<std::pair<Module*, Module::ForwardHook>> saved_;
};

}  // namespace

std::string summary(Module& model, const Shape& input_shape, int max_depth) {
  if (max_depth < 1) throw ArgumentError("summary: max_depth must be >= 1, got " + std::to_string(max_depth));
  for (int64_t d : input_shape)
    if (d < 1)
      throw ArgumentError("summary: input_shape " + to_string(input_shape) +
                          " has a dimension < 1 (give one example's shape, without the batch)");

  std::vector<std::pair<std::string, Module*>> rows;
  for (auto& [name, m] : model.named_modules())
    if (!name.empty() && std::count(name.begin(), name.end(), '.') < max_depth) rows.emplace_back(name, m);

  // The output shapes of each call, per module (a module used twice is one entry, two rows).
  std::map<Module*, std::vector<Shape>> outputs;
  {
    // The pass: one example of zeros, eval mode, no graph; our hooks stand in for the modules'
    // own (theirs do not see this made-up input) until the restorer puts them back.
    HookRestorer restore;
    EvalModeGuard eval_mode(model);
    NoGradGuard no_grad;
    for (auto& [name, m] : rows) {
      if (!outputs.emplace(m, std::vector<Shape>{}).second) continue;  // hooked already
      restore.save(m);
      m->set_forward_hook([&outputs](Module& self, const Tensor& y) { outputs[&self].push_back(y.shape()); });
    }
    Shape shape{1};
    shape.insert(shape.end(), input_shape.begin(), input_shape.end());
    model.forward(zeros(shape, model.device()));
  }

  std::vector<std::vector<std::string>> table = {{"Layer (type)", "Output Shape", "Param #"}};
  for (auto& [name, m] : rows) {
    const std::vector<Shape>& shapes = outputs[m];
    std::string out = "?";  // did not run in forward
    if (!shapes.empty()) {
      const bool same = std::all_of(shapes.begin(), shapes.end(), [&](const Shape& s) { return s == shapes[0]; });
      out = same ? keras_shape(shapes[0]) : "multiple";  // as Keras says of a layer used on several shapes
    }
    table.push_back({name + " (" + m->type_name() + ")", out, with_commas(m->parameter_count())});
  }
  // Keras' columns (29, 26, 10), wider where a field needs it.
  std::vector<size_t> widths = {29, 26, 10};
  for (const auto& fields : table)
    for (size_t i = 0; i < fields.size(); ++i) widths[i] = std::max(widths[i], fields[i].size() + 1);
  const size_t line_length = widths[0] + widths[1] + widths[2];
  const std::string rule(line_length, '_'), double_rule(line_length, '=');

  int64_t total = 0, trainable = 0;
  for (const Tensor& p : model.parameters()) {
    total += p.numel();
    if (p.requires_grad()) trainable += p.numel();
  }

  std::string s = "Model: \"" + model.type_name() + "\"\n" + rule + "\n" + table_row(table[0], widths) + "\n" +
                  double_rule + "\n";
  for (size_t i = 1; i < table.size(); ++i)
    s += table_row(table[i], widths) + "\n" + (i + 1 < table.size() ? rule : double_rule) + "\n";
  s += "Total params: " + with_commas(total) + "\n";
  s += "Trainable params: " + with_commas(trainable) + "\n";
  s += "Non-trainable params: " + with_commas(total - trainable) + "\n";
  return s + rule + "\n";
}

}  // namespace dlcraft
