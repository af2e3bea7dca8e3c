#include "face_drawing.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>

namespace faceqan::gst {
namespace {

// Colours as (R, G, B); reordered for the frame's channel order.
const cv::Scalar kGood(0, 200, 0);
const cv::Scalar kBad(230, 0, 0);
const cv::Scalar kUnscored(160, 160, 160);

cv::Scalar in_channel_order(const cv::Scalar& rgb, PixelFormat format) {
  switch (format) {
    case PixelFormat::kBGR:
    case PixelFormat::kBGRA: return cv::Scalar(rgb[2], rgb[1], rgb[0], 255);
    case PixelFormat::kGray: return cv::Scalar(255);
    default: return cv::Scalar(rgb[0], rgb[1], rgb[2], 255);
  }
}

void draw_face(cv::Mat& image, const FaceRecord& face, const FaceResult& result,
               const cv::Scalar& colour) {
  // Lines scale with the face so that they stay visible on large frames and small on small ones.
  const int thickness = std::max(1, static_cast<int>(face.box.width / 60));
  cv::rectangle(image, cv::Rect(face.box), colour, thickness);
  for (const cv::Point2f& point : face.landmarks) {
    cv::circle(image, point, thickness + 1, colour, cv::FILLED);
  }
  char label[32];
  if (result.has_quality) {
    // A '*' marks a score carried over from the face's track (this face was not scored).
    std::snprintf(label, sizeof label, "%.3f%s", result.quality.quality, result.scored ? "" : "*");
  } else {
    std::snprintf(label, sizeof label, "unscored");
  }
  const double scale = std::clamp(face.box.width / 120.0, 0.4, 1.5);
  const int baseline_y = std::max(12, static_cast<int>(face.box.y) - 4);
  cv::putText(image, label, cv::Point(static_cast<int>(face.box.x), baseline_y),
              cv::FONT_HERSHEY_SIMPLEX, scale, colour, std::max(1, thickness));
}

}  // namespace

void draw_faces(GstVideoFrame* frame, const std::vector<FaceRecord>& faces,
                const std::vector<FaceResult>& results, double threshold) {
  const GstVideoInfo& info = frame->info;
  PixelFormat format = PixelFormat::kGray;  // the luma plane of YUV formats
  if (const auto packed = packed_pixel_format(GST_VIDEO_INFO_FORMAT(&info))) format = *packed;
  cv::Mat image(GST_VIDEO_INFO_HEIGHT(&info), GST_VIDEO_INFO_WIDTH(&info),
                CV_8UC(channel_count(format)), GST_VIDEO_FRAME_PLANE_DATA(frame, 0),
                GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0));
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const FaceResult result = i < results.size() ? results[i] : FaceResult{};
    const cv::Scalar& rgb = !result.has_quality ? kUnscored
                            : result.quality.quality >= threshold ? kGood : kBad;
    draw_face(image, faces[i], result, in_channel_order(rgb, format));
  }
}

}  // namespace faceqan::gst
