// Detection on real photographs: face counts, landmark plausibility, coordinates, input formats
// and settings.
#include "detector_test_support.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace faceqan {
namespace {

using test::data_file;
using test::read_bgr;
using test::shared_detector;

// Landmarks inside the box, eyes above the mouth corners, left/right ordered by image x.
void expect_plausible(const DetectedFace& face, const std::string& where) {
  for (const cv::Point2f& point : face.landmarks) {
    EXPECT_TRUE(face.box.contains(point)) << where << ": landmark " << point << " outside "
                                          << face.box;
  }
  const auto& p = face.landmarks;
  EXPECT_LT(std::max(p[kLeftEye].y, p[kRightEye].y), std::min(p[kLeftMouth].y, p[kRightMouth].y))
      << where << ": eyes not above the mouth in " << face.box;
  EXPECT_LT(p[kLeftEye].x, p[kRightEye].x) << where;
  EXPECT_LT(p[kLeftMouth].x, p[kRightMouth].x) << where;
  EXPECT_GE(face.confidence, DetectorSettings::kDefaultConfidenceThreshold) << where;
  EXPECT_LE(face.confidence, 1.0f) << where;
}

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float overlap = (a & b).area();
  return overlap / (a.area() + b.area() - overlap);
}

TEST(Detection, EveryIdentityCropHoldsOneFace) {
  for (const char* person :
       {"amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"}) {
    const std::vector<std::string> images =
        test::list_images(test::data_dir() + "/identities/" + person);
    EXPECT_EQ(images.size(), 5u) << person;
    for (const std::string& path : images) {
      const std::vector<DetectedFace> faces = shared_detector().detect(read_bgr(path));
      EXPECT_EQ(faces.size(), 1u) << test::short_name(path);
      for (const DetectedFace& face : faces) {
        expect_plausible(face, test::short_name(path));
      }
    }
  }
}

TEST(Detection, GroupPhotosHaveTheExpectedFaceCounts) {
  const std::pair<const char*, size_t> expected[] = {
      {"groups/bbt1.jpg", 4}, {"groups/bbt2.jpg", 3}, {"groups/bbt3.jpg", 5},
      {"groups/bbt4.jpg", 6}, {"groups/bbt5.jpg", 5}};
  for (const auto& [name, count] : expected) {
    const std::vector<DetectedFace> faces = shared_detector().detect(read_bgr(data_file(name)));
    EXPECT_EQ(faces.size(), count) << name;
    for (const DetectedFace& face : faces) {
      expect_plausible(face, name);
    }
  }
  const std::vector<DetectedFace> crowd =
      shared_detector().detect(read_bgr(data_file("groups/Pytorch_Retinaface_curve_test.jpg")));
  EXPECT_GE(crowd.size(), 20u);
  for (const DetectedFace& face : crowd) {
    expect_plausible(face, "groups/Pytorch_Retinaface_curve_test.jpg");
  }
}

TEST(Detection, FacesComeLargestFirst) {
  const std::vector<DetectedFace> faces =
      shared_detector().detect(read_bgr(data_file("groups/Pytorch_Retinaface_curve_test.jpg")));
  for (size_t i = 1; i < faces.size(); ++i) {
    EXPECT_GE(faces[i - 1].box.area(), faces[i].box.area());
  }
}

TEST(Detection, CoordinatesAreInTheOriginalImage) {
  const cv::Mat photo = read_bgr(data_file("groups/bbt1.jpg"));
  const std::vector<DetectedFace> reference = shared_detector().detect(photo);
  ASSERT_EQ(reference.size(), 4u);

  // The same photo on a larger black canvas, shifted: same faces, shifted by the offset.
  const cv::Point2f offset(300.0f, 150.0f);
  cv::Mat canvas(photo.rows + 400, photo.cols + 500, CV_8UC3, cv::Scalar::all(0));
  photo.copyTo(canvas(cv::Rect(cv::Point(offset), photo.size())));
  const std::vector<DetectedFace> shifted = shared_detector().detect(canvas);
  ASSERT_EQ(shifted.size(), reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    const cv::Rect2f moved(reference[i].box.tl() + offset, reference[i].box.size());
    EXPECT_GT(iou(shifted[i].box, moved), 0.8f) << shifted[i].box << " vs " << moved;
  }

  // Half size: boxes halve.
  cv::Mat half;
  cv::resize(photo, half, photo.size() / 2, 0, 0, cv::INTER_AREA);
  const std::vector<DetectedFace> smaller = shared_detector().detect(half);
  ASSERT_EQ(smaller.size(), reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    const cv::Rect2f& r = reference[i].box;
    const cv::Rect2f halved(r.x / 2, r.y / 2, r.width / 2, r.height / 2);
    EXPECT_GT(iou(smaller[i].box, halved), 0.8f) << smaller[i].box << " vs " << halved;
  }
}

