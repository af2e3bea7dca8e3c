// Mirror consistency: a confident face in a photo is found again in the mirrored photo with a
// mirrored box and mirrored landmarks (image-left and image-right swap).
#include "detector_test_support.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

namespace faceqan {
namespace {

constexpr float kConfident = 0.9f;
constexpr float kMinimumIou = 0.75f;
constexpr float kLandmarkTolerance = 0.25f;  // times the inter-ocular distance

// Where each landmark goes in the mirrored image: left and right swap, the nose stays.
constexpr int kMirroredIndex[5] = {kRightEye, kLeftEye, kNose, kRightMouth, kLeftMouth};

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float overlap = (a & b).area();
  return overlap / (a.area() + b.area() - overlap);
}

DetectedFace mirrored(const DetectedFace& face, int image_width) {
  const auto mirror = [&](cv::Point2f p) { return cv::Point2f(image_width - p.x, p.y); };
  DetectedFace out = face;
  out.box.x = image_width - (face.box.x + face.box.width);
  for (int i = 0; i < 5; ++i) {
    out.landmarks[kMirroredIndex[i]] = mirror(face.landmarks[i]);
  }
  return out;
}

TEST(MirrorConsistency, ConfidentFacesHaveAMirroredMatch) {
  const char* photos[] = {"groups/bbt1.jpg",       "groups/bbt2.jpg",
                          "groups/bbt3.jpg",       "groups/bbt4.jpg",
                          "groups/bbt5.jpg",       "groups/two_people.jpg",
                          "groups/kit_with_rose.jpg", "groups/obama_and_biden.jpg"};
  int checked = 0;
  float lowest_iou = 1.0f;
  double worst_landmark = 0.0;  // in inter-ocular distances
  for (const char* name : photos) {
    const cv::Mat photo = test::read_bgr(test::data_file(name));
    cv::Mat flipped;
    cv::flip(photo, flipped, 1);
    const std::vector<DetectedFace> faces = test::shared_detector().detect(photo);
    const std::vector<DetectedFace> flipped_faces = test::shared_detector().detect(flipped);
    for (const DetectedFace& face : faces) {
      if (face.confidence < kConfident) {
        continue;
      }
      ++checked;
      const DetectedFace expected = mirrored(face, photo.cols);
      const DetectedFace* match = nullptr;
      for (const DetectedFace& candidate : flipped_faces) {
        if (match == nullptr || iou(candidate.box, expected.box) > iou(match->box, expected.box)) {
          match = &candidate;
        }
      }
      ASSERT_NE(match, nullptr) << name << ": nothing found in the mirrored photo";
      lowest_iou = std::min(lowest_iou, iou(match->box, expected.box));
      EXPECT_GE(iou(match->box, expected.box), kMinimumIou)
          << name << ": " << face.box << " mirrored " << expected.box << " found " << match->box;
      const float eye_distance =
          static_cast<float>(cv::norm(face.landmarks[kLeftEye] - face.landmarks[kRightEye]));
      for (int i = 0; i < 5; ++i) {
        worst_landmark = std::max(
            worst_landmark, cv::norm(match->landmarks[i] - expected.landmarks[i]) / eye_distance);
        EXPECT_LE(cv::norm(match->landmarks[i] - expected.landmarks[i]),
                  kLandmarkTolerance * eye_distance)
            << name << ": landmark " << i << " of the face at " << face.box;
      }
    }
  }
  EXPECT_GE(checked, 28);  // 23 cast members and 7 more people in these photos
  std::cout << "[          ] " << checked << " faces: lowest mirrored IoU " << lowest_iou
            << ", worst landmark offset " << worst_landmark << " x inter-ocular distance\n";
}

}  // namespace
}  // namespace faceqan
