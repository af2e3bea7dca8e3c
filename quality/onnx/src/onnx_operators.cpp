// ONNX operators without weights (activations, arithmetic, shape manipulation) and the operator
// registry. Layers with weights or windows live in onnx_layers.cpp.
#include <algorithm>

#include "onnx_graph.h"

namespace faceqan::onnx_import {
namespace {

using UnaryFunction = std::function<at::Tensor(const at::Tensor&)>;

class UnaryOperation final : public Operation {
 public:
  explicit UnaryOperation(UnaryFunction function) : function_(std::move(function)) {}
  at::Tensor run(const Arguments& inputs) const override { return function_(inputs[0]); }

 private:
  UnaryFunction function_;
};

// Clip: bounds are attributes before opset 11 and optional inputs from opset 11 on.
class ClipOperation final : public Operation {
 public:
  explicit ClipOperation(NodeContext& node) {
    if (node.has_attribute("min")) low_ = node.attribute_float("min", 0.0f);
    if (node.has_attribute("max")) high_ = node.attribute_float("max", 0.0f);
    read_bound(node, 1, low_);
    read_bound(node, 2, high_);
  }

  at::Tensor run(const Arguments& inputs) const override {
    if (inputs.has(1) || inputs.has(2)) {  // bounds computed at run time
      const auto bound = [&](size_t i,
                             const std::optional<double>& fixed) -> c10::optional<at::Tensor> {
        if (inputs.has(i)) return inputs[i];
        if (fixed) return at::scalar_tensor(*fixed, inputs[0].options());
        return c10::nullopt;
      };
      return at::clamp(inputs[0], bound(1, low_), bound(2, high_));
    }
    if (!low_ && !high_) return inputs[0];
    return at::clamp(inputs[0], to_scalar(low_), to_scalar(high_));
  }

 private:
  static void read_bound(NodeContext& node, size_t i, std::optional<double>& bound) {
    if (!node.has_input(i) || !node.constant_input(i)) return;
    const at::Tensor value = node.capture_constant(i, i == 1 ? "min" : "max");
    if (value.numel() != 1) node.fail_invalid("Clip bounds must be scalars");
    bound = value.item<double>();
  }
  static c10::optional<at::Scalar> to_scalar(const std::optional<double>& value) {
    if (!value) return c10::nullopt;
    return at::Scalar(*value);
  }

  std::optional<double> low_, high_;
};

enum class Arithmetic { kAdd, kSub, kMul, kDiv, kPow };

// Element-wise arithmetic with numpy broadcasting.
class BinaryOperation final : public Operation {
 public:
  explicit BinaryOperation(Arithmetic kind) : kind_(kind) {}

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor& a = inputs[0];
    const at::Tensor& b = inputs[1];
    switch (kind_) {
      case Arithmetic::kAdd:
        return at::add(a, b);
      case Arithmetic::kSub:
        return at::sub(a, b);
      case Arithmetic::kMul:
        return at::mul(a, b);
      case Arithmetic::kPow:
        return at::pow(a, b);
      case Arithmetic::kDiv:
        // Integer division (shape arithmetic) truncates in ONNX; ATen's default is true division.
        if (!a.is_floating_point() && !b.is_floating_point()) return at::div(a, b, "trunc");
        return at::div(a, b);
    }
    return {};
  }

