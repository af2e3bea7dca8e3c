// How a RetinaFace ONNX export is fed and decoded: input size, pixel normalisation, prior boxes
// and output names. Read from a JSON sidecar "<model stem>.json" beside the model, or the
// built-in defaults that match the shipped retinaface_mnet025_640.onnx.
#pragma once

#include "faceqan/detector_types.h"

#include <string>
#include <vector>

namespace faceqan {

struct RetinaFaceDescription {
  // Fixed network input, [width, height] in the JSON ("input_size"). OpenCV 4.6 dnn cannot run
  // dynamic shapes, so each export has one size.
  cv::Size input_size{640, 640};
  // Channel order the network expects ("channel_order": "BGR" or "RGB").
  bool input_is_rgb = false;
  // Per-channel mean and divisor, in the network's channel order: value = (pixel - mean) / std.
  std::array<float, 3> mean{104.0f, 117.0f, 123.0f};
  std::array<float, 3> std{1.0f, 1.0f, 1.0f};
  // Anchor sizes (pixels, square) per feature-map stride; one anchor per size and cell.
  std::vector<std::vector<float>> min_sizes{{16.0f, 32.0f}, {64.0f, 128.0f}, {256.0f, 512.0f}};
  std::vector<int> steps{8, 16, 32};
  // Box-centre and box-size variances of the SSD-style encoding.
  std::array<float, 2> variances{0.1f, 0.2f};
  // Graph input name ("input"); empty means the network's first input.
  std::string input_name;
  // Output tensors, read by name ("outputs": {"boxes", "scores", "landmarks"}).
  std::string boxes_output = "output0";      // [1, N, 4] encoded boxes
  std::string scores_output = "output1";     // [1, N, 2] softmaxed; column 1 is "face"
  std::string landmarks_output = "output2";  // [1, N, 10] encoded landmarks

  // Throws DetectorError describing the first inconsistency (sizes, counts, signs).
  void validate() const;
};

// The description of the shipped retinaface_mnet025_640.onnx.
RetinaFaceDescription default_retinaface_description();

// "<dir>/<stem>.json" for "<dir>/<stem>.onnx".
std::string description_path_for_model(const std::string& onnx_path);

// Reads a description JSON with cv::FileStorage. Keys that are absent keep their defaults;
// present keys are checked. Throws DetectorError naming the file on any problem.
RetinaFaceDescription read_retinaface_description(const std::string& json_path);

// The sidecar beside the model if it exists, else the built-in defaults.
RetinaFaceDescription retinaface_description_for_model(const std::string& onnx_path);

// The description as JSON text (the same keys read_retinaface_description understands).
std::string retinaface_description_json(const RetinaFaceDescription& description);

// Writes retinaface_description_json() to a file; throws DetectorError if it cannot.
void write_retinaface_description(const RetinaFaceDescription& description,
                                  const std::string& json_path);

}  // namespace faceqan
