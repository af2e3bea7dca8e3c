// Types shared by the detector and the alignment: the error type, pixel layouts, landmarks.
// Only OpenCV's core is needed here, so callers do not pull in cv::dnn.
#pragma once

#include <opencv2/core.hpp>

#include <array>
#include <stdexcept>
#include <string>

namespace faceqan {

// Thrown by everything under detector/ for a missing or unreadable model, a bad model
// description, invalid settings or an input image it cannot interpret.
class DetectorError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Channel layout of an 8-bit input image (a decoded file or a video frame in memory).
enum class PixelFormat { kBGR, kRGB, kGray, kBGRA, kRGBA };

// Number of interleaved channels an image of this format has.
constexpr int channel_count(PixelFormat format) {
  switch (format) {
    case PixelFormat::kGray: return 1;
    case PixelFormat::kBGRA:
    case PixelFormat::kRGBA: return 4;
    case PixelFormat::kBGR:
    case PixelFormat::kRGB: break;
  }
  return 3;
}

// Readable name, for error messages ("BGR", "RGBA", ...).
const char* to_string(PixelFormat format);

// Five facial landmarks in image pixels: left eye, right eye, nose, left mouth corner,
// right mouth corner, where "left" means the image's left (smaller x), as RetinaFace and the
// ArcFace template order them.
using FaceLandmarks = std::array<cv::Point2f, 5>;

enum LandmarkIndex : int {
  kLeftEye = 0,
  kRightEye = 1,
  kNose = 2,
  kLeftMouth = 3,
  kRightMouth = 4,
};

}  // namespace faceqan
