// The ONNX importer: reads a model file, prepares one Operation per node (onnx_convolution.cpp,
// onnx_layers.cpp, onnx_operators.cpp) and runs them in the graph's topological order on numbered
// tensor slots.
//
// Done once at import: attribute parsing, constant folding (any node whose inputs are all
// known), BatchNormalization folded into the convolution before it, dead-node removal, and the
// point after which each intermediate tensor is no longer needed.
#include "faceqan/onnx_importer.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "onnx_graph.h"

namespace faceqan {
namespace onnx_import {
namespace {

// One prepared node of the forward pass.
struct Step {
  std::unique_ptr<Operation> operation;
  std::vector<int> inputs;  // a slot per node input; -1 when absent or captured at import
  int output = -1;
  std::vector<int> release;  // slots read for the last time by this step
  std::string description;   // "Conv node 'x'", for run-time errors
};

class OnnxNetwork final : public EmbeddingNetwork {
 public:
  OnnxNetwork(std::string source, std::vector<at::Tensor> initial_slots, std::vector<Step> steps,
              int input_slot, int output_slot)
      : source_(std::move(source)),
        initial_slots_(std::move(initial_slots)),
        steps_(std::move(steps)),
        input_slot_(input_slot),
        output_slot_(output_slot) {}

  at::Tensor forward(const at::Tensor& input) override {
    std::vector<at::Tensor> slots = initial_slots_;  // constants; copies handles, not data
    slots[static_cast<size_t>(input_slot_)] = input;
    for (size_t index = 0; index < steps_.size(); ++index) {
      const Step& step = steps_[index];
      try {
        // A lower-precision copy runs some steps in float32 (see cast): each step reads its
        // floating-point inputs in its own type.
        if (dtype_ != at::kFloat) {
          const c10::ScalarType wanted = step_types_[index];
          for (int slot : step.inputs) {
            if (slot < 0) continue;
            at::Tensor& value = slots[static_cast<size_t>(slot)];
            if (value.defined() && value.is_floating_point() && value.scalar_type() != wanted) {
              value = value.to(wanted);
            }
          }
        }
        slots[static_cast<size_t>(step.output)] = step.operation->run(Arguments(slots, step.inputs));
      } catch (const c10::Error& error) {
        throw Error(ErrorCode::kInvalidInput, source_ + ": " + step.description +
                                                  " failed on input " + shape_text(input) + ": " +
                                                  error.what_without_backtrace());
      } catch (const Error&) {
        throw;
      } catch (const std::exception& error) {
        // Not every ATen check is a c10::Error: reshape's size inference throws
        // std::runtime_error (found by fuzzing).
        throw Error(ErrorCode::kInvalidInput, source_ + ": " + step.description +
                                                  " failed on input " + shape_text(input) + ": " +
                                                  error.what());
      }
      // Intermediate results are dropped as soon as nothing reads them (autograd keeps what the
      // backward pass needs by itself).
      for (int slot : step.release) slots[static_cast<size_t>(slot)].reset();
    }
    at::Tensor output = std::move(slots[static_cast<size_t>(output_slot_)]);
    return output.dim() == 2 ? output : output.reshape({input.size(0), -1});
  }

  void to(const c10::Device& device) override { cast(device, at::kFloat); }

  // A fresh import of the same file with its floating-point weights and constants in dtype.
  std::unique_ptr<EmbeddingNetwork> converted(c10::ScalarType dtype,
                                              const c10::Device& device) const override {
    std::unique_ptr<EmbeddingNetwork> copy = import_onnx(source_);
    static_cast<OnnxNetwork&>(*copy).cast(device, dtype);
    return copy;
  }

  // In a lower precision, the first step stays float32: FaceQAN's noise and steps (0.002 on a
  // [-1, 1] input) are below bfloat16's spacing there (0.004-0.008 for |x| > 0.5), so a cast
  // input would lose most of them; the first layer's float32 output, rounded as the next step
  // reads it, keeps them in aggregate. More float32 steps bought nothing measurable
  // (docs/PERFORMANCE.md, lower precision). Any other step that reads the input casts it.
  void cast(const c10::Device& device, c10::ScalarType dtype) {
    dtype_ = dtype;
    step_types_.assign(steps_.size(), dtype);
    if (dtype != at::kFloat && !steps_.empty()) step_types_.front() = at::kFloat;
    for (at::Tensor& tensor : initial_slots_) move_floating(tensor, device, dtype);
    for (size_t i = 0; i < steps_.size(); ++i) steps_[i].operation->to(device, step_types_[i]);
  }

 private:
  static std::string shape_text(const at::Tensor& tensor) {
    std::ostringstream text;
    text << tensor.sizes();
    return text.str();
  }