 private:
  Arithmetic kind_;
};

// Sum: element-wise sum of any number of inputs.
class SumOperation final : public Operation {
 public:
  at::Tensor run(const Arguments& inputs) const override {
    at::Tensor total = inputs[0];
    for (size_t i = 1; i < inputs.size(); ++i) {
      if (inputs.has(i)) total = total + inputs[i];  // an empty name is an absent input
    }
    return total;
  }
};

// Reads a shape or axes tensor (int64, any device) into a vector.
std::vector<int64_t> to_vector(const at::Tensor& tensor) {
  const at::Tensor values = tensor.to(at::kCPU, at::kLong).contiguous();
  const int64_t* data = values.data_ptr<int64_t>();
  return {data, data + values.numel()};
}

// Reshape. A target whose dimension 0 is the batch the graph was exported with (the shipped
// models' [1, -1]) means "the batch", so the graph runs on any batch size.
class ReshapeOperation final : public Operation {
 public:
  explicit ReshapeOperation(NodeContext& node) {
    allow_zero_ = node.attribute_int("allowzero", 0) != 0;
    if (!node.constant_input(1)) return;  // a computed target (Shape -> ... -> Concat)
    target_ = to_vector(node.capture_constant(1, "shape"));
    const bool data_is_runtime = !node.constant_input(0);
    batch_from_input_ = data_is_runtime && !target_.empty() && node.exported_batch() > 0 &&
                        target_[0] == node.exported_batch();
  }

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor& x = inputs[0];
    std::vector<int64_t> target = inputs.has(1) ? to_vector(inputs[1]) : target_;
    if (batch_from_input_) target[0] = x.size(0);
    if (!allow_zero_) {
      for (size_t i = 0; i < target.size(); ++i) {
        if (target[i] == 0 && static_cast<int64_t>(i) < x.dim())
          target[i] = x.size(static_cast<int64_t>(i));
      }
    }
    return x.reshape(target);
  }

 private:
  std::vector<int64_t> target_;
  bool batch_from_input_ = false;
  bool allow_zero_ = false;
};

// Flatten to 2-D at `axis`. Axis 0 would fold the batch into the features; dimension 0 is the
// batch here, so it is kept (as axis 1 does).
class FlattenOperation final : public Operation {
 public:
  explicit FlattenOperation(NodeContext& node) : axis_(node.attribute_int("axis", 1)) {}

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor& x = inputs[0];
    int64_t axis = axis_ < 0 ? axis_ + x.dim() : axis_;
    axis = std::max<int64_t>(axis, 1);
    int64_t outer = 1;
    for (int64_t d = 0; d < axis && d < x.dim(); ++d) outer *= x.size(d);
    return x.reshape({outer, -1});
  }

 private:
  int64_t axis_;
};

class ConcatOperation final : public Operation {
 public:
  explicit ConcatOperation(NodeContext& node) : axis_(node.attribute_int("axis", 0)) {
    if (!node.has_attribute("axis")) node.fail_invalid("Concat needs an axis");
  }

  at::Tensor run(const Arguments& inputs) const override {
    std::vector<at::Tensor> parts;
    parts.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs.has(i)) parts.push_back(inputs[i]);
    }
    return at::cat(parts, axis_);
  }

 private:
  int64_t axis_;
};

class TransposeOperation final : public Operation {
 public:
  explicit TransposeOperation(NodeContext& node) : permutation_(node.attribute_ints("perm", {})) {}

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor& x = inputs[0];
    if (!permutation_.empty()) return x.permute(permutation_);
    std::vector<int64_t> reversed(static_cast<size_t>(x.dim()));
    for (int64_t d = 0; d < x.dim(); ++d) reversed[static_cast<size_t>(d)] = x.dim() - 1 - d;
    return x.permute(reversed);
  }

 private:
  std::vector<int64_t> permutation_;
};

// Axes come from an attribute (older opsets) or a constant second input (opset 13 on).
std::optional<std::vector<int64_t>> read_axes(NodeContext& node) {
  if (node.has_attribute("axes")) return node.attribute_ints("axes", {});
  if (node.has_input(1)) return to_vector(node.capture_constant(1, "axes"));
  return std::nullopt;
}

class UnsqueezeOperation final : public Operation {
 public:
  explicit UnsqueezeOperation(NodeContext& node) {
    auto axes = read_axes(node);
    if (!axes) node.fail_invalid("Unsqueeze needs axes");
    axes_ = *axes;
  }

  at::Tensor run(const Arguments& inputs) const override {
    const int64_t rank = inputs[0].dim() + static_cast<int64_t>(axes_.size());
    std::vector<int64_t> axes = axes_;
    for (int64_t& axis : axes) axis = axis < 0 ? axis + rank : axis;
    std::sort(axes.begin(), axes.end());
    at::Tensor y = inputs[0];
    for (int64_t axis : axes) y = y.unsqueeze(axis);
    return y;
  }

 private:
  std::vector<int64_t> axes_;
};

