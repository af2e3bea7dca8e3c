// Reading ONNX protobuf messages: tensors (initializers, Constant values) and node attributes.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "onnx_graph.h"

namespace faceqan::onnx_import {
namespace {

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i ? "," : "") + std::to_string(dims[i]);
  return text + "]";
}

// A tensor of `dims` filled from a typed repeated field (float_data, int64_data, ...).
template <typename Field>
at::Tensor from_field(const Field& field, at::ScalarType type, const std::vector<int64_t>& dims,
                      int64_t count, const std::string& what) {
  if (field.size() != count) {
    throw Error(ErrorCode::kModelInvalid, what + " has " + std::to_string(field.size()) +
                                              " values for shape " + shape_text(dims));
  }
  at::Tensor tensor = at::empty(dims, at::TensorOptions().dtype(type));
  using Value = typename Field::value_type;
  // int32_data also carries the narrow integer types and float16 bit patterns; convert per value.
  if (type == at::kFloat) {
    float* out = tensor.data_ptr<float>();
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(field.Get(static_cast<int>(i)));
  } else if (type == at::kLong) {
    int64_t* out = tensor.data_ptr<int64_t>();
    for (int64_t i = 0; i < count; ++i)
      out[i] = static_cast<int64_t>(field.Get(static_cast<int>(i)));
  } else if (type == at::kDouble) {
    double* out = tensor.data_ptr<double>();
    for (int64_t i = 0; i < count; ++i)
      out[i] = static_cast<double>(field.Get(static_cast<int>(i)));
  } else if (type == at::kBool) {
    bool* out = tensor.data_ptr<bool>();
    for (int64_t i = 0; i < count; ++i) out[i] = field.Get(static_cast<int>(i)) != Value{};
  } else if (type == at::kHalf) {
    auto* out = tensor.data_ptr<at::Half>();
    for (int64_t i = 0; i < count; ++i) {
      out[i] =
          at::Half(static_cast<uint16_t>(field.Get(static_cast<int>(i))), at::Half::from_bits());
    }
  }
  return tensor;
}

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& attribute : node.attribute()) {
    if (attribute.name() == name) return &attribute;
  }
  return nullptr;
}

}  // namespace

std::string node_label(const onnx::NodeProto& node) {
  if (!node.name().empty()) return node.name();
  // Exporters often leave names empty; the first output names the node just as well.
  return node.output_size() > 0 ? node.output(0) : std::string("(unnamed)");
}

at::Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    throw Error(ErrorCode::kModelInvalid,
                what +
                    " keeps its data in an external file, which is not supported: "
                    "save the model with its weights inside");
  }
  const std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  // The element count, checked: dimensions multiplying past int64 were signed overflow (UBSan,
  // found by fuzzing). A file cannot hold more than 2 GB of data (protobuf's limit), so a count
  // above 2^31 is a damaged file whatever its element type; a zero dimension makes it empty.
  constexpr int64_t kMaxElements = int64_t{1} << 31;
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0) throw Error(ErrorCode::kModelInvalid, what + " has a negative dimension");
  }
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) {
    count = 0;
  } else {
    for (int64_t d : dims) {
      if (__builtin_mul_overflow(count, d, &count) || count > kMaxElements) {
        throw Error(ErrorCode::kModelInvalid,
                    what + " has shape " + shape_text(dims) + ", too many elements for a file");
      }
    }
  }
  at::ScalarType stored;  // the element type of the bytes in the file
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT:
      stored = at::kFloat;
      break;
    case onnx::TensorProto::DOUBLE:
      stored = at::kDouble;
      break;
    case onnx::TensorProto::FLOAT16:
      stored = at::kHalf;
      break;
    case onnx::TensorProto::INT64:
      stored = at::kLong;
      break;
    case onnx::TensorProto::INT32:
      stored = at::kInt;
      break;
    case onnx::TensorProto::INT8:
      stored = at::kChar;
      break;
    case onnx::TensorProto::UINT8:
      stored = at::kByte;
      break;
    case onnx::TensorProto::BOOL:
      stored = at::kBool;
      break;
    default:
      throw Error(ErrorCode::kModelInvalid,
                  what + " has ONNX element type " + std::to_string(proto.data_type()) +
                      ", which is not supported (float, double, float16, int64, int32, int8, "
                      "uint8 and bool are)");
  }

  at::Tensor tensor;
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    const size_t bytes = static_cast<size_t>(count) * c10::elementSize(stored);
    if (raw.size() != bytes) {
      throw Error(ErrorCode::kModelInvalid, what + " has " + std::to_string(raw.size()) +
                                                " bytes of data for shape " + shape_text(dims) +
                                                " (expected " + std::to_string(bytes) + ")");
    }
    tensor = at::empty(dims, at::TensorOptions().dtype(stored));
    if (bytes > 0) std::memcpy(tensor.data_ptr(), raw.data(), bytes);  // ONNX is little-endian
  } else {
    switch (stored) {
      case at::kFloat:
        tensor = from_field(proto.float_data(), at::kFloat, dims, count, what);
        break;
      case at::kDouble:
        tensor = from_field(proto.double_data(), at::kDouble, dims, count, what);
        break;
      case at::kLong:
        tensor = from_field(proto.int64_data(), at::kLong, dims, count, what);
        break;
      case at::kHalf:
        tensor = from_field(proto.int32_data(), at::kHalf, dims, count, what);
        break;
      case at::kBool:
        tensor = from_field(proto.int32_data(), at::kBool, dims, count, what);
        break;
      default:
        tensor = from_field(proto.int32_data(), at::kLong, dims, count, what);
        break;
    }
  }
  // One float type and one integer type inside the graph: float32 keeps the input's precision
  // (ATen would promote a float32 activation to float64 when added to a double constant).
  if (at::isFloatingType(tensor.scalar_type())) {
    if (tensor.scalar_type() != at::kFloat) tensor = tensor.to(at::kFloat);
    // Subnormal weights (some exports with folded batch norm have thousands) make every
    // multiply-add that touches them take the CPU's slow microcode path: a 1x1 convolution ran 50x
    // slower. Below 1.2e-38 they cannot matter to an embedding, so they become zero.
    tensor.masked_fill_(tensor.abs() < std::numeric_limits<float>::min(), 0.0f);
  } else if (at::isIntegralType(tensor.scalar_type(), /*includeBool=*/false) &&
             tensor.scalar_type() != at::kLong) {
    tensor = tensor.to(at::kLong);
  }
  return tensor;
}