  std::string source_;
  std::vector<at::Tensor> initial_slots_;
  std::vector<Step> steps_;
  int input_slot_;
  int output_slot_;
  c10::ScalarType dtype_ = at::kFloat;     // the weights' type (lower-precision copies)
  std::vector<c10::ScalarType> step_types_;  // each step's type (see cast)
};

// What the importer knows about a named value of the graph.
struct Value {
  std::optional<at::Tensor> constant;  // known at import
  int slot = -1;                       // computed at run time (or a constant read by a step)
  int producer = -1;                   // the step computing it, if any
};

class GraphImporter {
 public:
  GraphImporter(std::string path, const onnx::ModelProto& model)
      : path_(std::move(path)), graph_(model.graph()) {}

  std::unique_ptr<EmbeddingNetwork> import() {
    check_operators();
    read_initializers();
    read_input();
    count_consumers();
    for (const onnx::NodeProto& node : graph_.node()) import_node(node);
    const int output_slot = resolve_output();
    remove_dead_steps(output_slot);
    plan_releases(output_slot);
    return std::make_unique<OnnxNetwork>(path_, std::move(initial_slots_), std::move(steps_),
                                         input_slot_, output_slot);
  }

  const std::string& path() const { return path_; }
  int64_t exported_batch() const { return exported_batch_; }
  const Value& value(const std::string& name) const { return values_.at(name); }

 private:
  class Node;

  [[noreturn]] void invalid(const std::string& why) const {
    throw Error(ErrorCode::kModelInvalid, path_ + ": " + why);
  }

  // Fails on the first node (in graph order) with an operator this importer does not implement,
  // before anything else is prepared, and lists the other missing operators too.
  void check_operators() const {
    if (graph_.node_size() == 0) invalid("the graph has no nodes");
    const onnx::NodeProto* first = nullptr;
    std::vector<std::string> others;
    for (const onnx::NodeProto& node : graph_.node()) {
      const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
      if (default_domain && is_supported_operator(node.op_type())) continue;
      const std::string type =
          default_domain ? node.op_type() : node.domain() + "." + node.op_type();
      if (first == nullptr) {
        first = &node;
      } else if (std::find(others.begin(), others.end(), type) == others.end()) {
        others.push_back(type);
      }
    }
    if (first == nullptr) return;
    std::string message = path_ + ": unsupported ONNX operator " +
                          (first->domain().empty() ? "" : first->domain() + ".") +
                          first->op_type() + " (node '" + node_label(*first) + "')";
    if (!others.empty()) {
      message += "; the model also uses";
      for (const std::string& type : others) message += " " + type;
    }
    throw Error(ErrorCode::kUnsupportedOperator, message);
  }

  void read_initializers() {
    for (const onnx::TensorProto& tensor : graph_.initializer()) {
      try {
        values_[tensor.name()].constant =
            tensor_from_proto(tensor, "initializer '" + tensor.name() + "'");
      } catch (const Error& error) {
        // Unreadable weights only matter if a node reads them (see require_known()).
        broken_[tensor.name()] = error.what();
      }
    }
  }

  // The image input: the one graph input that is not an initializer (before IR version 4 every
  // initializer is also listed as an input).
  void read_input() {
    std::vector<const onnx::ValueInfoProto*> inputs;
    for (const onnx::ValueInfoProto& input : graph_.input()) {
      if (!values_.count(input.name()) && !broken_.count(input.name())) inputs.push_back(&input);
    }
    if (inputs.size() != 1) {
      std::string names;
      for (const auto* input : inputs) names += " '" + input->name() + "'";
      invalid("expected one graph input (the image), found " + std::to_string(inputs.size()) +
              (names.empty() ? "" : ":" + names));
    }
    const onnx::ValueInfoProto& input = *inputs.front();
    if (input.type().has_tensor_type()) {
      const auto& type = input.type().tensor_type();
      if (type.elem_type() != onnx::TensorProto::FLOAT && type.elem_type() != 0) {
        invalid("graph input '" + input.name() + "' is not float (ONNX type " +
                std::to_string(type.elem_type()) + ")");
      }
      if (type.has_shape() && type.shape().dim_size() > 0 && type.shape().dim(0).has_dim_value()) {
        exported_batch_ = type.shape().dim(0).dim_value();
      }
    }
    input_slot_ = new_slot();
    values_[input.name()].slot = input_slot_;
  }

  void count_consumers() {
    for (const onnx::NodeProto& node : graph_.node()) {
      for (const std::string& name : node.input()) {
        if (!name.empty()) ++consumers_[name];
      }
    }
    for (const onnx::ValueInfoProto& output : graph_.output()) ++consumers_[output.name()];
  }

  int new_slot() {
    initial_slots_.emplace_back();
    slot_readers_.push_back(0);
    return static_cast<int>(initial_slots_.size()) - 1;
  }

