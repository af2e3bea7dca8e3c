#include "detector_test_support.h"

#include "faceqan/face_alignment.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace faceqan::test {

std::string detector_model_path() {
  return model_file("detection/retinaface_mnet025_640.onnx");
}

std::string recognition_model_path() {
  return model_file("recognition/mobilefacenet512_faceplugin.onnx");
}

RetinaFaceDetector& shared_detector() {
  static RetinaFaceDetector detector(detector_model_path());
  return detector;
}

cv::Mat read_bgr(const std::string& path) {
  cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
  if (image.empty()) {
    ADD_FAILURE() << "cannot decode image " << path;
  }
  return image;
}

std::string short_name(const std::string& path) {
  const std::filesystem::path relative =
      std::filesystem::path(path).lexically_relative(data_dir());
  return (relative.parent_path() / relative.stem()).string();
}

struct FaceEmbedder::Network {
  cv::dnn::Net net;
};

FaceEmbedder::FaceEmbedder() : network_(std::make_shared<Network>()) {
  network_->net = cv::dnn::readNetFromONNX(recognition_model_path());
  network_->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  network_->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
}

std::vector<float> FaceEmbedder::run(const cv::Mat& blob) {
  network_->net.setInput(blob);
  const cv::Mat output = network_->net.forward();
  return std::vector<float>(output.ptr<float>(), output.ptr<float>() + output.total());
}

std::vector<float> FaceEmbedder::embed_bgr(const cv::Mat& aligned_bgr) {
  // (x - 127) / 128 in RGB order.
  return run(cv::dnn::blobFromImage(aligned_bgr, 1.0 / 128.0, cv::Size(), cv::Scalar::all(127.0),
                                    /*swapRB=*/true, /*crop=*/false));
}

std::vector<float> FaceEmbedder::embed_rgb_float(const float* aligned_rgb) {
  // Input is x / 255: ((x / 255) - 127 / 255) * (255 / 128) == (x - 127) / 128.
  const cv::Mat rgb(kArcFaceCropSize, kArcFaceCropSize, CV_32FC3, const_cast<float*>(aligned_rgb));
  return run(cv::dnn::blobFromImage(rgb, 255.0 / 128.0, cv::Size(), cv::Scalar::all(127.0 / 255.0),
                                    /*swapRB=*/false, /*crop=*/false));
}

std::vector<float> FaceEmbedder::embed_face(const cv::Mat& photo_bgr, Pick pick) {
  const std::vector<DetectedFace> faces = shared_detector().detect(photo_bgr);
  if (faces.empty()) {
    return {};
  }
  const auto chosen =
      pick == Pick::kLargest
          ? faces.begin()
          : std::max_element(faces.begin(), faces.end(),
                             [](const DetectedFace& a, const DetectedFace& b) {
                               return a.confidence < b.confidence;
                             });
  std::vector<float> aligned(kArcFaceCrop.area() * 3);
  align_face_to_rgb_float(photo_bgr, PixelFormat::kBGR, chosen->landmarks, kArcFaceCrop,
                          aligned.data());
  return embed_rgb_float(aligned.data());
}

double cosine_similarity(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0.0;
  double norm_a = 0.0;
  double norm_b = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    dot += double(a[i]) * b[i];
    norm_a += double(a[i]) * a[i];
    norm_b += double(b[i]) * b[i];
  }
  return dot / std::sqrt(norm_a * norm_b + 1e-30);
}

double verification_auc(const std::vector<double>& same, const std::vector<double>& different) {
  if (same.empty() || different.empty()) {
    return 0.0;
  }
  double wins = 0.0;
  for (double genuine : same) {
    for (double impostor : different) {
      wins += genuine > impostor ? 1.0 : (genuine == impostor ? 0.5 : 0.0);
    }
  }
  return wins / (static_cast<double>(same.size()) * different.size());
}

}  // namespace faceqan::test
