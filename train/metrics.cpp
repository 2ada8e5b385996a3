#include "train/metrics.hpp"

#include <algorithm>

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/ops.hpp"

namespace dlcraft {

namespace {
struct Named {
  const char* name;
  LossKind kind;
};
// Every accepted spelling; the first of each kind is its name().
constexpr Named kLossNames[] = {
    {"cross_entropy", LossKind::CrossEntropy},
    {"sparse_categorical_crossentropy", LossKind::SparseCategoricalCrossentropy},
    {"categorical_crossentropy", LossKind::CategoricalCrossentropy},
    {"binary_crossentropy", LossKind::BinaryCrossentropy},
    {"bce_with_logits", LossKind::BinaryCrossentropyWithLogits},
    {"mean_squared_error", LossKind::MeanSquaredError},
    {"mse", LossKind::MeanSquaredError},
    {"mean_absolute_error", LossKind::MeanAbsoluteError},
    {"mae", LossKind::MeanAbsoluteError},
};

// Keras clips probabilities to [eps, 1 - eps] before the log, so a saturated softmax or sigmoid
// gives a large finite loss instead of inf.
constexpr double kProbEps = 1e-7;

Tensor class_tensor(const Targets& t, Device device) {
  std::vector<int64_t> v(t.labels.begin(), t.labels.end());
  return Tensor::from_vector(v, {int64_t(v.size())}, device);
}

void check_rows(const Tensor& output, const Targets& t, const std::string& who) {
  if (output.dim() == 0 || output.size(0) != t.size())
    throw ShapeError(who + ": the output has " + (output.dim() ? std::to_string(output.size(0)) : "no") +
                     " rows but the batch has " + std::to_string(t.size()) + " targets");
}
}  // namespace

Loss::Loss(LossKind kind) : kind_(kind) {}

Loss Loss::from_name(const std::string& name) {
  std::string names;
  for (const auto& n : kLossNames) {
    if (name == n.name) return Loss(n.kind);
    names += (names.empty() ? "" : ", ") + std::string(n.name);
  }
  throw ArgumentError("unknown loss '" + name + "' (known: " + names + ")");
}

std::string Loss::name() const {
  for (const auto& n : kLossNames)
    if (n.kind == kind_) return n.name;
  return "?";
}

bool Loss::takes_classes() const {
  return kind_ == LossKind::CrossEntropy || kind_ == LossKind::SparseCategoricalCrossentropy;
}

Tensor Loss::operator()(const Tensor& output, const Targets& targets) const {
  const std::string who = "loss " + name();
  if (takes_classes() != targets.are_classes())
    throw ArgumentError(who + " needs " + (takes_classes() ? "class indices" : "numeric targets") +
                        " but the data gives " + (targets.are_classes() ? "class indices" : "numbers") +
                        (takes_classes() ? "" : " (for classes use cross_entropy or sparse_categorical_crossentropy)"));
  check_rows(output, targets, who);
  switch (kind_) {
    case LossKind::CrossEntropy:
      return cross_entropy(output, targets.labels);
    case LossKind::SparseCategoricalCrossentropy:
      return nll_loss(log(clamp(output, kProbEps, 1.0 - kProbEps)), class_tensor(targets, output.device()));
    case LossKind::CategoricalCrossentropy:
      return mean(sum(neg(mul(targets.values, log(clamp(output, kProbEps, 1.0 - kProbEps)))), -1));
    case LossKind::BinaryCrossentropy:
      return binary_cross_entropy(clamp(output, kProbEps, 1.0 - kProbEps), targets.values);
    case LossKind::BinaryCrossentropyWithLogits:
      return binary_cross_entropy_with_logits(output, targets.values);
    case LossKind::MeanSquaredError:
      return mse_loss(output, targets.values);
    case LossKind::MeanAbsoluteError:
      return l1_loss(output, targets.values);
  }
  throw ArgumentError(who + ": unknown kind");
}

Metric::Metric(MetricKind kind) : kind_(kind) {}

Metric Metric::from_name(const std::string& name) {
  if (name == "accuracy" || name == "acc") return Metric(MetricKind::Accuracy);
  if (name == "mse" || name == "mean_squared_error") return Metric(MetricKind::MeanSquaredError);
  if (name == "mae" || name == "mean_absolute_error") return Metric(MetricKind::MeanAbsoluteError);
  throw ArgumentError("unknown metric '" + name + "' (known: accuracy, mse, mae)");
}

std::string Metric::name() const {
  switch (kind_) {
    case MetricKind::Accuracy: return "accuracy";
    case MetricKind::MeanSquaredError: return "mse";
    case MetricKind::MeanAbsoluteError: return "mae";
  }
  return "?";
}

void Metric::update(const Tensor& output, const Targets& targets, double binary_threshold) {
  NoGradGuard no_grad;
  check_rows(output, targets, "metric " + name());
  const int64_t n = targets.size();
  if (kind_ == MetricKind::Accuracy) {
    if (targets.are_classes()) {
      sum_ += double(count_correct(output, targets.labels));
    } else if (output.dim() >= 2 && output.size(-1) > 1) {
      sum_ += sum(cast(eq(argmax(output, -1), argmax(targets.values, -1)), DType::Float32)).item();
    } else {
      const Tensor predicted = cast(gt(output, binary_threshold), DType::Float32);
      const Tensor truth = cast(gt(targets.values, 0.5), DType::Float32);
      sum_ += sum(cast(eq(predicted, truth), DType::Float32)).item() * double(n) / double(output.numel());
    }
  } else {
    if (targets.are_classes())
      throw ArgumentError("metric " + name() + " needs numeric targets, the data gives class indices");
    const Tensor d = sub(output, targets.values);
    const Tensor per = kind_ == MetricKind::MeanSquaredError ? mul(d, d) : abs(d);
    // Mean over each example's elements, summed over examples (Keras averages per example).
    sum_ += sum(per).item() * double(n) / double(std::max<int64_t>(per.numel(), 1));
  }
  count_ += n;
}

}  // namespace dlcraft