class SqueezeOperation final : public Operation {
 public:
  explicit SqueezeOperation(NodeContext& node) : axes_(read_axes(node)) {}

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor& x = inputs[0];
    if (!axes_) return x.squeeze();
    std::vector<int64_t> axes = *axes_;
    for (int64_t& axis : axes) axis = axis < 0 ? axis + x.dim() : axis;
    std::sort(axes.rbegin(), axes.rend());  // from the last, so earlier indices stay valid
    at::Tensor y = x;
    for (int64_t axis : axes) y = y.squeeze(axis);
    return y;
  }

 private:
  std::optional<std::vector<int64_t>> axes_;
};

// Shape: the input's sizes as an int64 CPU tensor (shape arithmetic stays on the CPU).
class ShapeOperation final : public Operation {
 public:
  explicit ShapeOperation(NodeContext& node)
      : start_(node.attribute_int("start", 0)), end_(node.attribute_int("end", INT64_MAX)) {}

  at::Tensor run(const Arguments& inputs) const override {
    const auto sizes = inputs[0].sizes();
    const int64_t rank = static_cast<int64_t>(sizes.size());
    const int64_t start = std::clamp<int64_t>(start_ < 0 ? start_ + rank : start_, 0, rank);
    const int64_t end = std::clamp<int64_t>(end_ < 0 ? end_ + rank : end_, start, rank);
    return at::tensor(std::vector<int64_t>(sizes.begin() + start, sizes.begin() + end), at::kLong);
  }

 private:
  int64_t start_, end_;
};

// Gather along an axis, numpy take semantics: out shape = data[:axis] + indices + data[axis+1:].
class GatherOperation final : public Operation {
 public:
  explicit GatherOperation(NodeContext& node) : axis_(node.attribute_int("axis", 0)) {}

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor& data = inputs[0];
    const int64_t axis = axis_ < 0 ? axis_ + data.dim() : axis_;
    at::Tensor indices = inputs[1].to(data.device(), at::kLong);
    indices = at::where(indices < 0, indices + data.size(axis), indices);
    std::vector<int64_t> shape(data.sizes().begin(), data.sizes().begin() + axis);
    shape.insert(shape.end(), indices.sizes().begin(), indices.sizes().end());
    shape.insert(shape.end(), data.sizes().begin() + axis + 1, data.sizes().end());
    return at::index_select(data, axis, indices.reshape({-1})).reshape(shape);
  }

 private:
  int64_t axis_;
};

// Cast. The graph computes in float32 and int64 (see tensor_from_proto), so floating targets
// become float32 and integer targets int64.
class CastOperation final : public Operation {
 public:
  explicit CastOperation(NodeContext& node) {
    const int64_t to = node.attribute_int("to", 0);
    switch (to) {
      case 1:
      case 10:
      case 11:
      case 16:
        type_ = at::kFloat;
        break;  // float, f16, double, bf16
      case 2:
      case 3:
      case 4:
      case 5:
      case 6:
      case 7:
      case 12:
      case 13:
        type_ = at::kLong;
        break;
      case 9:
        type_ = at::kBool;
        break;
      default:
        node.fail_unsupported("cast to ONNX type " + std::to_string(to));
    }
  }
  at::Tensor run(const Arguments& inputs) const override { return inputs[0].to(type_); }

 private:
  at::ScalarType type_ = at::kFloat;
};

class ConstantOperation final : public Operation {
 public:
  explicit ConstantOperation(NodeContext& node) {
    if (auto tensor = node.attribute_tensor("value")) {
      value_ = *tensor;
    } else if (node.has_attribute("value_float")) {
      value_ = at::scalar_tensor(node.attribute_float("value_float", 0.0f), at::kFloat);
    } else if (node.has_attribute("value_int")) {
      value_ = at::scalar_tensor(node.attribute_int("value_int", 0), at::kLong);
    } else if (node.has_attribute("value_ints")) {
      value_ = at::tensor(node.attribute_ints("value_ints", {}), at::kLong);
    } else {
      node.fail_unsupported("only value, value_float, value_int and value_ints are supported");
    }
  }
  at::Tensor run(const Arguments&) const override { return value_; }

 private:
  at::Tensor value_;
};

enum class Reduction { kMean, kSum, kMax, kL2 };

