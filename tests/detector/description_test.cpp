// The model description: defaults, JSON reading and writing, and its errors.
#include "faceqan/retinaface_description.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>

namespace faceqan {
namespace {

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

void expect_same(const RetinaFaceDescription& a, const RetinaFaceDescription& b) {
  EXPECT_EQ(a.input_size, b.input_size);
  EXPECT_EQ(a.input_is_rgb, b.input_is_rgb);
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.std, b.std);
  EXPECT_EQ(a.min_sizes, b.min_sizes);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.variances, b.variances);
  EXPECT_EQ(a.input_name, b.input_name);
  EXPECT_EQ(a.boxes_output, b.boxes_output);
  EXPECT_EQ(a.scores_output, b.scores_output);
  EXPECT_EQ(a.landmarks_output, b.landmarks_output);
}

TEST(RetinaFaceDescription, DefaultsMatchTheShippedModel) {
  const RetinaFaceDescription d = default_retinaface_description();
  EXPECT_EQ(d.input_size, cv::Size(640, 640));
  EXPECT_FALSE(d.input_is_rgb);
  EXPECT_EQ(d.mean, (std::array<float, 3>{104, 117, 123}));
  EXPECT_EQ(d.std, (std::array<float, 3>{1, 1, 1}));
  EXPECT_EQ(d.min_sizes, (std::vector<std::vector<float>>{{16, 32}, {64, 128}, {256, 512}}));
  EXPECT_EQ(d.steps, (std::vector<int>{8, 16, 32}));
  EXPECT_EQ(d.variances, (std::array<float, 2>{0.1f, 0.2f}));
  EXPECT_EQ(d.boxes_output, "output0");
  EXPECT_EQ(d.scores_output, "output1");
  EXPECT_EQ(d.landmarks_output, "output2");
  EXPECT_NO_THROW(d.validate());
}

TEST(RetinaFaceDescription, SidecarPathReplacesTheExtension) {
  EXPECT_EQ(description_path_for_model("/m/detection/retinaface_mnet025_640.onnx"),
            "/m/detection/retinaface_mnet025_640.json");
}

TEST(RetinaFaceDescription, WrittenJsonReadsBackTheSame) {
  const std::string dir = test::scratch_dir("description_round_trip");
  const RetinaFaceDescription defaults = default_retinaface_description();
  write_retinaface_description(defaults, dir + "/default.json");
  expect_same(read_retinaface_description(dir + "/default.json"), defaults);

  RetinaFaceDescription custom;
  custom.input_size = {480, 320};
  custom.input_is_rgb = true;
  custom.mean = {0.5f, 0.25f, 0.125f};
  custom.std = {2, 3, 4};
  custom.min_sizes = {{10, 20, 30}, {50}};
  custom.steps = {4, 8};
  custom.variances = {0.125f, 0.25f};
  custom.input_name = "pixels";
  custom.boxes_output = "loc";
  custom.scores_output = "conf";
  custom.landmarks_output = "landms";
  write_retinaface_description(custom, dir + "/custom.json");
  expect_same(read_retinaface_description(dir + "/custom.json"), custom);
}

TEST(RetinaFaceDescription, ReadsTheProjectsJsonStyle) {
  // The layout of models/descriptions/detection/*.json (floats, inline object, no "std").
  const std::string path = write_text(test::scratch_dir("description_style") + "/model.json", R"({
  "input_size": [640, 640],
  "channel_order": "BGR",
  "mean": [104.0, 117.0, 123.0],
  "min_sizes": [[16, 32], [64, 128], [256, 512]],
  "steps": [8, 16, 32],
  "variances": [0.1, 0.2],
  "outputs": { "boxes": "output0", "scores": "output1", "landmarks": "output2" }
}
)");
  expect_same(read_retinaface_description(path), default_retinaface_description());
}

TEST(RetinaFaceDescription, AbsentKeysKeepTheirDefaults) {
  const std::string path = write_text(test::scratch_dir("description_partial") + "/model.json",
                                      R"({ "input_size": [320, 240] })");
  RetinaFaceDescription expected;
  expected.input_size = {320, 240};
  expect_same(read_retinaface_description(path), expected);
}

TEST(RetinaFaceDescription, ProblemsNameTheFile) {
  const std::string dir = test::scratch_dir("description_errors");
  const std::pair<const char*, const char*> cases[] = {
      {"not_json.json", "this is not JSON"},
      {"empty.json", ""},
      {"order.json", R"({ "channel_order": "GBR" })"},
      {"mean.json", R"({ "mean": [1, 2] })"},
      {"levels.json", R"({ "steps": [8, 16] })"},
      {"size.json", R"({ "input_size": [0, 640] })"},
      {"outputs.json", R"({ "outputs": { "boxes": 3 } })"},
      {"variances.json", R"({ "variances": [0.1, -0.2] })"},
  };
  for (const auto& [name, text] : cases) {
    const std::string path = write_text(dir + "/" + name, text);
    try {
      read_retinaface_description(path);
      ADD_FAILURE() << name << " was accepted";
    } catch (const DetectorError& error) {
      EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    }
  }
  EXPECT_THROW(read_retinaface_description(dir + "/absent.json"), DetectorError);
}

TEST(RetinaFaceDescription, WithoutSidecarTheDefaultsApply) {
  const std::string dir = test::scratch_dir("description_sidecar");
  expect_same(retinaface_description_for_model(dir + "/model.onnx"),
              default_retinaface_description());
  write_text(dir + "/model.json", R"({ "input_size": [320, 320] })");
  EXPECT_EQ(retinaface_description_for_model(dir + "/model.onnx").input_size, cv::Size(320, 320));
}

}  // namespace
}  // namespace faceqan