const std::string& NodeContext::op_type() const { return node().op_type(); }

std::string NodeContext::describe() const {
  return op_type() + " node '" + node_label(node()) + "'";
}

bool NodeContext::has_attribute(const std::string& name) const {
  return find_attribute(node(), name) != nullptr;
}

int64_t NodeContext::attribute_int(const std::string& name, int64_t fallback) const {
  const auto* attribute = find_attribute(node(), name);
  return attribute ? attribute->i() : fallback;
}

float NodeContext::attribute_float(const std::string& name, float fallback) const {
  const auto* attribute = find_attribute(node(), name);
  return attribute ? attribute->f() : fallback;
}

std::string NodeContext::attribute_string(const std::string& name,
                                          const std::string& fallback) const {
  const auto* attribute = find_attribute(node(), name);
  return attribute ? attribute->s() : fallback;
}

std::vector<int64_t> NodeContext::attribute_ints(const std::string& name,
                                                 const std::vector<int64_t>& fallback) const {
  const auto* attribute = find_attribute(node(), name);
  if (!attribute) return fallback;
  return {attribute->ints().begin(), attribute->ints().end()};
}

std::optional<at::Tensor> NodeContext::attribute_tensor(const std::string& name) const {
  const auto* attribute = find_attribute(node(), name);
  if (!attribute) return std::nullopt;
  if (!attribute->has_t()) fail_invalid("attribute '" + name + "' is not a tensor");
  try {
    return tensor_from_proto(attribute->t(), describe() + " attribute '" + name + "'");
  } catch (const Error& error) {
    // tensor_from_proto() names the tensor; the message also names the file (found by fuzzing).
    throw Error(error.code(), model_path() + ": " + error.what());
  }
}

size_t NodeContext::input_count() const { return static_cast<size_t>(node().input_size()); }

bool NodeContext::has_input(size_t i) const {
  return i < input_count() && !node().input(static_cast<int>(i)).empty();
}

bool NodeContext::has_output(size_t i) const {
  return i < static_cast<size_t>(node().output_size()) &&
         !node().output(static_cast<int>(i)).empty();
}

at::Tensor NodeContext::capture_constant(size_t i, const std::string& role) {
  if (!has_input(i)) fail_invalid("its " + role + " (input " + std::to_string(i) + ") is missing");
  std::optional<at::Tensor> value = constant_input(i);
  if (!value) {
    fail_unsupported("its " + role + " ('" + node().input(static_cast<int>(i)) +
                     "') is computed at run time; only constant " + role + "s are supported");
  }
  if (captured_.size() < input_count()) captured_.resize(input_count(), false);
  captured_[i] = true;
  return *value;
}

void NodeContext::fail_unsupported(const std::string& why) const {
  throw Error(ErrorCode::kUnsupportedOperator,
              model_path() + ": unsupported ONNX operator " + describe() + ": " + why);
}

void NodeContext::fail_invalid(const std::string& why) const {
  throw Error(ErrorCode::kModelInvalid, model_path() + ": invalid " + describe() + ": " + why);
}

void move_floating(at::Tensor& tensor, const c10::Device& device, c10::ScalarType dtype) {
  if (tensor.defined() && at::isFloatingType(tensor.scalar_type())) tensor = tensor.to(device, dtype);
}

}  // namespace faceqan::onnx_import