class ReduceOperation final : public Operation {
 public:
  ReduceOperation(NodeContext& node, Reduction kind) : kind_(kind) {
    axes_ = read_axes(node).value_or(std::vector<int64_t>{});
    keep_dims_ = node.attribute_int("keepdims", 1) != 0;
    if (axes_.empty() && node.attribute_int("noop_with_empty_axes", 0) != 0) identity_ = true;
  }

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor& x = inputs[0];
    if (identity_) return x;
    std::vector<int64_t> axes = axes_;
    if (axes.empty()) {  // all axes
      for (int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
    }
    switch (kind_) {
      case Reduction::kMean:
        return at::mean(x, axes, keep_dims_);
      case Reduction::kSum:
        return at::sum(x, axes, keep_dims_);
      case Reduction::kMax:
        return at::amax(x, axes, keep_dims_);
      case Reduction::kL2:
        return at::sqrt(at::sum(x * x, axes, keep_dims_));
    }
    return {};
  }

 private:
  Reduction kind_;
  std::vector<int64_t> axes_;
  bool keep_dims_ = true;
  bool identity_ = false;
};

// Pad, constant mode: pads as an attribute (before opset 11) or a constant input.
class PadOperation final : public Operation {
 public:
  explicit PadOperation(NodeContext& node) {
    const std::string mode = node.attribute_string("mode", "constant");
    if (mode != "constant") node.fail_unsupported("mode '" + mode + "'");
    std::vector<int64_t> pads = node.has_attribute("pads")
                                    ? node.attribute_ints("pads", {})
                                    : to_vector(node.capture_constant(1, "pads"));
    value_ = node.attribute_float("value", 0.0f);
    if (node.has_input(2)) value_ = node.capture_constant(2, "constant_value").item<double>();
    if (node.has_input(3)) node.fail_unsupported("the axes input");
    if (pads.size() % 2 != 0) node.fail_invalid("pads must have an even number of values");
    for (int64_t pad : pads) {
      // Negative pads crop, which is fine; huge ones would allocate gigabytes per image.
      if (pad < -kMaxWindowExtent || pad > kMaxWindowExtent) {
        node.fail_invalid("pads must be between -" + std::to_string(kMaxWindowExtent) + " and " +
                          std::to_string(kMaxWindowExtent));
      }
    }
    // ONNX [begin_0.., end_0..] -> constant_pad_nd's [begin_last, end_last, begin_prev, ...].
    const size_t rank = pads.size() / 2;
    for (size_t k = rank; k-- > 0;) {
      pads_.push_back(pads[k]);
      pads_.push_back(pads[k + rank]);
    }
  }
  at::Tensor run(const Arguments& inputs) const override {
    return at::constant_pad_nd(inputs[0], pads_, value_);
  }

 private:
  std::vector<int64_t> pads_;
  double value_ = 0.0;
};

std::unique_ptr<Operation> unary(UnaryFunction function) {
  return std::make_unique<UnaryOperation>(std::move(function));
}

void add_unary_operators(OperatorTable& table) {
  const auto simple = [&table](const char* name, at::Tensor (*function)(const at::Tensor&)) {
    table[name] = [function](NodeContext&) { return unary(function); };
  };
  simple("Relu", &at::relu);
  simple("Sigmoid", &at::sigmoid);
  simple("Tanh", &at::tanh);
  simple("Exp", &at::exp);
  simple("Log", &at::log);
  simple("Sqrt", &at::sqrt);
  simple("Neg", &at::neg);
  simple("Abs", &at::abs);
  simple("Reciprocal", &at::reciprocal);
  simple("Erf", &at::erf);
  table["HardSwish"] = [](NodeContext&) {
    return unary([](const at::Tensor& x) { return at::hardswish(x); });
  };
  table["Softplus"] = [](NodeContext&) {
    return unary([](const at::Tensor& x) { return at::softplus(x); });
  };
  table["LeakyRelu"] = [](NodeContext& node) {
    const double alpha = node.attribute_float("alpha", 0.01f);
    return unary([alpha](const at::Tensor& x) { return at::leaky_relu(x, alpha); });
  };
  table["Elu"] = [](NodeContext& node) {
    const double alpha = node.attribute_float("alpha", 1.0f);
    return unary([alpha](const at::Tensor& x) { return at::elu(x, alpha); });
  };
  table["HardSigmoid"] = [](NodeContext& node) {
    const double alpha = node.attribute_float("alpha", 0.2f);
    const double beta = node.attribute_float("beta", 0.5f);
    return unary(
        [alpha, beta](const at::Tensor& x) { return at::clamp(x * alpha + beta, 0.0, 1.0); });
  };
}

