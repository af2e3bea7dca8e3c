// Helpers for the detector tests: model locations, one shared detector, a recognition network
// run with cv::dnn (so these tests do not depend on the quality library) and verification maths.
#pragma once

#include "faceqan/face_detector.h"

#include <memory>
#include <string>
#include <vector>

namespace faceqan::test {

// The RetinaFace and recognition ONNX files. Read from shared/models for now; switching to the
// prepared model folder is a change here only.
std::string detector_model_path();
std::string recognition_model_path();

// One detector with default settings for the whole test program (loading costs ~0.1 s).
RetinaFaceDetector& shared_detector();

// cv::imread in BGR; the calling test fails naming the file when it cannot be decoded.
cv::Mat read_bgr(const std::string& path);

// Extension-less name relative to data_dir(), for messages ("groups/bbt1").
std::string short_name(const std::string& path);

// MobileFaceNet (mobilefacenet512_faceplugin.onnx): RGB 112x112, (x - 127) / 128.
class FaceEmbedder {
 public:
  FaceEmbedder();
  // An already aligned 112x112 8-bit BGR face.
  std::vector<float> embed_bgr(const cv::Mat& aligned_bgr);
  // An aligned 112x112 RGB float [0, 1] face, as align_face_to_rgb_float writes it.
  std::vector<float> embed_rgb_float(const float* aligned_rgb);
  enum class Pick { kLargest, kMostConfident };
  // Detects faces in a BGR photo, aligns the largest (the detector's first) or the most
  // confident one and embeds it; empty if none is found.
  std::vector<float> embed_face(const cv::Mat& photo_bgr, Pick pick = Pick::kLargest);

 private:
  std::vector<float> run(const cv::Mat& blob);
  struct Network;  // keeps cv::dnn out of this header
  std::shared_ptr<Network> network_;
};

double cosine_similarity(const std::vector<float>& a, const std::vector<float>& b);

// Probability that a random same-person pair scores above a random different-person pair
// (ties count half): 1.0 means every genuine pair beats every impostor pair.
double verification_auc(const std::vector<double>& same, const std::vector<double>& different);

}  // namespace faceqan::test
