// Priors, letterboxing and NMS: the library's internal building blocks.
#include "letterbox.h"
#include "nms.h"
#include "priors.h"

#include <gtest/gtest.h>

namespace faceqan::detail {
namespace {

TEST(Priors, ShippedModelLayout) {
  const std::vector<Prior> priors = make_priors(default_retinaface_description());
  ASSERT_EQ(priors.size(), 16800u);  // (80*80 + 40*40 + 20*20) * 2
  // Order (step, row, column, anchor); centres at (cell + 0.5) * step.
  EXPECT_FLOAT_EQ(priors[0].centre_x, 4);
  EXPECT_FLOAT_EQ(priors[0].centre_y, 4);
  EXPECT_FLOAT_EQ(priors[0].size, 16);
  EXPECT_FLOAT_EQ(priors[1].size, 32);
  EXPECT_FLOAT_EQ(priors[2].centre_x, 12);  // next column
  EXPECT_FLOAT_EQ(priors[2].centre_y, 4);
  EXPECT_FLOAT_EQ(priors[160].centre_y, 12);  // next row after 80 columns x 2 anchors
  EXPECT_FLOAT_EQ(priors[12800].centre_x, 8);  // first stride-16 prior
  EXPECT_FLOAT_EQ(priors[12800].size, 64);
  EXPECT_FLOAT_EQ(priors.back().centre_x, 624);
  EXPECT_FLOAT_EQ(priors.back().centre_y, 624);
  EXPECT_FLOAT_EQ(priors.back().size, 512);
}

TEST(Priors, NonSquareInputRoundsCellsUp) {
  RetinaFaceDescription description;
  description.input_size = {640, 484};  // 484/8 = 60.5 -> 61 rows
  const std::vector<Prior> priors = make_priors(description);
  EXPECT_EQ(priors.size(), (80u * 61 + 40 * 31 + 20 * 16) * 2);
}

TEST(Letterbox, ScalesToFitKeepingAspect) {
  Letterbox box = fit_letterbox({1280, 720}, {640, 640});
  EXPECT_EQ(box.scaled_size, cv::Size(640, 360));
  EXPECT_FLOAT_EQ(box.scale_x, 0.5f);
  EXPECT_FLOAT_EQ(box.scale_y, 0.5f);
  EXPECT_EQ(box.to_image({320, 100}), cv::Point2f(640, 200));

  box = fit_letterbox({150, 150}, {640, 640});  // enlarged
  EXPECT_EQ(box.scaled_size, cv::Size(640, 640));

  box = fit_letterbox({100, 300}, {640, 640});
  EXPECT_EQ(box.scaled_size, cv::Size(213, 640));
  EXPECT_FLOAT_EQ(box.scale_x, 2.13f);  // the exact factor of the rounded size

  box = fit_letterbox({1, 100000}, {640, 640});  // never a zero-sized resize
  EXPECT_EQ(box.scaled_size, cv::Size(1, 640));
}

TEST(Letterbox, BlobIsNormalisedAndPaddedWithZero) {
  RetinaFaceDescription description;
  description.input_size = {64, 32};
  const cv::Mat image(8, 16, CV_8UC3, cv::Scalar(10, 20, 30));  // B, G, R
  cv::Mat resized;
  cv::Mat blob(4, std::array<int, 4>{1, 3, 32, 64}.data(), CV_32F, cv::Scalar(99));  // stale
  const Letterbox box = make_input_blob(image, PixelFormat::kBGR, description, resized, blob);
  ASSERT_EQ(box.scaled_size, cv::Size(64, 32));
  double lowest = 0;
  double highest = 0;
  cv::minMaxIdx(blob, &lowest, &highest);
  EXPECT_FLOAT_EQ(highest, 30 - 123);  // every stale value overwritten

  description.input_size = {64, 64};
  make_input_blob(image, PixelFormat::kBGR, description, resized, blob);
  ASSERT_EQ(blob.size[2], 64);
  const auto at = [&](int c, int y, int x) { return blob.ptr<float>(0, c)[y * 64 + x]; };
  EXPECT_FLOAT_EQ(at(0, 0, 0), 10 - 104);
  EXPECT_FLOAT_EQ(at(1, 31, 63), 20 - 117);
  EXPECT_FLOAT_EQ(at(2, 10, 5), 30 - 123);
  EXPECT_FLOAT_EQ(at(0, 32, 0), 0);  // padding below the image
  EXPECT_FLOAT_EQ(at(2, 63, 63), 0);

  // An RGB network with a divisor; greyscale and RGBA sources map onto it.
  description.input_is_rgb = true;
  description.mean = {1, 2, 3};
  description.std = {2, 2, 2};
  make_input_blob(image, PixelFormat::kBGR, description, resized, blob);
  EXPECT_FLOAT_EQ(at(0, 0, 0), (30 - 1) / 2.0f);  // R first
  EXPECT_FLOAT_EQ(at(2, 0, 0), (10 - 3) / 2.0f);
  const cv::Mat rgba(8, 16, CV_8UC4, cv::Scalar(30, 20, 10, 255));
  make_input_blob(rgba, PixelFormat::kRGBA, description, resized, blob);
  EXPECT_FLOAT_EQ(at(0, 0, 0), (30 - 1) / 2.0f);
  EXPECT_FLOAT_EQ(at(2, 0, 0), (10 - 3) / 2.0f);
  const cv::Mat grey(8, 16, CV_8UC1, cv::Scalar(50));
  make_input_blob(grey, PixelFormat::kGray, description, resized, blob);
  EXPECT_FLOAT_EQ(at(0, 0, 0), (50 - 1) / 2.0f);
  EXPECT_FLOAT_EQ(at(2, 0, 0), (50 - 3) / 2.0f);
}

TEST(Nms, KeepsTheBestOfOverlappingBoxes) {
  const std::vector<cv::Rect2f> boxes = {
      {0, 0, 10, 10}, {1, 1, 10, 10}, {50, 50, 10, 10}, {0, 0, 10, 20}};
  const std::vector<float> scores = {0.8f, 0.9f, 0.7f, 0.95f};
  // IoU(0,1) = 81/119 = 0.68; IoU(0,3) = 100/200 = 0.5; IoU(1,3) = 90/210 = 0.43.
  EXPECT_EQ(non_maximum_suppression(boxes, scores, 0.45f), (std::vector<size_t>{3, 1, 2}));
  EXPECT_EQ(non_maximum_suppression(boxes, scores, 0.4f), (std::vector<size_t>{3, 2}));
  EXPECT_EQ(non_maximum_suppression(boxes, scores, 1.0f), (std::vector<size_t>{3, 1, 0, 2}));
  EXPECT_TRUE(non_maximum_suppression({}, {}, 0.4f).empty());
}

TEST(Nms, IntersectionOverUnion) {
  EXPECT_FLOAT_EQ(intersection_over_union({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0f);
  EXPECT_FLOAT_EQ(intersection_over_union({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0f / 150.0f);
  EXPECT_FLOAT_EQ(intersection_over_union({0, 0, 10, 10}, {20, 20, 5, 5}), 0.0f);
  EXPECT_FLOAT_EQ(intersection_over_union({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0f);
}

}  // namespace
}  // namespace faceqan::detail
