// Internal: one loaded RetinaFace export at its one fixed input size: letterbox, run, decode.
// RetinaFaceDetector (retinaface.cpp) holds one per input size it has and picks among them.
#pragma once

#include "faceqan/face_detector.h"
#include "letterbox.h"
#include "priors.h"

#include <opencv2/dnn.hpp>

#include <string>
#include <vector>

namespace faceqan::detail {

class RetinaFaceNetwork {
 public:
  // Loads the model and runs it once on a blank input, so that a description that does not
  // match the export fails here, naming both. Throws DetectorError.
  RetinaFaceNetwork(const std::string& onnx_path, const RetinaFaceDescription& description,
                    std::string description_origin);

  // Faces in `image` (already checked: 8-bit, matching `format`, not tiny).
  std::vector<DetectedFace> detect(const cv::Mat& image, PixelFormat format,
                                   const DetectorSettings& settings);

  const std::string& model_path() const { return model_path_; }
  const RetinaFaceDescription& description() const { return description_; }

 private:
  void run_network();
  std::vector<DetectedFace> decode(const Letterbox& letterbox,
                                   const DetectorSettings& settings) const;

  std::string model_path_;
  RetinaFaceDescription description_;
  std::string description_origin_;  // for error messages: the sidecar, defaults or the caller
  cv::dnn::Net net_;
  std::vector<Prior> priors_;
  std::vector<std::string> output_names_;
  // Reused between frames so steady-state detection allocates little.
  cv::Mat resized_;
  cv::Mat blob_;
  std::vector<cv::Mat> outputs_;
};

}  // namespace faceqan::detail
