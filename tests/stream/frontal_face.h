// A made-up face for the stream parts' tests: a box and the five landmarks where a frontal face
// has them.
#pragma once

#include "faceqan/stream/tracker.h"

namespace faceqan {

// A face at (x, y) of the given width, landmarks where a frontal face has them.
inline TrackInput face_at(float x, float y, float width = 40) {
  TrackInput face;
  face.box = cv::Rect2f(x, y, width, width * 1.2f);
  const float w = width;
  face.landmarks = {cv::Point2f(x + 0.3f * w, y + 0.4f * w), cv::Point2f(x + 0.7f * w, y + 0.4f * w),
                    cv::Point2f(x + 0.5f * w, y + 0.6f * w), cv::Point2f(x + 0.35f * w, y + 0.8f * w),
                    cv::Point2f(x + 0.65f * w, y + 0.8f * w)};
  return face;
}

}  // namespace faceqan
