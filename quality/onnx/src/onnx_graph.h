// onnx_graph.h (internal to faceqan_model_io): what the ONNX importer and its operators share.
//
// The importer walks the graph once, in the file's (topological) order, and asks
// make_operation() for each node. Everything that does not depend on the input tensor (attribute
// parsing, padding, constant inputs, folded constants) is resolved then, so that a forward pass
// is nothing but a loop over prepared operations reading and writing numbered tensor slots.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "faceqan/quality.h"

namespace onnx {
class NodeProto;
class TensorProto;
}  // namespace onnx

namespace faceqan::onnx_import {

// The largest kernel, stride, dilation or padding (in elements along one dimension) the importer
// accepts. A face recognition network works on images of a few hundred pixels; a larger value is
// a damaged or hostile file, and padding by it would allocate gigabytes for every image.
inline constexpr int64_t kMaxWindowExtent = 4096;

// Converts an ONNX tensor (raw_data or the typed fields) to a CPU tensor that needs no gradient.
// Floating types become float32, integer types int64, BOOL stays bool. `what` names the tensor
// in error messages; unsupported element types throw Error(kModelInvalid).
at::Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what);

// The node's name for messages (its first output when it has none).
std::string node_label(const onnx::NodeProto& node);

// The tensors a node reads at run time, in the node's input order. An input that is absent
// (an optional input left empty) or that the operation captured at import has no slot.
class Arguments {
 public:
  Arguments(const std::vector<at::Tensor>& slots, const std::vector<int>& indices)
      : slots_(slots), indices_(indices) {}
  bool has(size_t i) const { return i < indices_.size() && indices_[i] >= 0; }
  // Input i, which must be present: make_operation() rejects nodes without their required
  // inputs, and this check keeps any other absent one an error instead of a wild read.
  const at::Tensor& operator[](size_t i) const {
    TORCH_CHECK(has(i), "input ", i, " is absent");
    return slots_[static_cast<size_t>(indices_[i])];
  }
  size_t size() const { return indices_.size(); }

 private:
  const std::vector<at::Tensor>& slots_;
  const std::vector<int>& indices_;
};

// y = x * scale + shift per channel (dimension 1); what a BatchNormalization amounts to in
// inference.
struct ChannelAffine {
  at::Tensor scale;  // [C]
  at::Tensor shift;  // [C]
};

// One prepared ONNX node. Implementations keep whatever they precomputed as members.
class Operation {
 public:
  virtual ~Operation() = default;
  // Computes the node's (first) output. Must use differentiable ATen operations only.
  virtual at::Tensor run(const Arguments& inputs) const = 0;
  // Moves captured floating-point tensors to a device and casts them to dtype (integer tensors hold
  // shapes: they stay on the CPU).
  virtual void to(const c10::Device& /*device*/, c10::ScalarType /*dtype*/) {}
  // A per-channel affine map this operation is equivalent to, if any (BatchNormalization).
  virtual std::optional<ChannelAffine> as_channel_affine() const { return std::nullopt; }
  // Folds a following per-channel affine map into this operation's own weights, if it can (Conv).
  virtual bool absorb_channel_affine(const ChannelAffine& /*affine*/) { return false; }
};

// A node while it is being imported: its attributes and what is known about its inputs.
// Implemented by the importer; operations use it only inside make_operation().
class NodeContext {
 public:
  virtual ~NodeContext() = default;

  virtual const onnx::NodeProto& node() const = 0;
  const std::string& op_type() const;
  // "Conv node 'conv_1'" for messages.
  std::string describe() const;

  bool has_attribute(const std::string& name) const;
  int64_t attribute_int(const std::string& name, int64_t fallback) const;
  float attribute_float(const std::string& name, float fallback) const;
  std::string attribute_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> attribute_ints(const std::string& name,
                                      const std::vector<int64_t>& fallback) const;
  std::optional<at::Tensor> attribute_tensor(const std::string& name) const;

  // Number of inputs the node lists, and whether input i is present (not omitted or empty).
  size_t input_count() const;
  bool has_input(size_t i) const;
  // Whether output i is present (named).
  bool has_output(size_t i) const;
  // The value of input i if it is known at import (initializer, Constant, folded), else nullopt.
  virtual std::optional<at::Tensor> constant_input(size_t i) const = 0;
  // Input i's value, which must be known at import; the operation keeps it, so the input gets no
  // slot at run time. Throws Error(kUnsupportedOperator) when the input is computed at run time.
  at::Tensor capture_constant(size_t i, const std::string& role);
  // The batch size the graph input was exported with (its fixed dimension 0), or -1.
  virtual int64_t exported_batch() const = 0;

  [[noreturn]] void fail_unsupported(const std::string& why) const;
  [[noreturn]] void fail_invalid(const std::string& why) const;

  // Which inputs the operation captured (so the importer gives them no run-time slot).
  const std::vector<bool>& captured() const { return captured_; }

 protected:
  virtual const std::string& model_path() const = 0;

 private:
  std::vector<bool> captured_;
};

// Whether the operator (in the default ONNX domain) has an implementation here.
bool is_supported_operator(const std::string& op_type);
// Operators that forward their first input unchanged in inference (Identity, Dropout).
bool is_pass_through_operator(const std::string& op_type);
// Prepares a supported node. Throws Error(kUnsupportedOperator) for an unsupported variant (for
// example a computed convolution weight) and Error(kModelInvalid) for inconsistent attributes.
std::unique_ptr<Operation> make_operation(NodeContext& node);

// The operator tables, one per source file (onnx_convolution.cpp, onnx_layers.cpp,
// onnx_operators.cpp).
using OperationFactory = std::function<std::unique_ptr<Operation>(NodeContext&)>;
using OperatorTable = std::unordered_map<std::string, OperationFactory>;
void add_convolution_operators(OperatorTable& table);
void add_layer_operators(OperatorTable& table);
void add_tensor_operators(OperatorTable& table);

// Moves a tensor to a device and casts it to dtype if it holds floating-point values (see
// Operation::to).
void move_floating(at::Tensor& tensor, const c10::Device& device, c10::ScalarType dtype);

}  // namespace faceqan::onnx_import
