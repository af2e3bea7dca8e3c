// Detects and aligns the faces of a photo for the CLI (a thin layer over detector/).
#pragma once

#include <opencv2/core.hpp>

#include <array>
#include <memory>
#include <vector>

#include "detect_command.h"
#include "score_results.h"

namespace faceqan::cli {

struct ExtractedFace {
  std::array<float, 4> box{};  // x, y, width, height in pixels
  float confidence = 0.0f;
  std::array<std::array<float, 2>, 5> landmarks{};
  cv::Mat aligned_bgr;             // 8-bit crop, for --save-crops
  std::vector<float> aligned_rgb;  // interleaved RGB in [0, 1], for scoring
};

class FaceExtractor {
 public:
  // Loads the detector named in options (or the default one). crop_size: the recognition model's
  // input size. Throws std::exception with a clear message if the detector cannot be loaded.
  FaceExtractor(const DetectOptions& options, cv::Size crop_size);
  ~FaceExtractor();
  FaceExtractor(const FaceExtractor&) = delete;
  FaceExtractor& operator=(const FaceExtractor&) = delete;

  // Faces of an 8-bit BGR photo, largest-first as the detector orders them; with_float also fills
  // aligned_rgb.
  std::vector<ExtractedFace> extract(const cv::Mat& bgr, bool with_float);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The detection fields of a face's report (box, confidence, landmarks).
FaceReport detection_report(const ExtractedFace& face);

// Reads an image file as 8-bit BGR; throws std::runtime_error saying why it cannot.
cv::Mat read_image(const std::string& path);

// Reads an image file with read_image() for its report: notes the path (first, so that an error
// report names it too) and the size.
cv::Mat read_reported_image(ImageReport& report, const std::string& path);

// 8-bit BGR (already at the right size) to interleaved RGB floats in [0, 1].
std::vector<float> to_rgb_float(const cv::Mat& bgr);

}  // namespace faceqan::cli
