#include "faceqan/face_detector.h"

#include "faceqan/detector_input_size.h"
#include "pixel_layout.h"
#include "retinaface_network.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <utility>

namespace fs = std::filesystem;

namespace faceqan {

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

std::vector<DetectorInputVariant> find_input_variants(const std::string& onnx_path) {
  // "retinaface_mnet025_640.onnx" -> siblings "retinaface_mnet025_<W>x<H>.onnx".
  const fs::path model(onnx_path);
  const std::string stem =
      std::regex_replace(model.stem().string(), std::regex("_[0-9]+$"), std::string());
  const std::regex variant_name(std::regex_replace(stem, std::regex(R"([.^$|()\[\]{}*+?\\])"),
                                                   std::string(R"(\$&)")) +
                                "_([0-9]+)x([0-9]+)\\.onnx");
  std::vector<DetectorInputVariant> variants;
  std::error_code error;
  const fs::path folder = model.has_parent_path() ? model.parent_path() : fs::path(".");
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    std::smatch match;
    if (!std::regex_match(name, match, variant_name) || !it->is_regular_file(error)) continue;
    variants.push_back({cv::Size(std::stoi(match[1]), std::stoi(match[2])), it->path().string()});
  }
  std::sort(variants.begin(), variants.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.input_size.width, a.input_size.height) <
           std::make_pair(b.input_size.width, b.input_size.height);
  });
  return variants;
}

class RetinaFaceDetector::Impl {
 public:
  Impl(const std::string& onnx_path, const RetinaFaceDescription& description,
       std::string description_origin, const DetectorSettings& settings,
       std::vector<DetectorInputVariant> variants)
      : settings_(settings),
        full_(std::make_unique<detail::RetinaFaceNetwork>(onnx_path, description,
                                                          std::move(description_origin))),
        variants_(std::move(variants)) {
    for (const DetectorInputVariant& variant : variants_) {
      if (variant.input_size == description.input_size) continue;
      available_.push_back(variant.input_size);
    }
    available_.push_back(description.input_size);
  }

  detail::RetinaFaceNetwork& network_for(cv::Size frame) {
    if (!settings_.fit_input_to_frame || available_.size() == 1) return *full_;
    const cv::Size input = choose_input_size(available_, frame, full_->description().input_size,
                                             settings_.min_face_size);
    if (input == full_->description().input_size) return *full_;
    auto loaded = loaded_.find(key(input));
    if (loaded != loaded_.end()) return *loaded->second;
    const auto variant = std::find_if(variants_.begin(), variants_.end(),
                                      [&](const auto& v) { return v.input_size == input; });
    // A variant's own sidecar if it has one, else the full model's description at its size.
    const std::string sidecar = description_path_for_model(variant->model_path);
    RetinaFaceDescription description = full_->description();
    description.input_size = input;
    std::string origin = "the full-size model's description at " + std::to_string(input.width) +
                         "x" + std::to_string(input.height);
    if (fs::exists(sidecar)) {
      description = read_retinaface_description(sidecar);
      origin = sidecar;
    }
    auto network = std::make_unique<detail::RetinaFaceNetwork>(variant->model_path, description,
                                                               std::move(origin));
    return *loaded_.emplace(key(input), std::move(network)).first->second;
  }

  static std::pair<int, int> key(cv::Size size) { return {size.width, size.height}; }

  DetectorSettings settings_;
  std::unique_ptr<detail::RetinaFaceNetwork> full_;
  std::vector<DetectorInputVariant> variants_;
  std::vector<cv::Size> available_;  // the variants' sizes and the full model's
  std::map<std::pair<int, int>, std::unique_ptr<detail::RetinaFaceNetwork>> loaded_;
};

RetinaFaceDetector::RetinaFaceDetector(const std::string& onnx_path, DetectorSettings settings) {
  // Cheap checks first, so a bad setting is reported without loading the model.
  settings.validate();
  const std::string sidecar = description_path_for_model(onnx_path);
  const bool has_sidecar = fs::exists(sidecar);
  impl_ = std::make_unique<Impl>(onnx_path, retinaface_description_for_model(onnx_path),
                                 has_sidecar ? sidecar : "built-in defaults; no " + sidecar,
                                 settings, find_input_variants(onnx_path));
}

RetinaFaceDetector::RetinaFaceDetector(const std::string& onnx_path,
                                       const RetinaFaceDescription& description,
                                       DetectorSettings settings,
                                       std::vector<DetectorInputVariant> variants) {
  settings.validate();
  description.validate();
  impl_ = std::make_unique<Impl>(onnx_path, description, "passed to the constructor", settings,
                                 std::move(variants));
}

RetinaFaceDetector::~RetinaFaceDetector() = default;
RetinaFaceDetector::RetinaFaceDetector(RetinaFaceDetector&&) noexcept = default;
RetinaFaceDetector& RetinaFaceDetector::operator=(RetinaFaceDetector&&) noexcept = default;

std::vector<DetectedFace> RetinaFaceDetector::detect(const cv::Mat& image, PixelFormat format) {
  detail::require_8bit_image(image, format, "RetinaFaceDetector::detect");
  if (std::min(image.cols, image.rows) < kMinimumImageSide) {
    return {};
  }
  return impl_->network_for(image.size()).detect(image, format, impl_->settings_);
}

cv::Size RetinaFaceDetector::prepare(cv::Size frame) {
  return impl_->network_for(frame).description().input_size;
}

cv::Size RetinaFaceDetector::input_size_for(cv::Size frame) const {
  if (!impl_->settings_.fit_input_to_frame) return impl_->full_->description().input_size;
  return choose_input_size(impl_->available_, frame, impl_->full_->description().input_size,
                           impl_->settings_.min_face_size);
}

std::vector<cv::Size> RetinaFaceDetector::input_sizes() const { return impl_->available_; }

const DetectorSettings& RetinaFaceDetector::settings() const { return impl_->settings_; }

void RetinaFaceDetector::set_settings(const DetectorSettings& settings) {
  settings.validate();
  impl_->settings_ = settings;
}

const RetinaFaceDescription& RetinaFaceDetector::description() const {
  return impl_->full_->description();
}

const std::string& RetinaFaceDetector::model_path() const { return impl_->full_->model_path(); }

}  // namespace faceqan
