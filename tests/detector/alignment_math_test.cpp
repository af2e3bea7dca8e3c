// Alignment maths: the template, the least-squares similarity (checked against an independent
// SVD implementation of Umeyama's method, as skimage's SimilarityTransform computes it) and the
// two crop outputs.
#include "faceqan/face_alignment.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <random>

namespace faceqan {
namespace {

// Umeyama (1991) with the SVD, as skimage.transform._geometric._umeyama does it.
cv::Matx23d umeyama_reference(const FaceLandmarks& from, const FaceLandmarks& to) {
  const double n = static_cast<double>(from.size());
  cv::Vec2d from_mean(0, 0), to_mean(0, 0);
  for (size_t i = 0; i < from.size(); ++i) {
    from_mean += cv::Vec2d(from[i].x, from[i].y) / n;
    to_mean += cv::Vec2d(to[i].x, to[i].y) / n;
  }
  cv::Matx22d covariance = cv::Matx22d::zeros();
  double from_variance = 0.0;
  for (size_t i = 0; i < from.size(); ++i) {
    const cv::Vec2d a = cv::Vec2d(from[i].x, from[i].y) - from_mean;
    const cv::Vec2d b = cv::Vec2d(to[i].x, to[i].y) - to_mean;
    covariance += cv::Matx22d(b[0] * a[0], b[0] * a[1], b[1] * a[0], b[1] * a[1]) * (1.0 / n);
    from_variance += (a[0] * a[0] + a[1] * a[1]) / n;
  }
  cv::Matx21d singular;
  cv::Matx22d u, vt;
  cv::SVD::compute(covariance, singular, u, vt);
  const double reflection = cv::determinant(covariance) < 0 ? -1.0 : 1.0;
  const cv::Matx22d rotation = u * cv::Matx22d(1, 0, 0, reflection) * vt;
  const double scale = (singular(0) + reflection * singular(1)) / from_variance;
  const cv::Vec2d translation = to_mean - scale * (rotation * from_mean);
  return {scale * rotation(0, 0), scale * rotation(0, 1), translation[0],
          scale * rotation(1, 0), scale * rotation(1, 1), translation[1]};
}

cv::Point2f apply(const cv::Matx23d& m, cv::Point2f p) {
  return {static_cast<float>(m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2)),
          static_cast<float>(m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2))};
}

void expect_near(const cv::Matx23d& a, const cv::Matx23d& b, double tolerance) {
  for (int i = 0; i < 6; ++i) {
    EXPECT_NEAR(a.val[i], b.val[i], tolerance) << "element " << i << "\n" << a << "\n" << b;
  }
}

TEST(ArcFaceTemplate, ScalesWithTheCropSize) {
  const FaceLandmarks base = arcface_template();
  EXPECT_FLOAT_EQ(base[0].x, 38.2946f);
  EXPECT_FLOAT_EQ(base[0].y, 51.6963f);
  EXPECT_FLOAT_EQ(base[4].x, 70.7299f);
  EXPECT_FLOAT_EQ(base[4].y, 92.2041f);
  const FaceLandmarks wide = arcface_template({224, 112});
  for (size_t i = 0; i < base.size(); ++i) {
    EXPECT_FLOAT_EQ(wide[i].x, base[i].x * 2);
    EXPECT_FLOAT_EQ(wide[i].y, base[i].y);
  }
}

TEST(SimilarityTransform, RecoversAnExactSimilarity) {
  const double angle = 0.4;
  const double scale = 2.5;
  const cv::Matx23d truth(scale * std::cos(angle), -scale * std::sin(angle), 31.0,
                          scale * std::sin(angle), scale * std::cos(angle), -7.5);
  const FaceLandmarks from = arcface_template();
  FaceLandmarks to;
  for (size_t i = 0; i < from.size(); ++i) {
    to[i] = apply(truth, from[i]);
  }
  expect_near(similarity_transform(from, to), truth, 1e-4);
}

TEST(SimilarityTransform, EqualsUmeyamaOnNoisyPoints) {
  std::mt19937 random(7);
  std::normal_distribution<float> noise(0.0f, 4.0f);
  std::uniform_real_distribution<float> position(0.0f, 400.0f);
  for (int trial = 0; trial < 50; ++trial) {
    FaceLandmarks from;
    FaceLandmarks to = arcface_template();
    for (size_t i = 0; i < from.size(); ++i) {
      from[i] = {position(random), position(random)};
      to[i] += cv::Point2f(noise(random), noise(random));
    }
    expect_near(similarity_transform(from, to), umeyama_reference(from, to), 1e-6);
  }
}

TEST(SimilarityTransform, NeverReflects) {
  // A mirrored face: the best similarity keeps a positive determinant (no flip).
  FaceLandmarks mirrored = arcface_template();
  for (cv::Point2f& p : mirrored) {
    p.x = 200.0f - p.x;
  }
  const cv::Matx23d m = similarity_transform(mirrored, arcface_template());
  EXPECT_GT(m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0), 0.0);
  expect_near(m, umeyama_reference(mirrored, arcface_template()), 1e-6);
}

TEST(SimilarityTransform, CoincidingPointsAreAnError) {
  FaceLandmarks same;
  same.fill({10.0f, 10.0f});
  EXPECT_THROW(similarity_transform(same, arcface_template()), DetectorError);
}