  const Value& require_known(const onnx::NodeProto& node, const std::string& name) const {
    if (auto broken = broken_.find(name); broken != broken_.end()) invalid(broken->second);
    const auto found = values_.find(name);
    if (found == values_.end()) {
      invalid(node.op_type() + " node '" + node_label(node) + "' reads '" + name +
              "', which no earlier node, graph input or initializer produces");
    }
    return found->second;
  }

  // The slot a step reads a value from; a constant gets one holding it on first use.
  int slot_for(const std::string& name) {
    Value& value = values_.at(name);
    if (value.slot < 0) {
      value.slot = new_slot();
      initial_slots_[static_cast<size_t>(value.slot)] = *value.constant;
    }
    return value.slot;
  }

  void import_node(const onnx::NodeProto& node);
  bool try_fold_into_producer(const onnx::NodeProto& node, const Operation& operation);
  void fold_constant(const onnx::NodeProto& node, const Operation& operation, const Node& context);

  int resolve_output() {
    if (graph_.output_size() == 0) invalid("the graph has no output");
    // An embedding network has one output; with several, the first is the embedding.
    const std::string& name = graph_.output(0).name();
    const auto found = values_.find(name);
    if (found == values_.end()) invalid("graph output '" + name + "' is not produced by any node");
    if (found->second.producer < 0)
      invalid("graph output '" + name + "' does not depend on the input");
    return found->second.slot;
  }

  // Drops steps whose results never reach the output (for example a classifier head).
  void remove_dead_steps(int output_slot) {
    std::vector<bool> needed(initial_slots_.size(), false);
    needed[static_cast<size_t>(output_slot)] = true;
    std::vector<Step> live;
    for (size_t i = steps_.size(); i-- > 0;) {
      Step& step = steps_[i];
      if (!needed[static_cast<size_t>(step.output)]) continue;
      for (int slot : step.inputs) {
        if (slot >= 0) needed[static_cast<size_t>(slot)] = true;
      }
      live.push_back(std::move(step));
    }
    steps_.assign(std::make_move_iterator(live.rbegin()), std::make_move_iterator(live.rend()));
    for (size_t slot = 0; slot < initial_slots_.size(); ++slot) {
      if (!needed[slot]) initial_slots_[slot] = at::Tensor();  // constants nothing reads
    }
  }

  void plan_releases(int output_slot) {
    std::vector<int> last_reader(initial_slots_.size(), -1);
    for (size_t i = 0; i < steps_.size(); ++i) {
      for (int slot : steps_[i].inputs) {
        if (slot >= 0) last_reader[static_cast<size_t>(slot)] = static_cast<int>(i);
      }
    }
    for (size_t slot = 0; slot < last_reader.size(); ++slot) {
      const bool constant = initial_slots_[slot].defined();
      if (last_reader[slot] >= 0 && !constant && static_cast<int>(slot) != output_slot) {
        steps_[static_cast<size_t>(last_reader[slot])].release.push_back(static_cast<int>(slot));
      }
    }
  }

  std::string path_;
  const onnx::GraphProto& graph_;
  std::unordered_map<std::string, Value> values_;
  std::unordered_map<std::string, std::string> broken_;  // initializer -> why it is unreadable
  std::unordered_map<std::string, int> consumers_;       // value name -> readers (+1 if output)
  std::vector<int> slot_readers_;                        // per slot, all names' readers together
  std::vector<at::Tensor> initial_slots_;
  std::vector<Step> steps_;
  int input_slot_ = -1;
  int64_t exported_batch_ = -1;
};

class GraphImporter::Node final : public NodeContext {
 public:
  Node(const GraphImporter& importer, const onnx::NodeProto& node)
      : importer_(importer), node_(node) {}

  const onnx::NodeProto& node() const override { return node_; }

  std::optional<at::Tensor> constant_input(size_t i) const override {
    if (!has_input(i)) return std::nullopt;
    return importer_.value(node_.input(static_cast<int>(i))).constant;
  }

  int64_t exported_batch() const override { return importer_.exported_batch(); }

 protected:
  const std::string& model_path() const override { return importer_.path(); }