void expect_same_faces(const std::vector<DetectedFace>& a, const std::vector<DetectedFace>& b,
                       float tolerance, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i].box.x, b[i].box.x, tolerance) << what;
    EXPECT_NEAR(a[i].box.y, b[i].box.y, tolerance) << what;
    EXPECT_NEAR(a[i].box.width, b[i].box.width, tolerance) << what;
    for (size_t p = 0; p < a[i].landmarks.size(); ++p) {
      EXPECT_NEAR(cv::norm(a[i].landmarks[p] - b[i].landmarks[p]), 0.0, tolerance) << what;
    }
  }
}

TEST(Detection, AcceptsEveryPixelFormat) {
  const cv::Mat bgr = read_bgr(data_file("groups/bbt1.jpg"));
  const std::vector<DetectedFace> reference = shared_detector().detect(bgr);
  ASSERT_EQ(reference.size(), 4u);

  // Colour layouts feed the network the very same values.
  const std::pair<PixelFormat, int> layouts[] = {{PixelFormat::kRGB, cv::COLOR_BGR2RGB},
                                                 {PixelFormat::kBGRA, cv::COLOR_BGR2BGRA},
                                                 {PixelFormat::kRGBA, cv::COLOR_BGR2RGBA}};
  for (const auto& [format, conversion] : layouts) {
    cv::Mat converted;
    cv::cvtColor(bgr, converted, conversion);
    expect_same_faces(shared_detector().detect(converted, format), reference, 1e-3f,
                      to_string(format));
  }

  // Greyscale loses colour but keeps the faces.
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  const std::vector<DetectedFace> from_grey = shared_detector().detect(grey, PixelFormat::kGray);
  ASSERT_EQ(from_grey.size(), reference.size());
  for (const DetectedFace& face : from_grey) {
    float best = 0.0f;  // sizes change a little, so the largest-first order may too
    for (const DetectedFace& colour : reference) {
      best = std::max(best, iou(face.box, colour.box));
    }
    EXPECT_GT(best, 0.8f) << face.box;
    expect_plausible(face, "grey bbt1");
  }

  // A region of a larger frame (not continuous in memory) works like a copy of it.
  const cv::Rect region(100, 50, bgr.cols - 200, bgr.rows - 100);
  expect_same_faces(shared_detector().detect(bgr(region)),
                    shared_detector().detect(bgr(region).clone()), 1e-3f, "region of interest");
}

TEST(Detection, SettingsFilterAndCap) {
  RetinaFaceDetector detector(test::detector_model_path());
  const cv::Mat crowd = read_bgr(data_file("groups/Pytorch_Retinaface_curve_test.jpg"));
  const std::vector<DetectedFace> all = detector.detect(crowd);
  ASSERT_GE(all.size(), 20u);

  DetectorSettings settings;
  settings.max_faces = 3;
  detector.set_settings(settings);
  std::vector<DetectedFace> capped = detector.detect(crowd);
  ASSERT_EQ(capped.size(), 3u);
  for (size_t i = 0; i < capped.size(); ++i) {
    EXPECT_EQ(capped[i].box, all[i].box);  // the three largest
  }

  settings = {};
  settings.min_face_size = std::min(all[4].box.width, all[4].box.height) + 0.01f;
  detector.set_settings(settings);
  for (const DetectedFace& face : detector.detect(crowd)) {
    EXPECT_GE(std::min(face.box.width, face.box.height), settings.min_face_size);
  }
  EXPECT_LT(detector.detect(crowd).size(), all.size());

  settings = {};
  settings.confidence_threshold = 0.99f;
  detector.set_settings(settings);
  const std::vector<DetectedFace> confident = detector.detect(crowd);
  EXPECT_LT(confident.size(), all.size());
  EXPECT_GT(confident.size(), 5u);
  for (const DetectedFace& face : confident) {
    EXPECT_GE(face.confidence, 0.99f);
  }

  for (const DetectorSettings& invalid :
       {DetectorSettings{1.5f}, DetectorSettings{0.6f, 0.0f}, DetectorSettings{0.6f, 0.4f, -1.0f},
        DetectorSettings{0.6f, 0.4f, 0.0f, -2}}) {
    EXPECT_THROW(detector.set_settings(invalid), DetectorError);
    EXPECT_THROW(RetinaFaceDetector(test::detector_model_path(), invalid), DetectorError);
  }
}

}  // namespace
}  // namespace faceqan
