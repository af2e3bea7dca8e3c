// Bad models, bad descriptions and bad images: each is a DetectorError naming the culprit, or an
// empty result where the input is valid but holds no room for a face. Never a crash.
#include "detector_test_support.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>

namespace faceqan {
namespace {

namespace fs = std::filesystem;

// Runs `construct` and expects a DetectorError whose message contains every one of `needles`.
template <typename Construct>
void expect_error_mentioning(Construct construct, std::initializer_list<std::string> needles) {
  try {
    construct();
    ADD_FAILURE() << "no DetectorError";
  } catch (const DetectorError& error) {
    for (const std::string& needle : needles) {
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos)
          << "'" << needle << "' not in: " << error.what();
    }
  }
}

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(BadModel, MissingFileIsNamed) {
  const std::string path = test::scratch_dir("missing_model") + "/absent.onnx";
  expect_error_mentioning([&] { RetinaFaceDetector detector(path); }, {path, "not found"});
}

TEST(BadModel, CorruptFilesAreNamed) {
  const std::string dir = test::scratch_dir("corrupt_model");
  const std::string truncated = dir + "/truncated.onnx";
  {
    std::ifstream source(test::detector_model_path(), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(source)), {});
    ASSERT_GT(bytes.size(), 1000u);
    std::ofstream(truncated, std::ios::binary).write(bytes.data(), bytes.size() / 2);
  }
  expect_error_mentioning([&] { RetinaFaceDetector detector(truncated); }, {truncated});
  const std::string text = write_text(dir + "/text.onnx", "not a network");
  expect_error_mentioning([&] { RetinaFaceDetector detector(text); }, {text});
  const std::string empty = write_text(dir + "/empty.onnx", "");
  expect_error_mentioning([&] { RetinaFaceDetector detector(empty); }, {empty});
  expect_error_mentioning([&] { RetinaFaceDetector detector(dir); }, {dir});  // a directory
}

// A copy of the real model with a sidecar description beside it.
std::string model_with_sidecar(const std::string& scratch, const std::string& json) {
  const std::string dir = test::scratch_dir(scratch);
  const std::string model = dir + "/retinaface.onnx";
  fs::copy_file(test::detector_model_path(), model);
  write_text(dir + "/retinaface.json", json);
  return model;
}

TEST(BadModel, TheSidecarDescriptionIsUsed) {
  const std::string good = model_with_sidecar("sidecar_good", R"({
  "input_size": [640, 640], "channel_order": "BGR", "mean": [104.0, 117.0, 123.0],
  "min_sizes": [[16, 32], [64, 128], [256, 512]], "steps": [8, 16, 32], "variances": [0.1, 0.2],
  "outputs": { "boxes": "output0", "scores": "output1", "landmarks": "output2" } })");
  RetinaFaceDetector detector(good);
  EXPECT_EQ(detector.detect(test::read_bgr(test::data_file("groups/bbt1.jpg"))).size(), 4u);

  const std::string wrong_output =
      model_with_sidecar("sidecar_output", R"({ "outputs": { "scores": "confidences" } })");
  expect_error_mentioning([&] { RetinaFaceDetector d(wrong_output); },
                          {wrong_output, "confidences", "retinaface.json"});

  // The file is fixed at 640x640: another size in its description fails at load, not later.
  const std::string wrong_size = model_with_sidecar("sidecar_size", R"({ "input_size": [320, 320] })");
  expect_error_mentioning([&] { RetinaFaceDetector d(wrong_size); }, {wrong_size, "320x320"});

  const std::string broken = model_with_sidecar("sidecar_broken", "{ \"steps\": [8, ");
  expect_error_mentioning([&] { RetinaFaceDetector d(broken); }, {"retinaface.json"});
}

TEST(BadImage, UndecodableFilesGiveAnEmptyMatWhichDetectRejects) {
  // cv::imread returns an empty Mat for these; detect() documents a DetectorError for it.
  const std::string dir = test::scratch_dir("bad_images");
  for (const std::string& path :
       {write_text(dir + "/empty.jpg", ""), write_text(dir + "/text.png", "hello, not an image")}) {
    const cv::Mat image = cv::imread(path);
    EXPECT_TRUE(image.empty()) << path;
    EXPECT_THROW(test::shared_detector().detect(image), DetectorError) << path;
  }
  EXPECT_THROW(test::shared_detector().detect(cv::Mat()), DetectorError);
}

TEST(BadImage, TinyAndThinImagesGiveNoFaces) {
  RetinaFaceDetector& detector = test::shared_detector();
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(7, 7), cv::Size(1, 3000), cv::Size(3000, 2),
                              cv::Size(8, 8), cv::Size(8, 5000), cv::Size(5000, 9)}) {
    const cv::Mat image(size, CV_8UC3, cv::Scalar(90, 120, 200));
    EXPECT_TRUE(detector.detect(image).empty()) << size;
  }
  EXPECT_TRUE(detector.detect(cv::Mat(1, 1, CV_8UC1, cv::Scalar(0)), PixelFormat::kGray).empty());
}

TEST(BadImage, WrongLayoutOrDepthIsAnError) {
  RetinaFaceDetector& detector = test::shared_detector();
  const cv::Mat bgr(64, 64, CV_8UC3, cv::Scalar::all(0));
  expect_error_mentioning([&] { detector.detect(bgr, PixelFormat::kGray); }, {"greyscale"});
  expect_error_mentioning([&] { detector.detect(bgr, PixelFormat::kRGBA); }, {"RGBA"});
  EXPECT_THROW(detector.detect(cv::Mat(64, 64, CV_8UC1), PixelFormat::kBGR), DetectorError);
  EXPECT_THROW(detector.detect(cv::Mat(64, 64, CV_32FC3)), DetectorError);
  EXPECT_THROW(detector.detect(cv::Mat(64, 64, CV_16UC3)), DetectorError);
}

}  // namespace
}  // namespace faceqan
