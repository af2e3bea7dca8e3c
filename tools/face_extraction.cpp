#include "face_extraction.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include "faceqan/face_alignment.h"
#include "faceqan/face_detector.h"
#include "faceqan/model_paths.h"

namespace faceqan::cli {

struct FaceExtractor::Impl {
  RetinaFaceDetector detector;
  cv::Size crop_size;
};

FaceExtractor::FaceExtractor(const DetectOptions& options, cv::Size crop_size) {
  DetectorSettings settings;
  settings.confidence_threshold = options.threshold;
  settings.min_face_size = options.min_face_size;
  settings.max_faces = options.max_faces;
  settings.validate();
  const std::string path = find_model(options.detector.empty() ? kDefaultDetectionModel : options.detector);
  impl_ = std::make_unique<Impl>(Impl{RetinaFaceDetector(path, settings), crop_size});
}

FaceExtractor::~FaceExtractor() = default;

std::vector<ExtractedFace> FaceExtractor::extract(const cv::Mat& bgr, bool with_float) {
  std::vector<ExtractedFace> faces;
  for (const DetectedFace& detected : impl_->detector.detect(bgr, PixelFormat::kBGR)) {
    ExtractedFace face;
    face.box = {detected.box.x, detected.box.y, detected.box.width, detected.box.height};
    face.confidence = detected.confidence;
    for (size_t i = 0; i < 5; ++i) face.landmarks[i] = {detected.landmarks[i].x, detected.landmarks[i].y};
    if (with_float) {
      face.aligned_rgb.resize(static_cast<size_t>(impl_->crop_size.area()) * 3);
      align_face_to_rgb_float(bgr, PixelFormat::kBGR, detected.landmarks, impl_->crop_size,
                              face.aligned_rgb.data());
    } else {
      face.aligned_bgr = align_face(bgr, detected.landmarks, impl_->crop_size);
    }
    faces.push_back(std::move(face));
  }
  return faces;
}

FaceReport detection_report(const ExtractedFace& face) {
  FaceReport report;
  report.box = face.box;
  report.confidence = face.confidence;
  report.landmarks = face.landmarks;
  return report;
}

cv::Mat read_image(const std::string& path) {
  if (!std::filesystem::exists(path)) throw std::runtime_error("no such file");
  if (std::filesystem::is_directory(path)) throw std::runtime_error("is a directory");
  cv::Mat image;
  try {
    image = cv::imread(path, cv::IMREAD_COLOR);
  } catch (const cv::Exception& error) {
    throw std::runtime_error(std::string("cannot decode image: ") + error.what());
  }
  if (image.empty()) throw std::runtime_error("cannot read image (not an image file, or corrupt)");
  return image;
}

cv::Mat read_reported_image(ImageReport& report, const std::string& path) {
  report.image = path;
  cv::Mat image = read_image(path);
  report.width = image.cols;
  report.height = image.rows;
  return image;
}

std::vector<float> to_rgb_float(const cv::Mat& bgr) {
  std::vector<float> rgb(bgr.total() * 3);
  cv::Mat rgb8;
  cv::cvtColor(bgr, rgb8, cv::COLOR_BGR2RGB);
  cv::Mat destination(bgr.rows, bgr.cols, CV_32FC3, rgb.data());
  rgb8.convertTo(destination, CV_32FC3, 1.0 / 255.0);
  return rgb;
}

}  // namespace faceqan::cli
