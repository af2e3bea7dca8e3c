// Follows detected faces onto the next frames without running the detector: pyramidal
// Lucas-Kanade optical flow on points inside each face (checked forward and backward), one
// similarity (shift and scale) per face applied to its box and landmarks. A face whose points
// cannot be followed (it left, turned away, was covered) is dropped, and a frame that differs
// from the previous one as a whole (a cut to another shot) is reported, so that the caller runs
// the detector at once instead of carrying faces of the last shot into the new one.
//
// With detection every few frames, this keeps the boxes on the faces in between at a small
// fraction of a detection's cost (the flow works on a grey copy at most 320 pixels wide).
// Not thread-safe: one follower per stream.
#pragma once

#include "faceqan/face_detector.h"

#include <vector>

namespace faceqan {

struct FollowerSettings {
  // The grey copy the flow runs on is at most this wide (frames are shrunk, never enlarged).
  int max_width = 320;
  // A point counts as followed if tracking it back lands within this many pixels (of the grey
  // copy) of where it started.
  float max_round_trip_error = 1.0f;
  // A face is kept if at least this fraction of its points were followed.
  float min_followed_fraction = 0.5f;
  // Mean absolute difference (0-255 grey levels) between two consecutive frames, shrunk to a
  // thumbnail, above which the frame is taken as a cut to another shot.
  double cut_difference = 28.0;
};

class FaceFollower {
 public:
  explicit FaceFollower(FollowerSettings settings = {}) : settings_(settings) {}

  // Starts anew from the faces the detector found on `image`.
  void reset(const cv::Mat& image, PixelFormat format, std::vector<DetectedFace> faces);

  // Follows the faces onto `image`, the next frame of the same stream, and returns those still
  // followed (boxes and landmarks moved, confidence kept). `cut` (optional) is set when the
  // frame looks like a new shot, or when faces were followed and none of them could be; then
  // no face is returned. Before any reset(): no faces.
  std::vector<DetectedFace> follow(const cv::Mat& image, PixelFormat format, bool* cut = nullptr);

  // Forgets the frame and faces (a new stream, a flush, new caps).
  void clear();

  // Faces currently followed.
  const std::vector<DetectedFace>& faces() const { return faces_; }

 private:
  struct Grey {
    cv::Mat image;      // the grey copy the flow runs on
    cv::Mat thumbnail;  // a tiny blurred copy for the cut test
    float scale = 1;    // grey-copy pixels per frame pixel
  };
  Grey make_grey(const cv::Mat& image, PixelFormat format) const;

  FollowerSettings settings_;
  Grey previous_;
  std::vector<DetectedFace> faces_;
};

}  // namespace faceqan