template <typename T>
std::unique_ptr<Operation> make(NodeContext& node) {
  return std::make_unique<T>(node);
}

const OperatorTable& operator_table() {
  static const OperatorTable table = [] {
    OperatorTable t;
    add_convolution_operators(t);
    add_layer_operators(t);
    add_tensor_operators(t);
    return t;
  }();
  return table;
}

}  // namespace

void add_tensor_operators(OperatorTable& table) {
  add_unary_operators(table);
  const auto binary = [&table](const char* name, Arithmetic kind) {
    table[name] = [kind](NodeContext&) { return std::make_unique<BinaryOperation>(kind); };
  };
  binary("Add", Arithmetic::kAdd);
  binary("Sub", Arithmetic::kSub);
  binary("Mul", Arithmetic::kMul);
  binary("Div", Arithmetic::kDiv);
  binary("Pow", Arithmetic::kPow);
  table["Sum"] = [](NodeContext&) { return std::make_unique<SumOperation>(); };
  table["Clip"] = &make<ClipOperation>;
  table["Reshape"] = &make<ReshapeOperation>;
  table["Flatten"] = &make<FlattenOperation>;
  table["Concat"] = &make<ConcatOperation>;
  table["Transpose"] = &make<TransposeOperation>;
  table["Unsqueeze"] = &make<UnsqueezeOperation>;
  table["Squeeze"] = &make<SqueezeOperation>;
  table["Shape"] = &make<ShapeOperation>;
  table["Gather"] = &make<GatherOperation>;
  table["Cast"] = &make<CastOperation>;
  table["Constant"] = &make<ConstantOperation>;
  table["Pad"] = &make<PadOperation>;
  const auto reduce = [&table](const char* name, Reduction kind) {
    table[name] = [kind](NodeContext& node) {
      return std::make_unique<ReduceOperation>(node, kind);
    };
  };
  reduce("ReduceMean", Reduction::kMean);
  reduce("ReduceSum", Reduction::kSum);
  reduce("ReduceMax", Reduction::kMax);
  reduce("ReduceL2", Reduction::kL2);
}

bool is_pass_through_operator(const std::string& op_type) {
  return op_type == "Identity" || op_type == "Dropout";
}

bool is_supported_operator(const std::string& op_type) {
  return is_pass_through_operator(op_type) || operator_table().count(op_type) > 0;
}

// How many leading inputs an operator reads unconditionally (ONNX's required inputs; the
// operations check their optional ones themselves). An operation reading an absent input read
// past its argument list (found by fuzzing), so absent required inputs fail at import.
size_t required_inputs(const std::string& op_type) {
  static const std::unordered_map<std::string, size_t> counts = {
      {"Add", 2},     {"Sub", 2},     {"Mul", 2},   {"Div", 2},   {"Pow", 2},
      {"Gather", 2},  {"MatMul", 2},  {"Gemm", 2},  {"PRelu", 2}, {"Reshape", 2},
      {"Conv", 2},    {"BatchNormalization", 5},    {"Constant", 0}};
  const auto found = counts.find(op_type);
  return found == counts.end() ? 1 : found->second;
}

std::unique_ptr<Operation> make_operation(NodeContext& node) {
  const auto found = operator_table().find(node.op_type());
  if (found == operator_table().end()) node.fail_unsupported("no implementation");
  const size_t required = required_inputs(node.op_type());
  for (size_t i = 0; i < required; ++i) {
    if (!node.has_input(i)) {
      node.fail_invalid("input " + std::to_string(i) + " is missing (" + std::to_string(required) +
                        " required)");
    }
  }
  return found->second(node);
}

}  // namespace faceqan::onnx_import