 private:
  const GraphImporter& importer_;
  const onnx::NodeProto& node_;
};

void GraphImporter::import_node(const onnx::NodeProto& node) {
  for (const std::string& name : node.input()) {
    if (!name.empty()) require_known(node, name);
  }
  if (node.output_size() == 0 || node.output(0).empty())
    invalid("a " + node.op_type() + " node has no output");
  Node context(*this, node);
  for (int i = 1; i < node.output_size(); ++i) {
    if (!node.output(i).empty() && consumers_[node.output(i)] > 0) {
      context.fail_unsupported("output " + std::to_string(i) + " ('" + node.output(i) +
                               "') is used, only the first output is supported");
    }
  }
  const std::string& output = node.output(0);
  if (is_pass_through_operator(node.op_type())) {
    if (!context.has_input(0)) context.fail_invalid("it has no input");
    const Value& source = values_.at(node.input(0));
    if (source.slot >= 0 && !source.constant) {
      // The pass-through read the source once; its own readers now read the source's slot.
      slot_readers_[static_cast<size_t>(source.slot)] += consumers_[output] - 1;
    }
    values_[output] = source;
    return;
  }

  std::unique_ptr<Operation> operation = make_operation(context);
  if (try_fold_into_producer(node, *operation)) return;

  bool all_known = true;
  for (size_t i = 0; i < context.input_count(); ++i) {
    const bool captured = i < context.captured().size() && context.captured()[i];
    if (context.has_input(i) && !captured && !context.constant_input(i)) all_known = false;
  }
  if (all_known) {
    fold_constant(node, *operation, context);
    return;
  }

  Step step;
  step.description = context.describe();
  for (size_t i = 0; i < context.input_count(); ++i) {
    const bool captured = i < context.captured().size() && context.captured()[i];
    step.inputs.push_back(
        context.has_input(i) && !captured ? slot_for(node.input(static_cast<int>(i))) : -1);
  }
  step.output = new_slot();
  step.operation = std::move(operation);
  slot_readers_[static_cast<size_t>(step.output)] = consumers_[output];
  values_[output] = Value{std::nullopt, step.output, static_cast<int>(steps_.size())};
  steps_.push_back(std::move(step));
}

// A BatchNormalization right after a convolution that nothing else reads becomes part of the
// convolution's weights: one operation less per forward pass.
bool GraphImporter::try_fold_into_producer(const onnx::NodeProto& node,
                                           const Operation& operation) {
  const std::optional<ChannelAffine> affine = operation.as_channel_affine();
  if (!affine || node.input_size() == 0) return false;
  const Value& source = values_.at(node.input(0));
  if (source.producer < 0 || slot_readers_[static_cast<size_t>(source.slot)] != 1) return false;
  if (!steps_[static_cast<size_t>(source.producer)].operation->absorb_channel_affine(*affine)) {
    return false;
  }
  slot_readers_[static_cast<size_t>(source.slot)] = consumers_[node.output(0)];
  values_[node.output(0)] = source;
  return true;
}

// Runs a node whose inputs are all known at import, once, and keeps its result as a constant.
void GraphImporter::fold_constant(const onnx::NodeProto& node, const Operation& operation,
                                  const Node& context) {
  std::vector<at::Tensor> values;
  std::vector<int> indices;
  for (size_t i = 0; i < context.input_count(); ++i) {
    const bool captured = i < context.captured().size() && context.captured()[i];
    if (context.has_input(i) && !captured) {
      indices.push_back(static_cast<int>(values.size()));
      values.push_back(*context.constant_input(i));
    } else {
      indices.push_back(-1);
    }
  }
  try {
    values_[node.output(0)].constant = operation.run(Arguments(values, indices));
  } catch (const c10::Error& error) {
    context.fail_invalid(std::string("evaluating it on its constant inputs failed: ") +
                         error.what_without_backtrace());
  } catch (const Error&) {
    throw;
  } catch (const std::exception& error) {  // ATen's std::runtime_error checks (reshape)
    context.fail_invalid(std::string("evaluating it on its constant inputs failed: ") +
                         error.what());
  }
}

}  // namespace
}  // namespace onnx_import

std::unique_ptr<EmbeddingNetwork> import_onnx(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw Error(ErrorCode::kModelNotFound, "ONNX model not found: " + path);
  }
  std::ifstream file(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (!file && !file.eof()) throw Error(ErrorCode::kModelInvalid, "cannot read ONNX model " + path);
  return import_onnx_bytes(bytes, path);
}

std::unique_ptr<EmbeddingNetwork> import_onnx_bytes(const std::string& bytes,
                                                    const std::string& path) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes)) {
    throw Error(ErrorCode::kModelInvalid,
                path +
                    ": not a valid ONNX model (the protobuf message does not parse: the file is "
                    "truncated, damaged or not ONNX)");
  }
  if (!model.has_graph())
    throw Error(ErrorCode::kModelInvalid, path + ": the ONNX model has no graph");
  try {
    return onnx_import::GraphImporter(path, model).import();
  } catch (const c10::Error& error) {
    // A shape or type inconsistency met while preparing weights.
    throw Error(ErrorCode::kModelInvalid, path + ": " + error.what_without_backtrace());
  } catch (const Error&) {
    throw;
  } catch (const std::exception& error) {  // ATen's std::runtime_error checks (reshape)
    throw Error(ErrorCode::kModelInvalid, path + ": " + error.what());
  }
}

}  // namespace faceqan
