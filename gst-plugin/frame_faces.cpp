#include "frame_faces.h"

#include <opencv2/imgproc.hpp>

#include <stdexcept>

#include "faceqan/face_alignment.h"

namespace faceqan::gst {

std::optional<PixelFormat> packed_pixel_format(GstVideoFormat format) {
  switch (format) {
    case GST_VIDEO_FORMAT_RGB: return PixelFormat::kRGB;
    case GST_VIDEO_FORMAT_BGR: return PixelFormat::kBGR;
    // The fourth byte of RGBx/BGRx is padding; the detector and the alignment ignore it as alpha.
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_RGBA: return PixelFormat::kRGBA;
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_BGRA: return PixelFormat::kBGRA;
    default: return std::nullopt;
  }
}

FrameImager::~FrameImager() {
  if (converter_ != nullptr) gst_video_converter_free(converter_);
}

cv::Mat FrameImager::view(const GstVideoFrame& frame, PixelFormat* format) {
  const GstVideoInfo& info = frame.info;
  if (const auto packed = packed_pixel_format(GST_VIDEO_INFO_FORMAT(&info))) {
    *format = *packed;
    return cv::Mat(GST_VIDEO_INFO_HEIGHT(&info), GST_VIDEO_INFO_WIDTH(&info),
                   CV_8UC(channel_count(*packed)), GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
                   GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0));
  }

  // YUV: one conversion to packed BGR. GstVideoConverter handles every YUV layout, odd sizes
  // and the colorimetry from the caps, which cv::cvtColor would need one case each for.
  if (converter_ == nullptr || !gst_video_info_is_equal(&converter_input_, &info)) {
    if (converter_ != nullptr) gst_video_converter_free(converter_);
    gst_video_info_set_format(&converter_output_, GST_VIDEO_FORMAT_BGR, GST_VIDEO_INFO_WIDTH(&info),
                              GST_VIDEO_INFO_HEIGHT(&info));
    // The converter insists on matching rates and aspect, which do not matter here.
    GST_VIDEO_INFO_FPS_N(&converter_output_) = GST_VIDEO_INFO_FPS_N(&info);
    GST_VIDEO_INFO_FPS_D(&converter_output_) = GST_VIDEO_INFO_FPS_D(&info);
    GST_VIDEO_INFO_PAR_N(&converter_output_) = GST_VIDEO_INFO_PAR_N(&info);
    GST_VIDEO_INFO_PAR_D(&converter_output_) = GST_VIDEO_INFO_PAR_D(&info);
    GST_VIDEO_INFO_INTERLACE_MODE(&converter_output_) = GST_VIDEO_INFO_INTERLACE_MODE(&info);
    converter_ = gst_video_converter_new(const_cast<GstVideoInfo*>(&info), &converter_output_, nullptr);
    if (converter_ == nullptr) throw std::runtime_error("cannot convert this video format to BGR");
    converter_input_ = info;
    bgr_.resize(GST_VIDEO_INFO_SIZE(&converter_output_));
  }
  GstVideoFrame output{};
  output.info = converter_output_;
  output.data[0] = bgr_.data();
  gst_video_converter_frame(converter_, &frame, &output);
  *format = PixelFormat::kBGR;
  return cv::Mat(GST_VIDEO_INFO_HEIGHT(&info), GST_VIDEO_INFO_WIDTH(&info), CV_8UC3, bgr_.data(),
                 GST_VIDEO_INFO_PLANE_STRIDE(&converter_output_, 0));
}

FaceLandmarks landmarks_from_box(const cv::Rect2f& box) {
  const FaceLandmarks unit = arcface_template(cv::Size(kArcFaceCropSize, kArcFaceCropSize));
  FaceLandmarks points;
  for (std::size_t i = 0; i < points.size(); ++i) {
    points[i] = {box.x + unit[i].x / kArcFaceCropSize * box.width,
                 box.y + unit[i].y / kArcFaceCropSize * box.height};
  }
  return points;
}

std::vector<PendingFace> align_faces(const cv::Mat& image, PixelFormat format,
                                     const std::vector<FaceRecord>& faces, cv::Size crop_size) {
  std::vector<PendingFace> aligned;
  aligned.reserve(faces.size());
  for (std::size_t i = 0; i < faces.size(); ++i) {
    PendingFace face;
    face.key = i;
    face.pixels.resize(static_cast<std::size_t>(crop_size.area()) * 3);
    align_face_to_rgb_float(image, format, faces[i].landmarks, crop_size, face.pixels.data());
    aligned.push_back(std::move(face));
  }
  return aligned;
}

cv::Mat crop_to_bgr(const std::vector<float>& rgb, cv::Size size) {
  cv::Mat rgb8, bgr;
  cv::Mat(size, CV_32FC3, const_cast<float*>(rgb.data())).convertTo(rgb8, CV_8UC3, 255.0);
  cv::cvtColor(rgb8, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

cv::Mat bgr_copy(const cv::Mat& image, PixelFormat format) {
  cv::Mat bgr;
  switch (format) {
    case PixelFormat::kRGB: cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR); break;
    case PixelFormat::kRGBA: cv::cvtColor(image, bgr, cv::COLOR_RGBA2BGR); break;
    case PixelFormat::kBGRA: cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR); break;
    case PixelFormat::kGray: cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR); break;
    case PixelFormat::kBGR: bgr = image.clone(); break;
  }
  if (bgr.empty()) throw std::runtime_error("cannot convert the frame to BGR");
  return bgr;
}

}  // namespace faceqan::gst