TEST(AlignFace, TemplateLandmarksGiveTheImageBack) {
  cv::Mat image(112, 112, CV_8UC3);
  cv::randu(image, 0, 256);
  const cv::Mat crop = align_face(image, arcface_template());
  ASSERT_EQ(crop.type(), CV_8UC3);
  ASSERT_EQ(crop.size(), cv::Size(112, 112));
  EXPECT_EQ(cv::norm(crop, image, cv::NORM_INF), 0.0);
}

TEST(AlignFace, KeepsLayoutAndBlacksOutsideTheImage) {
  // Landmarks twice the template size, shifted: the face is shrunk by 2 into the crop.
  FaceLandmarks landmarks = arcface_template();
  for (cv::Point2f& p : landmarks) {
    p = p * 2.0f + cv::Point2f(-60.0f, -60.0f);
  }
  for (int type : {CV_8UC1, CV_8UC3, CV_8UC4}) {
    const cv::Mat image(200, 200, type, cv::Scalar::all(200));
    const cv::Mat crop = align_face(image, landmarks);
    EXPECT_EQ(crop.type(), type);
    EXPECT_EQ(crop.size(), kArcFaceCrop);
    // Crop (x, y) samples image (2x - 60, 2y - 60): (0, 0) lies outside, so black.
    EXPECT_EQ(crop.ptr<uchar>(0)[0], 0);
    EXPECT_EQ(crop.ptr<uchar>(64)[48 * crop.channels()], 200);
    EXPECT_EQ(align_face(image, landmarks, {96, 128}).size(), cv::Size(96, 128));
  }
  EXPECT_THROW(align_face(cv::Mat(), landmarks), DetectorError);
}

TEST(AlignFaceToRgbFloat, MatchesThe8BitCropForEveryFormat) {
  cv::Mat bgr(300, 240, CV_8UC3);
  cv::randu(bgr, 0, 256);
  FaceLandmarks landmarks = arcface_template();
  for (cv::Point2f& p : landmarks) {
    p = p * 1.7f + cv::Point2f(30.0f, 45.0f);
  }
  const cv::Mat expected_rgb = [&] {
    cv::Mat rgb;
    cv::cvtColor(align_face(bgr, landmarks), rgb, cv::COLOR_BGR2RGB);
    rgb.convertTo(rgb, CV_32FC3, 1.0 / 255.0);
    return rgb;
  }();

  struct Case {
    PixelFormat format;
    int conversion;  // from BGR, or -1 for none
  };
  for (const Case& c : {Case{PixelFormat::kBGR, -1}, Case{PixelFormat::kRGB, cv::COLOR_BGR2RGB},
                        Case{PixelFormat::kBGRA, cv::COLOR_BGR2BGRA},
                        Case{PixelFormat::kRGBA, cv::COLOR_BGR2RGBA}}) {
    cv::Mat source;  // a fresh Mat: converting into a header of `bgr` would overwrite it
    if (c.conversion >= 0) {
      cv::cvtColor(bgr, source, c.conversion);
    } else {
      source = bgr;
    }
    std::vector<float> destination(112 * 112 * 3, -1.0f);
    align_face_to_rgb_float(source, c.format, landmarks, kArcFaceCrop, destination.data());
    const cv::Mat written(112, 112, CV_32FC3, destination.data());
    EXPECT_LT(cv::norm(written, expected_rgb, cv::NORM_INF), 1e-6) << to_string(c.format);
  }

  // Greyscale fills all three channels with the grey crop.
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  std::vector<float> destination(64 * 80 * 3);
  align_face_to_rgb_float(grey, PixelFormat::kGray, landmarks, {64, 80}, destination.data());
  const cv::Mat grey_crop = align_face(grey, landmarks, {64, 80});
  for (int i = 0; i < 64 * 80; ++i) {
    const float value = grey_crop.data[i] / 255.0f;
    ASSERT_FLOAT_EQ(destination[3 * i], value);
    ASSERT_FLOAT_EQ(destination[3 * i + 2], value);
  }
}

TEST(AlignFaceToRgbFloat, RejectsBadArguments) {
  const cv::Mat bgr(50, 50, CV_8UC3, cv::Scalar::all(1));
  std::vector<float> destination(112 * 112 * 3);
  const FaceLandmarks landmarks = arcface_template();
  EXPECT_THROW(align_face_to_rgb_float(bgr, PixelFormat::kBGR, landmarks, kArcFaceCrop, nullptr),
               DetectorError);
  EXPECT_THROW(align_face_to_rgb_float(bgr, PixelFormat::kGray, landmarks, kArcFaceCrop,
                                       destination.data()),
               DetectorError);
  EXPECT_THROW(align_face_to_rgb_float(cv::Mat(), PixelFormat::kBGR, landmarks, kArcFaceCrop,
                                       destination.data()),
               DetectorError);
  const cv::Mat floats(50, 50, CV_32FC3, cv::Scalar::all(1));
  EXPECT_THROW(align_face_to_rgb_float(floats, PixelFormat::kBGR, landmarks, kArcFaceCrop,
                                       destination.data()),
               DetectorError);
}

}  // namespace
}  // namespace faceqan
