// The ONNX importer: the shipped recognition models against OpenCV's dnn on real faces, batches,
// input gradients, bad files, and a hand-built graph of the other operators against ATen.
#include "faceqan/onnx_importer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.h"

namespace faceqan {
namespace {

// ---------------------------------------------------------------- helpers

std::string recognition_model(const std::string& file) {
  // The raw shipped models for now; the lead switches this to the prepared model folder.
  return test::model_file("recognition/" + file);
}

// The error a call throws: its code and whether its message contains `fragment`.
void expect_error(const std::function<void()>& call, ErrorCode code, const std::string& fragment) {
  try {
    call();
    ADD_FAILURE() << "no faceqan::Error thrown (expected one mentioning '" << fragment << "')";
  } catch (const Error& error) {
    EXPECT_EQ(static_cast<int>(error.code()), static_cast<int>(code)) << error.what();
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
        << "message '" << error.what() << "' does not mention '" << fragment << "'";
  }
}

double relative_error(const at::Tensor& actual, const at::Tensor& expected) {
  return (actual - expected).norm().item<double>() / expected.norm().item<double>();
}

at::Tensor to_tensor(const cv::Mat& blob) {
  std::vector<int64_t> sizes(blob.size.p, blob.size.p + blob.dims);
  return at::from_blob(const_cast<float*>(blob.ptr<float>()), sizes, at::kFloat).clone();
}

struct ShippedModel {
  const char* file;
  float mean;   // on the 0..255 scale, RGB
  float scale;  // 1 / std
};

std::ostream& operator<<(std::ostream& out, const ShippedModel& model) { return out << model.file; }

// Real aligned faces, RGB, normalised as the model expects, as one NCHW blob.
cv::Mat face_blob(const ShippedModel& model, size_t count) {
  const std::vector<std::string> paths = test::list_images(test::data_dir() + "/lfw-aligned-112");
  std::vector<cv::Mat> faces;
  for (size_t i = 0; i < count && i < paths.size(); ++i) {
    cv::Mat bgr = cv::imread(paths[i], cv::IMREAD_COLOR);
    EXPECT_FALSE(bgr.empty()) << "cannot read " << paths[i];
    faces.push_back(bgr);
  }
  EXPECT_EQ(faces.size(), count) << "not enough faces in lfw-aligned-112";
  // (x - mean) * scale, with the blue and red planes swapped to RGB.
  return cv::dnn::blobFromImages(faces, model.scale, cv::Size(112, 112),
                                 cv::Scalar(model.mean, model.mean, model.mean), /*swapRB=*/true,
                                 /*crop=*/false, CV_32F);
}

class ShippedModels : public ::testing::TestWithParam<ShippedModel> {
 protected:
  static void SetUpTestSuite() { at::set_num_threads(2); }
  std::string path() const { return recognition_model(GetParam().file); }
};

// ---------------------------------------------------------------- shipped models

TEST_P(ShippedModels, EmbeddingsEqualOpenCvDnn) {
  const auto network = import_onnx(path());
  cv::dnn::Net reference = cv::dnn::readNetFromONNX(path());
  const cv::Mat blob = face_blob(GetParam(), 4);
  const at::Tensor batch = to_tensor(blob);
  at::NoGradGuard no_grad;
  for (int64_t i = 0; i < batch.size(0); ++i) {
    const at::Tensor face = batch.slice(0, i, i + 1).contiguous();
    cv::Mat input(std::vector<int>{1, 3, 112, 112}, CV_32F, face.data_ptr<float>());
    reference.setInput(input);
    const at::Tensor expected = to_tensor(reference.forward().clone()).reshape({1, -1});
    const at::Tensor actual = network->forward(face);
    ASSERT_EQ(actual.sizes(), expected.sizes());
    EXPECT_LT(relative_error(actual, expected), 1e-4) << "face " << i;
  }
}

TEST_P(ShippedModels, BatchOfEightEqualsSingleImages) {
  const auto network = import_onnx(path());
  const at::Tensor batch = to_tensor(face_blob(GetParam(), 8));
  at::NoGradGuard no_grad;
  const at::Tensor together = network->forward(batch);
  ASSERT_EQ(together.dim(), 2);
  ASSERT_EQ(together.size(0), 8);
  for (int64_t i = 0; i < 8; ++i) {
    const at::Tensor alone = network->forward(batch.slice(0, i, i + 1));
    EXPECT_LT(relative_error(together.slice(0, i, i + 1), alone), 1e-5) << "row " << i;
  }
}

TEST_P(ShippedModels, InputGradientIsFiniteAndNonZero) {
  const auto network = import_onnx(path());
  const at::Tensor input = to_tensor(face_blob(GetParam(), 2)).requires_grad_(true);
  network->forward(input).sum().backward();
  const at::Tensor gradient = input.grad();
  ASSERT_TRUE(gradient.defined());
  EXPECT_TRUE(at::isfinite(gradient).all().item<bool>());
  EXPECT_GT(gradient.abs().sum().item<double>(), 0.0);
  // Each face's gradient is its own: no face's pixels are left out.
  EXPECT_GT(gradient[0].abs().sum().item<double>(), 0.0);
  EXPECT_GT(gradient[1].abs().sum().item<double>(), 0.0);
}

INSTANTIATE_TEST_SUITE_P(
    Recognition, ShippedModels,
    ::testing::Values(ShippedModel{"mobilefacenet512_faceplugin.onnx", 127.0f, 1.0f / 128.0f},
                      ShippedModel{"mobilefacenet128_foamliu.onnx", 127.5f, 1.0f / 128.0f}));

// ---------------------------------------------------------------- bad files

TEST(OnnxImporterErrors, MissingFileIsNotFound) {
  expect_error([] { import_onnx("/nonexistent/dir/model.onnx"); }, ErrorCode::kModelNotFound,
               "/nonexistent/dir/model.onnx");
}

TEST(OnnxImporterErrors, TruncatedFileIsInvalid) {
  std::ifstream in(recognition_model("mobilefacenet128_foamliu.onnx"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  const std::string path = test::scratch_dir("onnx-importer-truncated") + "/truncated.onnx";
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  expect_error([&] { import_onnx(path); }, ErrorCode::kModelInvalid, "truncated.onnx");
}

// ---------------------------------------------------------------- hand-built graphs

// Builds a small ONNX model in memory and writes it to the scratch folder.
class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset) {
    model_.set_ir_version(7);
    model_.add_opset_import()->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  void input(const std::string& name, const std::vector<int64_t>& shape) {
    describe(model_.mutable_graph()->add_input(), name, shape);
  }
  void output(const std::string& name) {
    auto* output = model_.mutable_graph()->add_output();
    output->set_name(name);
    output->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }

  // An initializer holding `value` (float32 or int64), float values written as float_data to
  // exercise that path when `typed_fields`, else as raw_data.
  void initializer(const std::string& name, const at::Tensor& value, bool typed_fields = false) {
    fill(model_.mutable_graph()->add_initializer(), name, value, typed_fields);
  }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::string& output) {
    onnx::NodeProto* node = model_.mutable_graph()->add_node();
    node->set_op_type(op);
    node->set_name(op + "_" + std::to_string(model_.graph().node_size()));
    for (const auto& name : inputs) node->add_input(name);
    node->add_output(output);
    return *node;
  }

  static void attribute(onnx::NodeProto& node, const std::string& name, int64_t value) {
    auto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void attribute(onnx::NodeProto& node, const std::string& name, float value) {
    auto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
  }
  static void attribute(onnx::NodeProto& node, const std::string& name,
                        const std::vector<int64_t>& values) {
    auto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void attribute(onnx::NodeProto& node, const std::string& name, const std::string& value) {
    auto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(value);
  }
  static void attribute(onnx::NodeProto& node, const std::string& name, const at::Tensor& value) {
    auto* a = node.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::TENSOR);
    fill(a->mutable_t(), "", value, false);
  }

  std::string write(const std::string& name) const {
    const std::string path = test::scratch_dir("onnx-importer-" + name) + "/" + name + ".onnx";
    std::ofstream out(path, std::ios::binary);
    EXPECT_TRUE(model_.SerializeToOstream(&out));
    return path;
  }

 private:
  static void describe(onnx::ValueInfoProto* info, const std::string& name,
                       const std::vector<int64_t>& shape) {
    info->set_name(name);
    auto* type = info->mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) type->mutable_shape()->add_dim()->set_dim_value(d);
  }

  static void fill(onnx::TensorProto* tensor, const std::string& name, const at::Tensor& value,
                   bool typed_fields) {
    tensor->set_name(name);
    for (int64_t d : value.sizes()) tensor->add_dims(d);
    const at::Tensor data = value.contiguous();
    if (data.scalar_type() == at::kLong) {
      tensor->set_data_type(onnx::TensorProto::INT64);
      tensor->set_raw_data(data.data_ptr(), data.numel() * sizeof(int64_t));
    } else {
      tensor->set_data_type(onnx::TensorProto::FLOAT);
      if (typed_fields) {
        for (int64_t i = 0; i < data.numel(); ++i)
          tensor->add_float_data(data.data_ptr<float>()[i]);
      } else {
        tensor->set_raw_data(data.data_ptr(), data.numel() * sizeof(float));
      }
    }
  }

  onnx::ModelProto model_;
};

TEST(OnnxImporterErrors, UnsupportedOperatorIsNamedAtImport) {
  GraphBuilder graph(13);
  graph.input("x", {1, 3, 4, 4});
  graph.node("Relu", {"x"}, "r");
  onnx::NodeProto& lstm = graph.node("LSTM", {"r"}, "y");
  lstm.set_name("my_lstm");
  graph.output("y");
  const std::string path = graph.write("unsupported");
  expect_error([&] { import_onnx(path); }, ErrorCode::kUnsupportedOperator, "LSTM");
  expect_error([&] { import_onnx(path); }, ErrorCode::kUnsupportedOperator, "my_lstm");
}

TEST(OnnxImporterErrors, UnknownValueIsInvalid) {
  GraphBuilder graph(13);
  graph.input("x", {1, 3, 4, 4});
  graph.node("Add", {"x", "no_such_weight"}, "y");
  graph.output("y");
  const std::string path = graph.write("unknown-value");
  expect_error([&] { import_onnx(path); }, ErrorCode::kModelInvalid, "no_such_weight");
}

TEST(OnnxImporterErrors, MissingOutputIsInvalid) {
  GraphBuilder graph(13);
  graph.input("x", {1, 3, 4, 4});
  graph.node("Relu", {"x"}, "r");
  graph.output("not_produced");
  const std::string path = graph.write("missing-output");
  expect_error([&] { import_onnx(path); }, ErrorCode::kModelInvalid, "not_produced");
}

// Every other operator the issue lists, on a batch of 3 although exported with a batch of 1,
// compared with the same computation written directly in ATen.
TEST(OnnxImporterOperators, HandBuiltGraphEqualsAten) {
  at::set_num_threads(2);
  at::manual_seed(7);
  const auto uniform = [](std::vector<int64_t> shape, double low, double high) {
    return at::rand(shape) * (high - low) + low;
  };
  // Convolution branch: grouped, strided, asymmetric pads, BN folded into it, PReLU [C,1,1].
  const at::Tensor conv_w = uniform({4, 2, 3, 3}, -0.5, 0.5), conv_b = uniform({4}, -0.1, 0.1);
  const at::Tensor bn1_g = uniform({4}, 0.5, 1.5), bn1_b = uniform({4}, -0.2, 0.2),
                   bn1_m = uniform({4}, -0.2, 0.2), bn1_v = uniform({4}, 0.5, 1.5);
  const at::Tensor slope = uniform({4, 1, 1}, 0.05, 0.3);
  // Element-wise branch on the input: BN, Sigmoid, Sub, Mul, Div, Clip, Identity, Dropout, GAP.
  const at::Tensor bn2_g = uniform({4}, 0.5, 1.5), bn2_b = uniform({4}, -0.2, 0.2),
                   bn2_m = uniform({4}, -0.2, 0.2), bn2_v = uniform({4}, 0.5, 1.5);
  const at::Tensor sub_c = uniform({4, 1, 1}, 0.2, 0.6), mul_c = at::full({}, 3.0),
                   div_c = at::full({1}, 1.5);
  // Head: Gemm (alpha, beta, transB), MatMul, Concat, 2-D BN, Transpose, Gemm (transA).
  const at::Tensor gemm_w = uniform({6, 4}, -1, 1), gemm_c = uniform({6}, -1, 1);
  const at::Tensor matmul_w = uniform({4, 3}, -1, 1);
  const at::Tensor bn3_g = uniform({13}, 0.5, 1.5), bn3_b = uniform({13}, -0.2, 0.2),
                   bn3_m = uniform({13}, -0.2, 0.2), bn3_v = uniform({13}, 0.5, 1.5);
  const at::Tensor head_w = uniform({13, 5}, -1, 1);

  GraphBuilder graph(13);
  graph.input("x", {1, 4, 7, 7});
  graph.initializer("conv_w", conv_w, /*typed_fields=*/true);
  graph.initializer("conv_b", conv_b);
  for (auto [name, value] :
       std::vector<std::pair<std::string, at::Tensor>>{{"bn1_g", bn1_g},
                                                       {"bn1_b", bn1_b},
                                                       {"bn1_m", bn1_m},
                                                       {"bn1_v", bn1_v},
                                                       {"slope", slope},
                                                       {"bn2_g", bn2_g},
                                                       {"bn2_b", bn2_b},
                                                       {"bn2_m", bn2_m},
                                                       {"bn2_v", bn2_v},
                                                       {"sub_c", sub_c},
                                                       {"mul_c", mul_c},
                                                       {"div_c", div_c},
                                                       {"clip_lo", at::full({}, 0.1)},
                                                       {"clip_hi", at::full({}, 0.9)},
                                                       {"gemm_w", gemm_w},
                                                       {"gemm_c", gemm_c},
                                                       {"matmul_w", matmul_w},
                                                       {"bn3_g", bn3_g},
                                                       {"bn3_b", bn3_b},
                                                       {"bn3_m", bn3_m},
                                                       {"bn3_v", bn3_v},
                                                       {"head_w", head_w}}) {
    graph.initializer(name, value);
  }
  auto& conv = graph.node("Conv", {"x", "conv_w", "conv_b"}, "conv");
  GraphBuilder::attribute(conv, "group", int64_t{2});
  GraphBuilder::attribute(conv, "pads", std::vector<int64_t>{0, 1, 1, 2});
  GraphBuilder::attribute(conv, "strides", std::vector<int64_t>{2, 1});
  auto& bn1 = graph.node("BatchNormalization", {"conv", "bn1_g", "bn1_b", "bn1_m", "bn1_v"}, "bn1");
  GraphBuilder::attribute(bn1, "epsilon", 1e-3f);
  graph.node("PRelu", {"bn1", "slope"}, "prelu");
  graph.node("GlobalAveragePool", {"prelu"}, "conv_pool");
  auto& flat1 = graph.node("Flatten", {"conv_pool"}, "conv_feat");
  GraphBuilder::attribute(flat1, "axis", int64_t{1});

  graph.node("BatchNormalization", {"x", "bn2_g", "bn2_b", "bn2_m", "bn2_v"}, "bn2");
  graph.node("Sigmoid", {"bn2"}, "sig");
  graph.node("Sub", {"sig", "sub_c"}, "sub");
  graph.node("Mul", {"sub", "mul_c"}, "mul");
  graph.node("Div", {"mul", "div_c"}, "div");
  graph.node("Clip", {"div", "clip_lo", "clip_hi"}, "clip");
  graph.node("Identity", {"clip"}, "ident");
  graph.node("Dropout", {"ident"}, "drop");
  graph.node("GlobalAveragePool", {"drop"}, "pool");
  graph.node("Flatten", {"pool"}, "feat");  // axis defaults to 1

  auto& gemm = graph.node("Gemm", {"feat", "gemm_w", "gemm_c"}, "gemm");
  GraphBuilder::attribute(gemm, "alpha", 0.5f);
  GraphBuilder::attribute(gemm, "beta", 2.0f);
  GraphBuilder::attribute(gemm, "transB", int64_t{1});
  graph.node("MatMul", {"feat", "matmul_w"}, "matmul");
  auto& concat = graph.node("Concat", {"gemm", "matmul", "conv_feat"}, "concat");
  GraphBuilder::attribute(concat, "axis", int64_t{1});
  graph.node("BatchNormalization", {"concat", "bn3_g", "bn3_b", "bn3_m", "bn3_v"}, "bn3");
  auto& transpose = graph.node("Transpose", {"bn3"}, "transposed");
  GraphBuilder::attribute(transpose, "perm", std::vector<int64_t>{1, 0});
  auto& head = graph.node("Gemm", {"transposed", "head_w"}, "embedding");
  GraphBuilder::attribute(head, "transA", int64_t{1});
  graph.output("embedding");

  const auto network = import_onnx(graph.write("operators"));
  const at::Tensor input = uniform({3, 4, 7, 7}, -2, 2);
  const at::Tensor ours_input = input.clone().requires_grad_(true);
  const at::Tensor actual = network->forward(ours_input);
  actual.pow(2).sum().backward();

  // The same in ATen (eps 1e-5 is the ONNX default).
  const at::Tensor x = input.clone().requires_grad_(true);
  const auto bn = [](const at::Tensor& v, const at::Tensor& g, const at::Tensor& b,
                     const at::Tensor& m, const at::Tensor& var, double eps) {
    std::vector<int64_t> shape(static_cast<size_t>(v.dim()), 1);
    shape[1] = -1;
    return (v - m.view(shape)) / at::sqrt(var.view(shape) + eps) * g.view(shape) + b.view(shape);
  };
  // pads [top 0, left 1, bottom 1, right 2]: constant_pad_nd takes (left, right, top, bottom).
  at::Tensor c = at::conv2d(at::constant_pad_nd(x, {1, 2, 0, 1}), conv_w, conv_b,
                            at::IntArrayRef{2, 1}, at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, 2);
  c = bn(c, bn1_g, bn1_b, bn1_m, bn1_v, 1e-3);
  c = at::where(c >= 0, c, c * slope);
  const at::Tensor conv_feat = c.mean({2, 3});
  at::Tensor e = at::sigmoid(bn(x, bn2_g, bn2_b, bn2_m, bn2_v, 1e-5));
  e = at::clamp((e - sub_c) * 3.0 / 1.5, 0.1, 0.9);
  const at::Tensor feat = e.mean({2, 3});
  const at::Tensor gemm_out = 0.5 * feat.matmul(gemm_w.t()) + 2.0 * gemm_c;
  const at::Tensor cat = at::cat({gemm_out, feat.matmul(matmul_w), conv_feat}, 1);
  const at::Tensor expected = bn(cat, bn3_g, bn3_b, bn3_m, bn3_v, 1e-5).matmul(head_w);

  expected.pow(2).sum().backward();

  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_LT(relative_error(actual.detach(), expected.detach()), 1e-5);
  EXPECT_LT(relative_error(ours_input.grad(), x.grad()), 1e-5);
}

// Stride-1 convolutions get their input gradient from a convolution of their own (see
// onnx_convolution.cpp): check it, with groups, dilation, asymmetric and SAME padding, against
// ATen's autograd; a 1x1 convolution and a strided SAME_LOWER one follow.
TEST(OnnxImporterOperators, ConvolutionValuesAndInputGradientsEqualAten) {
  at::manual_seed(11);
  const at::Tensor w1 = at::randn({6, 2, 3, 3}) * 0.3, b1 = at::randn({6}) * 0.1;
  const at::Tensor w2 = at::randn({5, 6, 1, 1}) * 0.3;
  const at::Tensor w3 = at::randn({4, 5, 2, 3}) * 0.3, b3 = at::randn({4}) * 0.1;
  const at::Tensor w4 = at::randn({4, 4, 3, 3}) * 0.3;

  GraphBuilder graph(13);
  graph.input("x", {1, 4, 9, 8});
  for (auto [name, value] : std::vector<std::pair<std::string, at::Tensor>>{
           {"w1", w1}, {"b1", b1}, {"w2", w2}, {"w3", w3}, {"b3", b3}, {"w4", w4}}) {
    graph.initializer(name, value);
  }
  auto& c1 = graph.node("Conv", {"x", "w1", "b1"}, "c1");
  GraphBuilder::attribute(c1, "group", int64_t{2});
  GraphBuilder::attribute(c1, "dilations", std::vector<int64_t>{2, 1});
  GraphBuilder::attribute(c1, "pads", std::vector<int64_t>{2, 0, 1, 1});
  graph.node("Conv", {"c1", "w2"}, "c2");
  auto& c3 = graph.node("Conv", {"c2", "w3", "b3"}, "c3");
  GraphBuilder::attribute(c3, "auto_pad", std::string("SAME_UPPER"));
  auto& c4 = graph.node("Conv", {"c3", "w4"}, "c4");
  GraphBuilder::attribute(c4, "auto_pad", std::string("SAME_LOWER"));
  GraphBuilder::attribute(c4, "strides", std::vector<int64_t>{2, 2});
  graph.node("Tanh", {"c4"}, "y");
  graph.output("y");
  const auto network = import_onnx(graph.write("convolutions"));

  const at::Tensor x = at::randn({2, 4, 9, 8});
  const at::Tensor ours_input = x.clone().requires_grad_(true);
  const at::Tensor ours = network->forward(ours_input);
  ours.pow(2).sum().backward();

  const at::Tensor reference_input = x.clone().requires_grad_(true);
  using at::IntArrayRef;
  // pads [top 2, left 0, bottom 1, right 1] -> (left 0, right 1, top 2, bottom 1).
  at::Tensor r = at::conv2d(at::constant_pad_nd(reference_input, {0, 1, 2, 1}), w1, b1,
                            IntArrayRef{1, 1}, IntArrayRef{0, 0}, IntArrayRef{2, 1}, 2);
  r = at::conv2d(r, w2);
  // SAME_UPPER, kernel 2x3 at stride 1: 1 extra row at the bottom, 1 column on each side.
  r = at::conv2d(at::constant_pad_nd(r, {1, 1, 0, 1}), w3, b3);
  // SAME_LOWER, kernel 3x3 at stride 2 on 8x7: rows need 1 (at the start), columns 2 (1 + 1).
  r = at::tanh(at::conv2d(at::constant_pad_nd(r, {1, 1, 1, 0}), w4, {}, IntArrayRef{2, 2}));
  r.pow(2).sum().backward();

  // The network's output is [N, D] whatever the last operator's rank.
  ASSERT_EQ(ours.sizes(), (std::vector<int64_t>{2, r[0].numel()}));
  EXPECT_LT(relative_error(ours.detach(), r.detach().reshape({2, -1})), 1e-5);
  EXPECT_LT(relative_error(ours_input.grad(), reference_input.grad()), 1e-5);
}

// Opset 9 style: Clip bounds as attributes, a Constant shape and Reshape to the exported batch.
TEST(OnnxImporterOperators, Opset9ClipAndReshapeFollowTheBatch) {
  GraphBuilder graph(9);
  graph.input("x", {1, 2, 3, 3});
  auto& clip = graph.node("Clip", {"x"}, "clip");
  GraphBuilder::attribute(clip, "min", -0.25f);
  GraphBuilder::attribute(clip, "max", 0.5f);
  auto& shape = graph.node("Constant", {}, "shape");
  GraphBuilder::attribute(shape, "value", at::tensor(std::vector<int64_t>{1, -1}, at::kLong));
  graph.node("Reshape", {"clip", "shape"}, "y");
  graph.output("y");

  const auto network = import_onnx(graph.write("opset9"));
  const at::Tensor x = at::randn({5, 2, 3, 3});
  const at::Tensor y = network->forward(x);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{5, 18}));
  EXPECT_TRUE(at::equal(y, at::clamp(x, -0.25, 0.5).reshape({5, 18})));
}

}  // namespace
}  // namespace faceqan
