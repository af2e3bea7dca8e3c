#include "faceqan/face_detector.h"

#include "letterbox.h"
#include "nms.h"
#include "pixel_layout.h"
#include "priors.h"

#include <opencv2/dnn.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

namespace faceqan {
namespace {

constexpr int kBoxValues = 4;
constexpr int kScoreValues = 2;
constexpr int kFaceScoreColumn = 1;  // column 0 is "background"
constexpr int kLandmarkValues = 10;
// Bounds the quadratic NMS on pathological inputs; a real frame has far fewer candidates.
constexpr size_t kMaxCandidatesBeforeNms = 5000;

cv::dnn::Net load_network(const std::string& onnx_path) {
  if (!std::filesystem::is_regular_file(onnx_path)) {
    throw DetectorError("RetinaFace model not found: " + onnx_path);
  }
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(onnx_path);
  } catch (const cv::Exception& error) {
    throw DetectorError("cannot load RetinaFace model " + onnx_path + ": " + error.what());
  }
  if (net.empty()) {
    throw DetectorError("cannot load RetinaFace model " + onnx_path + ": no layers");
  }
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

// The output holds rows x columns contiguous floats ([1, rows, columns] from the export).
bool has_shape(const cv::Mat& output, size_t rows, int columns) {
  return output.type() == CV_32F && output.isContinuous() &&
         output.total() == rows * static_cast<size_t>(columns);
}

}  // namespace

void DetectorSettings::validate() const {
  if (!(confidence_threshold >= 0.0f && confidence_threshold <= 1.0f)) {
    throw DetectorError("confidence_threshold must be in [0, 1]");
  }
  if (!(nms_threshold > 0.0f && nms_threshold <= 1.0f)) {
    throw DetectorError("nms_threshold must be in (0, 1]");
  }
  if (!(min_face_size >= 0.0f)) {
    throw DetectorError("min_face_size must not be negative");
  }
  if (max_faces < 0) {
    throw DetectorError("max_faces must not be negative");
  }
}

class RetinaFaceDetector::Impl {
 public:
  Impl(const std::string& onnx_path, const RetinaFaceDescription& description,
       std::string description_origin, const DetectorSettings& settings)
      : model_path_(onnx_path),
        description_(description),
        description_origin_(std::move(description_origin)),
        settings_(settings),
        net_(load_network(onnx_path)),
        priors_(detail::make_priors(description)),
        output_names_{description.boxes_output, description.scores_output,
                      description.landmarks_output} {
    for (const std::string& name : output_names_) {
      if (net_.getLayerId(name) < 0) {
        throw DetectorError("RetinaFace model " + model_path_ + " has no output named '" + name +
                            "' (description: " + description_origin_ + ")");
      }
    }
    // One run on a blank input checks the input name and output shapes now rather than on the
    // first frame, and makes dnn allocate its buffers.
    const int shape[] = {1, 3, description_.input_size.height, description_.input_size.width};
    blob_ = cv::Mat(4, shape, CV_32F, cv::Scalar(0));
    run_network();
  }

  std::vector<DetectedFace> detect(const cv::Mat& image, PixelFormat format) {
    detail::require_8bit_image(image, format, "RetinaFaceDetector::detect");
    if (std::min(image.cols, image.rows) < kMinimumImageSide) {
      return {};
    }
    const detail::Letterbox letterbox =
        detail::make_input_blob(image, format, description_, resized_, blob_);
    run_network();
    return decode(letterbox);
  }

  std::string model_path_;
  RetinaFaceDescription description_;
  std::string description_origin_;  // for error messages: the sidecar, defaults or the caller
  DetectorSettings settings_;

 private:
  void run_network() {
    try {
      net_.setInput(blob_, description_.input_name);
      net_.forward(outputs_, output_names_);
    } catch (const cv::Exception& error) {
      throw DetectorError("RetinaFace model " + model_path_ + " failed to run on a " +
                          std::to_string(description_.input_size.width) + "x" +
                          std::to_string(description_.input_size.height) +
                          " input; does its description (" + description_origin_ +
                          ") match the export? " + error.what());
    }
    const int columns[] = {kBoxValues, kScoreValues, kLandmarkValues};
    for (size_t i = 0; i < outputs_.size(); ++i) {
      if (!has_shape(outputs_[i], priors_.size(), columns[i])) {
        throw DetectorError("RetinaFace model " + model_path_ + ": output '" + output_names_[i] +
                            "' has " + std::to_string(outputs_[i].total()) + " values, expected " +
                            std::to_string(priors_.size()) + " x " + std::to_string(columns[i]) +
                            " (one row per prior); does its description (" +
                            description_origin_ + ") match the export's input size?");
      }
    }
  }

