// Loading recognition models: descriptions, TorchScript and ONNX against PyTorch, bad files.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#include "faceqan/quality.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace faceqan::test {
namespace {

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "missing fixture " << path;
  std::vector<float> values;
  float v;
  while (file.read(reinterpret_cast<char*>(&v), sizeof v)) values.push_back(v);
  return values;
}

// Expects `call` to throw faceqan::Error with `code` and a message containing `needle`.
template <typename Call>
void expect_error(Call call, ErrorCode code, const std::string& needle) {
  try {
    call();
    ADD_FAILURE() << "no error; expected one mentioning " << needle;
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), code) << error.what();
    EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
  }
}

TEST(ModelDescription, ReadsTheShippedDescription) {
  const std::string model = model_file(kDefaultRecognitionModel);
  const std::string description = find_model_description(model);
  ASSERT_FALSE(description.empty());
  const ModelContract contract = read_model_description(description);
  EXPECT_EQ(contract.input_width, 112);
  EXPECT_EQ(contract.input_height, 112);
  EXPECT_EQ(contract.channel_order, ChannelOrder::kRGB);
  EXPECT_FLOAT_EQ(contract.mean[0], 127.0f);
  EXPECT_FLOAT_EQ(contract.std[2], 128.0f);
  EXPECT_EQ(contract.embedding_size, 512);
}

TEST(ModelDescription, RejectsBadFilesNamingTheProblem) {
  const std::string dir = scratch_dir("descriptions");
  expect_error([&] { read_model_description(write_file(dir, "a.json", "{not json")); },
               ErrorCode::kModelInvalid, "not valid JSON");
  expect_error([&] {
    read_model_description(write_file(dir, "b.json",
        R"({"input_size":[112,112],"channel_order":"YUV","mean":[0,0,0],"std":[1,1,1]})"));
  }, ErrorCode::kModelInvalid, "channel_order");
  expect_error([&] {
    read_model_description(write_file(dir, "c.json", R"({"input_size":[112,112],"channel_order":"RGB","std":[1,1,1]})"));
  }, ErrorCode::kModelInvalid, "mean");
  expect_error([&] {
    read_model_description(write_file(dir, "d.json",
        R"({"input_size":[112,112],"channel_order":"BGR","mean":[0,0,0],"std":[1,0,1]})"));
  }, ErrorCode::kModelInvalid, "std");
  expect_error([&] { read_model_description(dir + "/absent.json"); }, ErrorCode::kModelNotFound, "absent.json");
  // Found by fuzz/model_description_fuzzer: numbers outside int or float range were cast as they
  // were (undefined behaviour, or an infinite mean).
  expect_error([&] {
    read_model_description(write_file(dir, "e.json",
        R"({"input_size":[112,1.1e23],"channel_order":"RGB","mean":[0,0,0],"std":[1,1,1]})"));
  }, ErrorCode::kModelInvalid, "input_size");
  expect_error([&] {
    read_model_description(write_file(dir, "f.json",
        R"({"input_size":[112,112],"channel_order":"RGB","mean":[0,1e39,0],"std":[1,1,1]})"));
  }, ErrorCode::kModelInvalid, "mean");
  expect_error([&] {
    read_model_description(write_file(dir, "g.json",
        R"({"input_size":[112,112],"channel_order":"RGB","mean":[0,0,0],"std":[1,1,1],"embedding_size":5e9})"));
  }, ErrorCode::kModelInvalid, "embedding_size");
}

TEST(ModelDescription, FallsBackToModelJsonInTheSameFolder) {
  const std::string dir = scratch_dir("model-json");
  write_file(dir, "MODEL.json", "{}");
  EXPECT_EQ(find_model_description(dir + "/net.onnx"), dir + "/MODEL.json");
  write_file(dir, "net.json", "{}");
  EXPECT_EQ(find_model_description(dir + "/net.onnx"), dir + "/net.json");
}

// The tiny IResNet: both loaders give PyTorch's embeddings, on a batch of 2 from a batch-1 export.
class TinyIResNet : public ::testing::TestWithParam<const char*> {};

TEST_P(TinyIResNet, LoaderMatchesPyTorch) {
  const std::string dir = build_dir() + "/test-fixtures";
  const auto model = load_recognition_model(dir + "/iresnet_tiny" + GetParam(), "cpu");
  const std::vector<float> input = read_floats(dir + "/iresnet_tiny_input.bin");
  const std::vector<float> expected = read_floats(dir + "/iresnet_tiny_expected.bin");
  ASSERT_EQ(input.size(), 2u * 112 * 112 * 3);
  ASSERT_EQ(expected.size(), 2u * 64);
  const auto embeddings = model->embed({FaceImage{input.data(), 112, 112, 0},
                                        FaceImage{input.data() + 112 * 112 * 3, 112, 112, 1}});
  ASSERT_EQ(embeddings.size(), 2u);
  for (size_t face = 0; face < 2; ++face) {
    ASSERT_EQ(embeddings[face].size(), 64u);
    double error = 0, norm = 0;
    for (size_t j = 0; j < 64; ++j) {
      const double e = expected[face * 64 + j];
      error += (embeddings[face][j] - e) * (embeddings[face][j] - e);
      norm += e * e;
    }
    EXPECT_LT(std::sqrt(error / norm), 1e-4) << GetParam() << " face " << face;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, TinyIResNet, ::testing::Values(".pt", ".onnx"));

TEST(ModelLoading, MissingFileNamesThePath) {
  expect_error([] { load_recognition_model("/nonexistent/model.onnx", "cpu"); },
               ErrorCode::kModelNotFound, "/nonexistent/model.onnx");
  expect_error([] { load_torchscript_model("/nonexistent/model.pt", ModelContract{}, "cpu"); },
               ErrorCode::kModelNotFound, "/nonexistent/model.pt");
}

TEST(ModelLoading, TruncatedOnnxIsInvalid) {
  const std::string dir = scratch_dir("truncated-onnx");
  std::ifstream source(model_file(kDefaultRecognitionModel), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  const std::string path = write_file(dir, "truncated.onnx", bytes.substr(0, bytes.size() / 3));
  expect_error([&] { load_recognition_model(path, "cpu"); }, ErrorCode::kModelInvalid, "truncated.onnx");
}

TEST(ModelLoading, CorruptTorchScriptIsInvalid) {
  const std::string dir = scratch_dir("corrupt-pt");
  const std::string path = write_file(dir, "garbage.pt", std::string(4096, 'x'));
  expect_error([&] { load_recognition_model(path, "cpu"); }, ErrorCode::kModelInvalid, "garbage.pt");
}

TEST(ModelLoading, UnknownExtensionIsAClearError) {
  const std::string dir = scratch_dir("unknown-extension");
  const std::string path = write_file(dir, "model.tflite", "abc");
  expect_error([&] { load_recognition_model(path, "cpu"); }, ErrorCode::kModelInvalid, ".tflite");
}

TEST(ModelPaths, FindsTheDefaultModelsOnTheModelPath) {
  const std::string found = find_model(kDefaultRecognitionModel);
  EXPECT_TRUE(fs::exists(found)) << found;
  EXPECT_THROW(find_model("recognition/no-such-model.onnx"), ModelLookupError);
}

}  // namespace
}  // namespace faceqan::test
