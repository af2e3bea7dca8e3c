#include "face_images.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.h"

namespace faceqan::test {

OwnedFace to_face(const cv::Mat& bgr) {
  cv::Mat rgb, rgb_float;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(rgb_float, CV_32FC3, 1.0 / 255.0);
  OwnedFace face;
  face.width = bgr.cols;
  face.height = bgr.rows;
  face.rgb.assign(rgb_float.ptr<float>(), rgb_float.ptr<float>() + rgb_float.total() * 3);
  return face;
}

cv::Mat read_bgr(const std::string& path) {
  cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
  EXPECT_FALSE(image.empty()) << "cannot read " << path;
  return image;
}

cv::Mat blurred(const cv::Mat& bgr) {
  cv::Mat out;
  cv::GaussianBlur(bgr, out, cv::Size(0, 0), 3.0);
  return out;
}

cv::Mat pixelated(const cv::Mat& bgr) {
  cv::Mat small, out;
  cv::resize(bgr, small, cv::Size(16, 16), 0, 0, cv::INTER_AREA);
  cv::resize(small, out, bgr.size(), 0, 0, cv::INTER_LINEAR);
  return out;
}

std::vector<std::string> lfw_aligned_images() {
  auto images = list_images(data_dir() + "/lfw-aligned-112");
  EXPECT_EQ(images.size(), 20u) << "lfw-aligned-112 should hold 20 images";
  return images;
}

}  // namespace faceqan::test
