// RetinaFace face detection with OpenCV dnn: any 8-bit image in, boxes, confidences and five
// landmarks out, in the image's own pixel coordinates.
#pragma once

#include "faceqan/detector_types.h"
#include "faceqan/retinaface_description.h"

#include <memory>
#include <string>
#include <vector>

namespace faceqan {

struct DetectedFace {
  // x, y, width, height in the input image's pixels (continuous coordinates: pixel (i, j)
  // covers [i, i+1) x [j, j+1)). Not clipped: a face cut by the frame edge can extend past it.
  cv::Rect2f box;
  float confidence = 0.0f;
  FaceLandmarks landmarks{};
};

struct DetectorSettings {
  static constexpr float kDefaultConfidenceThreshold = 0.6f;
  static constexpr float kDefaultNmsThreshold = 0.4f;

  // Faces scoring below this are dropped (0..1).
  float confidence_threshold = kDefaultConfidenceThreshold;
  // Overlap (intersection over union) above which the weaker of two boxes is dropped (0..1].
  float nms_threshold = kDefaultNmsThreshold;
  // Faces whose box is narrower or shorter than this many image pixels are dropped; 0 keeps all.
  float min_face_size = 0.0f;
  // Keep at most this many faces, the largest boxes; 0 means no limit.
  int max_faces = 0;
  // Detect each frame at the smallest input variant shaped like it (see find_input_variants and
  // choose_input_size): no work spent on letterbox padding, and a smaller input when
  // min_face_size allows. False: always the full-size model, letterboxed (as before variants).
  bool fit_input_to_frame = true;

  // Throws DetectorError for values out of range.
  void validate() const;
};

// A fixed-size export of the same network at another input size (models/prepare.sh derives
// them with models/derive_detector_sizes.py).
struct DetectorInputVariant {
  cv::Size input_size;
  std::string model_path;
};

// The variants beside a model: for ".../retinaface_mnet025_640.onnx", every
// ".../retinaface_mnet025_<W>x<H>.onnx" in the same folder, ordered by width, then height.
std::vector<DetectorInputVariant> find_input_variants(const std::string& onnx_path);

// One loaded RetinaFace network (and the variants of it at other input sizes). detect() reuses internal buffers, so one instance must not be
// used from two threads at once; create one detector per thread instead.
class RetinaFaceDetector {
 public:
  // Images with a side shorter than this cannot hold a detectable face: detect() returns none.
  static constexpr int kMinimumImageSide = 8;

  // Loads the ONNX model and its description (the sidecar "<stem>.json" beside it, else the
  // built-in defaults for the shipped model), then runs it once on a blank input to check the
  // outputs against the description. Throws DetectorError naming the file on any failure.
  // The input variants beside it (find_input_variants) are loaded when a frame first needs one.
  explicit RetinaFaceDetector(const std::string& onnx_path, DetectorSettings settings = {});
  // A model described by the caller, with the variants the caller names (none by default).
  RetinaFaceDetector(const std::string& onnx_path, const RetinaFaceDescription& description,
                     DetectorSettings settings = {},
                     std::vector<DetectorInputVariant> variants = {});
  ~RetinaFaceDetector();
  RetinaFaceDetector(RetinaFaceDetector&&) noexcept;
  RetinaFaceDetector& operator=(RetinaFaceDetector&&) noexcept;
  RetinaFaceDetector(const RetinaFaceDetector&) = delete;
  RetinaFaceDetector& operator=(const RetinaFaceDetector&) = delete;

  // Detects faces in an 8-bit image of any size (letterboxed into the chosen network input).
  // Returns them largest box first. Throws DetectorError for an empty image, a non-8-bit image
  // or one whose channel count does not match `format`; an image smaller than
  // kMinimumImageSide gives an empty result.
  std::vector<DetectedFace> detect(const cv::Mat& image, PixelFormat format = PixelFormat::kBGR);

  // The input a frame of this size is detected at (choose_input_size over input_sizes(), or the
  // full-size input when settings().fit_input_to_frame is false).
  cv::Size input_size_for(cv::Size frame) const;
  // Loads the network for frames of this size now (a video's caps are known before its first
  // frame), so that the first frame is not delayed and a broken variant fails here. Returns its
  // input size. Throws DetectorError naming the file.
  cv::Size prepare(cv::Size frame);
  // The full-size input and every variant's.
  std::vector<cv::Size> input_sizes() const;

  const DetectorSettings& settings() const;
  void set_settings(const DetectorSettings& settings);
  const RetinaFaceDescription& description() const;
  const std::string& model_path() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceqan
