// FaceFollower on real photos moved as a camera would move them: the followed boxes stay on the
// faces the detector finds in the moved frame; a cut to an empty shot and a covered face are
// noticed.
#include "detector_test_support.h"
#include "test_support.h"

#include "faceqan/face_follower.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace faceqan {
namespace {

using test::data_file;
using test::read_bgr;
using test::shared_detector;

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float overlap = (a & b).area();
  return overlap / (a.area() + b.area() - overlap);
}

// The photo shrunk to a 640-wide video frame, then shifted by `shift` and zoomed by `zoom`
// about the frame's centre (as a slow pan and zoom between two frames would).
cv::Mat video_frame(const cv::Mat& photo, cv::Point2f shift = {}, double zoom = 1.0) {
  cv::Mat frame;
  cv::resize(photo, frame, cv::Size(640, photo.rows * 640 / photo.cols), 0, 0, cv::INTER_AREA);
  cv::Mat moved;
  cv::Mat transform = cv::getRotationMatrix2D(cv::Point2f(320, frame.rows / 2.0f), 0, zoom);
  transform.at<double>(0, 2) += shift.x;
  transform.at<double>(1, 2) += shift.y;
  cv::warpAffine(frame, moved, transform, frame.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return moved;
}

TEST(FaceFollower, KeepsTheBoxesOnFacesThatMove) {
  const cv::Mat photo = read_bgr(data_file("groups/bbt1.jpg"));
  ASSERT_FALSE(photo.empty());
  FaceFollower follower;
  cv::Mat first = video_frame(photo);
  follower.reset(first, PixelFormat::kBGR, shared_detector().detect(first));
  ASSERT_EQ(follower.faces().size(), 4u);
  // Five frames of a pan with a slight zoom.
  for (int step = 1; step <= 5; ++step) {
    const cv::Mat frame = video_frame(photo, {3.0f * step, -1.5f * step}, 1.0 + 0.01 * step);
    bool cut = true;
    const std::vector<DetectedFace> followed = follower.follow(frame, PixelFormat::kBGR, &cut);
    EXPECT_FALSE(cut) << "step " << step;
    const std::vector<DetectedFace> detected = shared_detector().detect(frame);
    ASSERT_EQ(followed.size(), detected.size()) << "step " << step;
    for (const DetectedFace& face : detected) {
      float best = 0;
      for (const DetectedFace& other : followed) best = std::max(best, iou(face.box, other.box));
      EXPECT_GE(best, 0.75f) << "step " << step << ": detected " << face.box;
    }
  }
}

TEST(FaceFollower, DropsACoveredFaceAndNoticesACut) {
  const cv::Mat photo = read_bgr(data_file("groups/bbt1.jpg"));
  ASSERT_FALSE(photo.empty());
  FaceFollower follower;
  const cv::Mat first = video_frame(photo);
  follower.reset(first, PixelFormat::kBGR, shared_detector().detect(first));
  ASSERT_EQ(follower.faces().size(), 4u);

  cv::Mat covered = video_frame(photo, {2, 1});
  const cv::Rect2f hidden = follower.faces()[0].box;
  cv::rectangle(covered, cv::Rect(hidden), cv::Scalar(128, 128, 128), cv::FILLED);
  bool cut = true;
  const std::vector<DetectedFace> followed = follower.follow(covered, PixelFormat::kBGR, &cut);
  EXPECT_FALSE(cut);
  EXPECT_EQ(followed.size(), 3u);
  for (const DetectedFace& face : followed) EXPECT_LT(iou(face.box, hidden), 0.3f);

  // A cut to a dark, empty shot. (A cut to a similar shot, e.g. bbt3 after bbt1, can pass the
  // thumbnail test with a face or two still "followed" on similar texture: the element's
  // detection every detection-interval frames puts those right.)
  const cv::Mat dark(first.size(), first.type(), cv::Scalar(20, 20, 20));
  const std::vector<DetectedFace> after_cut = follower.follow(dark, PixelFormat::kBGR, &cut);
  EXPECT_TRUE(cut);
  EXPECT_TRUE(after_cut.empty());
  EXPECT_TRUE(follower.faces().empty());
}

TEST(FaceFollower, FollowsNothingBeforeAStartOrAfterASizeChange) {
  const cv::Mat photo = read_bgr(data_file("groups/bbt1.jpg"));
  FaceFollower follower;
  EXPECT_TRUE(follower.follow(video_frame(photo), PixelFormat::kBGR).empty());
  const cv::Mat first = video_frame(photo);
  follower.reset(first, PixelFormat::kBGR, shared_detector().detect(first));
  cv::Mat smaller;
  cv::resize(first, smaller, cv::Size(320, first.rows / 2));
  EXPECT_TRUE(follower.follow(smaller, PixelFormat::kBGR).empty());
  // Grey and RGBA frames are followed too.
  cv::Mat grey;
  cv::cvtColor(first, grey, cv::COLOR_BGR2GRAY);
  follower.reset(grey, PixelFormat::kGray, shared_detector().detect(first));
  EXPECT_EQ(follower.follow(grey, PixelFormat::kGray).size(), 4u);
}

}  // namespace
}  // namespace faceqan
