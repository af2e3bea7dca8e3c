// Reading real face images for the quality tests, and the degradations they compare against.
#pragma once

#include <opencv2/core.hpp>

#include <string>
#include <vector>

#include "faceqan/quality.h"

namespace faceqan::test {

// An aligned face as the scorer takes it, owning its pixels.
struct OwnedFace {
  std::vector<float> rgb;
  int width = 0;
  int height = 0;
  FaceImage view(std::uint64_t key) const { return {rgb.data(), width, height, key}; }
};

// 8-bit BGR to an owned RGB [0,1] face.
OwnedFace to_face(const cv::Mat& bgr);
// Reads an image file (fails the test if unreadable).
cv::Mat read_bgr(const std::string& path);
// Gaussian blur with sigma 3.
cv::Mat blurred(const cv::Mat& bgr);
// Downscaled to 16x16, then upscaled back (bilinear).
cv::Mat pixelated(const cv::Mat& bgr);

// The 20 aligned LFW images of ../shared/data/lfw-aligned-112, sorted.
std::vector<std::string> lfw_aligned_images();

}  // namespace faceqan::test