  std::vector<DetectedFace> decode(const detail::Letterbox& letterbox) const {
    const float* encoded_boxes = outputs_[0].ptr<float>();
    const float* scores = outputs_[1].ptr<float>();
    const float* encoded_landmarks = outputs_[2].ptr<float>();

    std::vector<size_t> candidates;
    for (size_t i = 0; i < priors_.size(); ++i) {
      if (scores[i * kScoreValues + kFaceScoreColumn] >= settings_.confidence_threshold) {
        candidates.push_back(i);
      }
    }
    const auto score_of = [&](size_t i) { return scores[i * kScoreValues + kFaceScoreColumn]; };
    if (candidates.size() > kMaxCandidatesBeforeNms) {
      std::partial_sort(candidates.begin(), candidates.begin() + kMaxCandidatesBeforeNms,
                        candidates.end(),
                        [&](size_t a, size_t b) { return score_of(a) > score_of(b); });
      candidates.resize(kMaxCandidatesBeforeNms);
    }

    // Boxes in network-input pixels: the SSD encoding of offsets relative to each prior.
    const float centre_variance = description_.variances[0];
    const float size_variance = description_.variances[1];
    std::vector<cv::Rect2f> boxes;
    std::vector<float> box_scores;
    boxes.reserve(candidates.size());
    box_scores.reserve(candidates.size());
    for (size_t i : candidates) {
      const detail::Prior& prior = priors_[i];
      const float* code = encoded_boxes + i * kBoxValues;
      const float centre_x = prior.centre_x + code[0] * centre_variance * prior.size;
      const float centre_y = prior.centre_y + code[1] * centre_variance * prior.size;
      const float width = prior.size * std::exp(code[2] * size_variance);
      const float height = prior.size * std::exp(code[3] * size_variance);
      boxes.emplace_back(centre_x - width / 2, centre_y - height / 2, width, height);
      box_scores.push_back(score_of(i));
    }

    std::vector<DetectedFace> faces;
    for (size_t k : detail::non_maximum_suppression(boxes, box_scores, settings_.nms_threshold)) {
      const size_t i = candidates[k];
      const detail::Prior& prior = priors_[i];
      DetectedFace face;
      const cv::Point2f top_left = letterbox.to_image(boxes[k].tl());
      const cv::Point2f bottom_right = letterbox.to_image(boxes[k].br());
      face.box = cv::Rect2f(top_left, bottom_right);
      if (std::min(face.box.width, face.box.height) < settings_.min_face_size) {
        continue;
      }
      face.confidence = box_scores[k];
      const float* code = encoded_landmarks + i * kLandmarkValues;
      for (size_t p = 0; p < face.landmarks.size(); ++p) {
        const cv::Point2f in_input(prior.centre_x + code[2 * p] * centre_variance * prior.size,
                                   prior.centre_y + code[2 * p + 1] * centre_variance * prior.size);
        face.landmarks[p] = letterbox.to_image(in_input);
      }
      faces.push_back(face);
    }

    // Largest first, so max_faces keeps the most prominent faces; NMS left equal-area faces in
    // confidence order and the stable sort keeps it.
    std::stable_sort(faces.begin(), faces.end(), [](const DetectedFace& a, const DetectedFace& b) {
      return a.box.area() > b.box.area();
    });
    if (settings_.max_faces > 0 && faces.size() > static_cast<size_t>(settings_.max_faces)) {
      faces.resize(static_cast<size_t>(settings_.max_faces));
    }
    return faces;
  }

  cv::dnn::Net net_;
  std::vector<detail::Prior> priors_;
  std::vector<std::string> output_names_;
  // Reused between frames so steady-state detection allocates little.
  cv::Mat resized_;
  cv::Mat blob_;
  std::vector<cv::Mat> outputs_;
};

RetinaFaceDetector::RetinaFaceDetector(const std::string& onnx_path, DetectorSettings settings) {
  // Cheap checks first, so a bad setting is reported without loading the model.
  settings.validate();
  const std::string sidecar = description_path_for_model(onnx_path);
  const bool has_sidecar = std::filesystem::exists(sidecar);
  impl_ = std::make_unique<Impl>(onnx_path, retinaface_description_for_model(onnx_path),
                                 has_sidecar ? sidecar : "built-in defaults; no " + sidecar,
                                 settings);
}

RetinaFaceDetector::RetinaFaceDetector(const std::string& onnx_path,
                                       const RetinaFaceDescription& description,
                                       DetectorSettings settings) {
  settings.validate();
  description.validate();
  impl_ = std::make_unique<Impl>(onnx_path, description, "passed to the constructor", settings);
}

RetinaFaceDetector::~RetinaFaceDetector() = default;
RetinaFaceDetector::RetinaFaceDetector(RetinaFaceDetector&&) noexcept = default;
RetinaFaceDetector& RetinaFaceDetector::operator=(RetinaFaceDetector&&) noexcept = default;

std::vector<DetectedFace> RetinaFaceDetector::detect(const cv::Mat& image, PixelFormat format) {
  return impl_->detect(image, format);
}

const DetectorSettings& RetinaFaceDetector::settings() const { return impl_->settings_; }

void RetinaFaceDetector::set_settings(const DetectorSettings& settings) {
  settings.validate();
  impl_->settings_ = settings;
}

const RetinaFaceDescription& RetinaFaceDetector::description() const {
  return impl_->description_;
}

const std::string& RetinaFaceDetector::model_path() const { return impl_->model_path_; }

}  // namespace faceqan
