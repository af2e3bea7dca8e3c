// Detector inputs shaped like the frame: which prepared variant a frame gets, and that the
// variants find the same confident faces on real photos as the full 640x640 model letterboxed.
#include "detector_test_support.h"
#include "test_support.h"

#include "faceqan/detector_input_size.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <filesystem>

namespace faceqan {
namespace {

namespace fs = std::filesystem;
using test::data_file;
using test::read_bgr;

// What models/prepare.sh derives (models/derived_checksums.sha256) plus the full model.
const std::vector<cv::Size> kPrepared = {
    {640, 640}, {640, 384}, {640, 480}, {384, 640}, {480, 640},
    {320, 192}, {320, 256}, {320, 320}, {192, 320}, {256, 320}};
const cv::Size kFull(640, 640);

TEST(InputSize, FramesGetTheSmallestInputOfTheirShapeAtTheFullModelsScale) {
  EXPECT_EQ(choose_input_size(kPrepared, {640, 360}, kFull, 0), cv::Size(640, 384));
  EXPECT_EQ(choose_input_size(kPrepared, {1920, 1080}, kFull, 0), cv::Size(640, 384));
  EXPECT_EQ(choose_input_size(kPrepared, {640, 480}, kFull, 0), cv::Size(640, 480));
  EXPECT_EQ(choose_input_size(kPrepared, {1280, 960}, kFull, 0), cv::Size(640, 480));
  EXPECT_EQ(choose_input_size(kPrepared, {1080, 1920}, kFull, 0), cv::Size(384, 640));
  EXPECT_EQ(choose_input_size(kPrepared, {500, 500}, kFull, 0), cv::Size(640, 640));
  // Small frames are scaled up to the full model's scale, as the letterbox did.
  EXPECT_EQ(choose_input_size(kPrepared, {320, 180}, kFull, 0), cv::Size(640, 384));
}

TEST(InputSize, ShapesWithoutAVariantFallBackToTheFullModel) {
  // 21:9 scaled to 640 wide is 274 high: 640x384 would pad 110 rows, more than a stride.
  EXPECT_EQ(choose_input_size(kPrepared, {2560, 1097}, kFull, 0), kFull);
  EXPECT_EQ(choose_input_size({}, {640, 360}, kFull, 0), kFull);
  EXPECT_EQ(choose_input_size({kFull}, {640, 360}, kFull, 0), kFull);
  EXPECT_EQ(choose_input_size(kPrepared, {0, 0}, kFull, 0), kFull);
}

TEST(InputSize, MinFaceSizeAllowsASmallerInput) {
  // 640x360 at 320x192 halves faces: a 32-pixel face is 16 pixels there, the smallest anchor.
  EXPECT_EQ(choose_input_size(kPrepared, {640, 360}, kFull, 32), cv::Size(320, 192));
  EXPECT_EQ(choose_input_size(kPrepared, {640, 360}, kFull, 31), cv::Size(640, 384));
  EXPECT_EQ(choose_input_size(kPrepared, {1920, 1080}, kFull, 96), cv::Size(320, 192));
  EXPECT_EQ(choose_input_size(kPrepared, {1920, 1080}, kFull, 90), cv::Size(640, 384));
  EXPECT_EQ(choose_input_size(kPrepared, {640, 480}, kFull, 40), cv::Size(320, 256));
}

std::string full_model() { return test::model_file("detection/retinaface_mnet025_640.onnx"); }

TEST(InputVariants, PreparedBesideTheFullModel) {
  const std::vector<DetectorInputVariant> variants = find_input_variants(full_model());
  std::vector<cv::Size> sizes{kFull};
  for (const DetectorInputVariant& variant : variants) sizes.push_back(variant.input_size);
  for (const cv::Size& size : kPrepared) {
    EXPECT_NE(std::find(sizes.begin(), sizes.end(), size), sizes.end())
        << "no " << size << " variant of " << full_model()
        << ": run models/prepare.sh (needs /usr/bin/python3 with python3-onnx)";
  }
  RetinaFaceDetector detector(full_model());
  EXPECT_EQ(detector.input_size_for({640, 360}), cv::Size(640, 384));
  EXPECT_EQ(detector.prepare({640, 360}), cv::Size(640, 384));
}

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float overlap = (a & b).area();
  return overlap / (a.area() + b.area() - overlap);
}

// Every face one detector finds with confidence >= kConfident, the other finds at IoU >= 0.7.
constexpr float kConfident = 0.9f;
void expect_covered(const std::vector<DetectedFace>& from, const std::vector<DetectedFace>& in,
                    const std::string& where) {
  for (const DetectedFace& face : from) {
    if (face.confidence < kConfident) continue;
    float best = 0;
    for (const DetectedFace& other : in) best = std::max(best, iou(face.box, other.box));
    EXPECT_GE(best, 0.7f) << where << ": face " << face.box << " (confidence "
                          << face.confidence << ")";
  }
}

TEST(InputVariants, FindTheSameConfidentFacesAsTheFullModel) {
  DetectorSettings letterboxed;
  letterboxed.fit_input_to_frame = false;
  RetinaFaceDetector full(full_model(), letterboxed);
  RetinaFaceDetector fitted(full_model());
  RetinaFaceDetector small(full_model(), [] {
    DetectorSettings s;
    s.min_face_size = 96;  // allows the 320-wide inputs for these photos
    return s;
  }());
  int compared = 0;
  for (const char* name : {"groups/bbt1.jpg", "groups/bbt2.jpg", "groups/bbt3.jpg",
                           "groups/bbt4.jpg", "groups/bbt5.jpg", "groups/two_people.jpg",
                           "groups/obama_and_biden.jpg", "groups/kit_with_rose.jpg"}) {
    const cv::Mat photo = read_bgr(data_file(name));
    if (photo.empty()) continue;
    const cv::Size input = fitted.input_size_for(photo.size());
    const std::string where = std::string(name) + " at " + std::to_string(input.width) + "x" +
                              std::to_string(input.height);
    const std::vector<DetectedFace> reference = full.detect(photo);
    const std::vector<DetectedFace> found = fitted.detect(photo);
    ASSERT_FALSE(reference.empty()) << name;
    expect_covered(reference, found, where);
    expect_covered(found, reference, where);
    compared += input != kFull;

    // The 320-wide inputs still find the large faces (at least min_face_size).
    std::vector<DetectedFace> large;
    for (const DetectedFace& face : reference) {
      if (std::min(face.box.width, face.box.height) >= 1.25f * 96) large.push_back(face);
    }
    expect_covered(large, small.detect(photo), std::string(name) + " with min_face_size 96");
  }
  // The photos must exercise the variants, not only the full model (the 3:2 and odd-shaped
  // ones fall back to 640x640).
  EXPECT_GE(compared, 4);
}

TEST(InputVariants, AVariantThatDoesNotMatchItsNameFailsNamingTheFile) {
  const std::string dir = test::scratch_dir("mislabelled-variant");
  fs::copy_file(full_model(), dir + "/retinaface_mnet025_640.onnx");
  // A 640x384 export under a 640x480 name: its outputs have the wrong number of rows.
  const std::string wrong = dir + "/retinaface_mnet025_640x480.onnx";
  fs::copy_file(test::model_file("detection/retinaface_mnet025_640x384.onnx"), wrong);
  RetinaFaceDetector detector(dir + "/retinaface_mnet025_640.onnx");
  const cv::Mat four_by_three(480, 640, CV_8UC3, cv::Scalar(90, 120, 150));
  try {
    detector.detect(four_by_three);
    FAIL() << "a mislabelled variant was used without an error";
  } catch (const DetectorError& error) {
    EXPECT_NE(std::string(error.what()).find(wrong), std::string::npos) << error.what();
  }
  // Frames of other shapes still work with the full model.
  EXPECT_NO_THROW(detector.detect(cv::Mat(500, 500, CV_8UC3, cv::Scalar(90, 120, 150))));
}

}  // namespace
}  // namespace faceqan
