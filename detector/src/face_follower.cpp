#include "faceqan/face_follower.h"

#include "pixel_layout.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include <algorithm>
#include <cmath>

namespace faceqan {
namespace {

// Points followed per face: a grid over the middle of the box (the face itself, not the
// background at the box's corners) and the five landmarks.
constexpr int kGridSide = 4;
constexpr float kGridSpan = 0.6f;  // of the box's width and height
const cv::Size kFlowWindow(15, 15);
constexpr int kPyramidLevels = 2;
const cv::Size kThumbnail(64, 36);

int grey_conversion(PixelFormat format) {
  switch (format) {
    case PixelFormat::kBGR: return cv::COLOR_BGR2GRAY;
    case PixelFormat::kRGB: return cv::COLOR_RGB2GRAY;
    case PixelFormat::kBGRA: return cv::COLOR_BGRA2GRAY;
    case PixelFormat::kRGBA: return cv::COLOR_RGBA2GRAY;
    case PixelFormat::kGray: break;
  }
  return -1;
}

float median(std::vector<float> values) {
  const auto middle = values.begin() + values.size() / 2;
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

std::vector<cv::Point2f> face_points(const DetectedFace& face, float scale) {
  std::vector<cv::Point2f> points;
  const cv::Point2f centre(face.box.x + face.box.width / 2, face.box.y + face.box.height / 2);
  for (int row = 0; row < kGridSide; ++row) {
    for (int column = 0; column < kGridSide; ++column) {
      const float u = (column + 0.5f) / kGridSide - 0.5f, v = (row + 0.5f) / kGridSide - 0.5f;
      points.emplace_back((centre.x + u * kGridSpan * face.box.width) * scale,
                          (centre.y + v * kGridSpan * face.box.height) * scale);
    }
  }
  for (const cv::Point2f& landmark : face.landmarks) points.push_back(landmark * scale);
  return points;
}

}  // namespace

FaceFollower::Grey FaceFollower::make_grey(const cv::Mat& image, PixelFormat format) const {
  detail::require_8bit_image(image, format, "FaceFollower");
  Grey grey;
  cv::Mat full;
  const int conversion = grey_conversion(format);
  if (conversion >= 0) {
    cv::cvtColor(image, full, conversion);
  } else {
    full = image;
  }
  grey.scale = std::min(1.0f, static_cast<float>(settings_.max_width) / image.cols);
  if (grey.scale < 1.0f) {
    cv::resize(full, grey.image,
               cv::Size(std::max(1, static_cast<int>(std::lround(image.cols * grey.scale))),
                        std::max(1, static_cast<int>(std::lround(image.rows * grey.scale)))),
               0, 0, cv::INTER_AREA);
  } else {
    grey.image = full.clone();
  }
  cv::resize(grey.image, grey.thumbnail, kThumbnail, 0, 0, cv::INTER_AREA);
  return grey;
}

void FaceFollower::reset(const cv::Mat& image, PixelFormat format,
                         std::vector<DetectedFace> faces) {
  previous_ = make_grey(image, format);
  faces_ = std::move(faces);
}

void FaceFollower::clear() {
  previous_ = Grey{};
  faces_.clear();
}

std::vector<DetectedFace> FaceFollower::follow(const cv::Mat& image, PixelFormat format,
                                               bool* cut) {
  if (cut != nullptr) *cut = false;
  Grey current = make_grey(image, format);
  if (previous_.image.empty() || previous_.image.size() != current.image.size()) {
    previous_ = std::move(current);
    faces_.clear();
    return {};
  }
  const double difference = cv::norm(previous_.thumbnail, current.thumbnail, cv::NORM_L1) /
                            static_cast<double>(kThumbnail.area());
  if (difference > settings_.cut_difference) {
    if (cut != nullptr) *cut = true;
    previous_ = std::move(current);
    faces_.clear();
    return {};
  }

  std::vector<cv::Point2f> from;
  std::vector<size_t> first_point;  // per face, its first point's index in `from`
  for (const DetectedFace& face : faces_) {
    first_point.push_back(from.size());
    const std::vector<cv::Point2f> points = face_points(face, previous_.scale);
    from.insert(from.end(), points.begin(), points.end());
  }
  first_point.push_back(from.size());

  std::vector<DetectedFace> kept;
  if (!from.empty()) {
    std::vector<cv::Point2f> to, back;
    std::vector<uchar> found, found_back;
    std::vector<float> error;
    const cv::TermCriteria stop(cv::TermCriteria::COUNT | cv::TermCriteria::EPS, 20, 0.03);
    cv::calcOpticalFlowPyrLK(previous_.image, current.image, from, to, found, error, kFlowWindow,
                             kPyramidLevels, stop);
    cv::calcOpticalFlowPyrLK(current.image, previous_.image, to, back, found_back, error,
                             kFlowWindow, kPyramidLevels, stop);
    for (size_t f = 0; f < faces_.size(); ++f) {
      std::vector<size_t> good;
      for (size_t i = first_point[f]; i < first_point[f + 1]; ++i) {
        const cv::Point2f round_trip = back[i] - from[i];
        if (found[i] && found_back[i] &&
            std::hypot(round_trip.x, round_trip.y) <= settings_.max_round_trip_error) {
          good.push_back(i);
        }
      }
      const size_t total = first_point[f + 1] - first_point[f];
      if (good.size() < 2 || good.size() < settings_.min_followed_fraction * total) continue;

      // Shift: the median movement; scale: the median ratio of the points' mutual distances.
      std::vector<float> dx, dy, xs, ys, ratios;
      for (size_t a = 0; a < good.size(); ++a) {
        const size_t i = good[a];
        dx.push_back(to[i].x - from[i].x);
        dy.push_back(to[i].y - from[i].y);
        xs.push_back(from[i].x);
        ys.push_back(from[i].y);
        for (size_t b = a + 1; b < good.size(); ++b) {
          const size_t j = good[b];
          const float before = static_cast<float>(cv::norm(from[i] - from[j]));
          if (before > 1.0f) ratios.push_back(static_cast<float>(cv::norm(to[i] - to[j])) / before);
        }
      }
      const float scale = ratios.empty() ? 1.0f : median(ratios);
      // In frame pixels: p' = anchor + shift + scale * (p - anchor).
      const cv::Point2f anchor(median(xs) / previous_.scale, median(ys) / previous_.scale);
      const cv::Point2f shift(median(dx) / previous_.scale, median(dy) / previous_.scale);
      const auto move = [&](cv::Point2f p) { return anchor + shift + scale * (p - anchor); };
      DetectedFace moved = faces_[f];
      const cv::Point2f top_left = move(moved.box.tl());
      moved.box = cv::Rect2f(top_left.x, top_left.y, moved.box.width * scale,
                             moved.box.height * scale);
      for (cv::Point2f& landmark : moved.landmarks) landmark = move(landmark);
      kept.push_back(moved);
    }
  }
  previous_ = std::move(current);
  // Not one face could be followed: most likely another shot whose difference the thumbnail
  // missed (similar brightness); the caller detects at once, as after a cut.
  if (cut != nullptr && kept.empty() && !faces_.empty()) *cut = true;
  faces_ = kept;
  return kept;
}

}  // namespace faceqan
