#include "retinaface_network.h"

#include "nms.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

namespace faceqan::detail {
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

RetinaFaceNetwork::RetinaFaceNetwork(const std::string& onnx_path,
                                     const RetinaFaceDescription& description,
                                     std::string description_origin)
    : model_path_(onnx_path),
      description_(description),
      description_origin_(std::move(description_origin)),
      net_(load_network(onnx_path)),
      priors_(make_priors(description)),
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

std::vector<DetectedFace> RetinaFaceNetwork::detect(const cv::Mat& image, PixelFormat format,
                                                    const DetectorSettings& settings) {
  const Letterbox letterbox = make_input_blob(image, format, description_, resized_, blob_);
  run_network();
  return decode(letterbox, settings);
}

void RetinaFaceNetwork::run_network() {
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
                          " (one row per prior); does its description (" + description_origin_ +
                          ") match the export's input size?");
    }
  }
}

std::vector<DetectedFace> RetinaFaceNetwork::decode(const Letterbox& letterbox,
                                                    const DetectorSettings& settings) const {
  const float* encoded_boxes = outputs_[0].ptr<float>();
  const float* scores = outputs_[1].ptr<float>();
  const float* encoded_landmarks = outputs_[2].ptr<float>();

  std::vector<size_t> candidates;
  for (size_t i = 0; i < priors_.size(); ++i) {
    if (scores[i * kScoreValues + kFaceScoreColumn] >= settings.confidence_threshold) {
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
    const Prior& prior = priors_[i];
    const float* code = encoded_boxes + i * kBoxValues;
    const float centre_x = prior.centre_x + code[0] * centre_variance * prior.size;
    const float centre_y = prior.centre_y + code[1] * centre_variance * prior.size;
    const float width = prior.size * std::exp(code[2] * size_variance);
    const float height = prior.size * std::exp(code[3] * size_variance);
    boxes.emplace_back(centre_x - width / 2, centre_y - height / 2, width, height);
    box_scores.push_back(score_of(i));
  }

  std::vector<DetectedFace> faces;
  for (size_t k : non_maximum_suppression(boxes, box_scores, settings.nms_threshold)) {
    const size_t i = candidates[k];
    const Prior& prior = priors_[i];
    DetectedFace face;
    const cv::Point2f top_left = letterbox.to_image(boxes[k].tl());
    const cv::Point2f bottom_right = letterbox.to_image(boxes[k].br());
    face.box = cv::Rect2f(top_left, bottom_right);
    if (std::min(face.box.width, face.box.height) < settings.min_face_size) {
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
  if (settings.max_faces > 0 && faces.size() > static_cast<size_t>(settings.max_faces)) {
    faces.resize(static_cast<size_t>(settings.max_faces));
  }
  return faces;
}

}  // namespace faceqan::detail
