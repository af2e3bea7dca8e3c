#include "faceqan/face_alignment.h"

#include "pixel_layout.h"

#include <opencv2/imgproc.hpp>

namespace faceqan {
namespace {

// The ArcFace 112x112 template (insightface), in the landmark order of FaceLandmarks.
constexpr float kArcFaceTemplate112[5][2] = {
    {38.2946f, 51.6963f}, {73.5318f, 51.5014f}, {56.0252f, 71.7366f},
    {41.5493f, 92.3655f}, {70.7299f, 92.2041f}};

// Below this the source points are treated as coinciding (no scale can be estimated).
constexpr double kMinimumSpread = 1e-12;

cv::Point2d centroid(const FaceLandmarks& points) {
  cv::Point2d sum(0, 0);
  for (const cv::Point2f& p : points) {
    sum += cv::Point2d(p);
  }
  return sum / static_cast<double>(points.size());
}

}  // namespace

FaceLandmarks arcface_template(cv::Size crop_size) {
  const float scale_x = static_cast<float>(crop_size.width) / kArcFaceCropSize;
  const float scale_y = static_cast<float>(crop_size.height) / kArcFaceCropSize;
  FaceLandmarks points;
  for (size_t i = 0; i < points.size(); ++i) {
    points[i] = {kArcFaceTemplate112[i][0] * scale_x, kArcFaceTemplate112[i][1] * scale_y};
  }
  return points;
}

cv::Matx23d similarity_transform(const FaceLandmarks& from, const FaceLandmarks& to) {
  // Treat points as complex numbers: a similarity without reflection is z -> a*z + b with
  // complex a = s*e^(i*theta). Least squares over centred points gives
  // a = sum(conj(z_i) * w_i) / sum(|z_i|^2), the same optimum Umeyama's SVD method reaches
  // (its determinant correction also excludes reflections), without the SVD.
  const cv::Point2d from_centre = centroid(from);
  const cv::Point2d to_centre = centroid(to);
  double dot = 0.0;     // real part of sum(conj(z) * w)
  double cross = 0.0;   // imaginary part
  double spread = 0.0;  // sum(|z|^2)
  for (size_t i = 0; i < from.size(); ++i) {
    const cv::Point2d z = cv::Point2d(from[i]) - from_centre;
    const cv::Point2d w = cv::Point2d(to[i]) - to_centre;
    dot += z.x * w.x + z.y * w.y;
    cross += z.x * w.y - z.y * w.x;
    spread += z.x * z.x + z.y * z.y;
  }
  if (spread < kMinimumSpread) {
    throw DetectorError("similarity_transform: the source landmarks coincide");
  }
  const double a = dot / spread;    // s * cos(theta)
  const double b = cross / spread;  // s * sin(theta)
  const double tx = to_centre.x - (a * from_centre.x - b * from_centre.y);
  const double ty = to_centre.y - (b * from_centre.x + a * from_centre.y);
  return {a, -b, tx,
          b, a, ty};
}

cv::Matx23d alignment_transform(const FaceLandmarks& landmarks, cv::Size crop_size) {
  return similarity_transform(landmarks, arcface_template(crop_size));
}

cv::Mat align_face(const cv::Mat& image, const FaceLandmarks& landmarks, cv::Size crop_size) {
  if (image.empty()) {
    throw DetectorError("align_face: the image is empty");
  }
  cv::Mat crop;
  cv::warpAffine(image, crop, cv::Mat(alignment_transform(landmarks, crop_size)), crop_size,
                 cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return crop;
}

void align_face_to_rgb_float(const cv::Mat& image, PixelFormat format,
                             const FaceLandmarks& landmarks, cv::Size crop_size,
                             float* destination) {
  detail::require_8bit_image(image, format, "align_face_to_rgb_float");
  if (destination == nullptr) {
    throw DetectorError("align_face_to_rgb_float: the destination is null");
  }
  if (crop_size.width <= 0 || crop_size.height <= 0) {
    throw DetectorError("align_face_to_rgb_float: the crop size must be positive");
  }
  // Warping at 8 bits touches only crop-sized data; the conversion below is the single pass
  // that reorders channels, scales to [0, 1] and writes the caller's memory.
  const cv::Mat crop = align_face(image, landmarks, crop_size);

  const std::array<int, 3> channel = detail::source_channels(format, /*want_rgb=*/true);
  const int stride = channel_count(format);
  constexpr float kToUnit = 1.0f / 255.0f;
  float* out = destination;
  for (int y = 0; y < crop.rows; ++y) {
    const uchar* pixel = crop.ptr<uchar>(y);
    for (int x = 0; x < crop.cols; ++x, pixel += stride, out += 3) {
      out[0] = pixel[channel[0]] * kToUnit;
      out[1] = pixel[channel[1]] * kToUnit;
      out[2] = pixel[channel[2]] * kToUnit;
    }
  }
}

}  // namespace faceqan
