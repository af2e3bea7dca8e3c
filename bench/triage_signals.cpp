// The signals the scoring budget could triage faces by, for every face of a scoring=every-face
// run: the cheap signals the budget uses today (stream/scoring_budget.h: eye distance, sharpness,
// detector confidence, frontality, and their product, the promise) and the embedding norm of one
// clean forward pass (issue 16, point 3). Reads the run's JSON-lines (json-location: each face's
// track, landmarks and FaceQAN quality) and the video it came from, decoded as the element got it
// (decodebin ! videoconvert, through OpenCV's GStreamer backend), re-aligns each face and writes
// one CSV row per face. bench/triage_signals.py says which signal finds each track's best face.
//
//   faceqan-bench-triage-signals EVERY_FACE.jsonl VIDEO [RECOGNIZER] > faces.csv
#include <nlohmann/json.hpp>
#include <opencv2/videoio.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "faceqan/face_alignment.h"
#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#include "faceqan/quality.h"
#include "faceqan/stream/scoring_budget.h"

namespace {

faceqan::FaceLandmarks landmarks_of(const nlohmann::json& values) {
  faceqan::FaceLandmarks landmarks{};
  for (std::size_t i = 0; i < landmarks.size(); ++i)
    landmarks[i] = cv::Point2f(values.at(2 * i).get<float>(), values.at(2 * i + 1).get<float>());
  return landmarks;
}

double norm_of(const std::vector<float>& embedding) {
  double sum = 0;
  for (float v : embedding) sum += double(v) * v;
  return std::sqrt(sum);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: faceqan-bench-triage-signals EVERY_FACE.jsonl VIDEO [RECOGNIZER]\n";
    return 2;
  }
  try {
    std::ifstream lines(argv[1]);
    if (!lines) throw std::runtime_error(std::string("cannot read ") + argv[1]);
    const std::string pipeline = std::string("filesrc location=\"") + argv[2] +
                                 "\" ! decodebin ! videoconvert ! video/x-raw,format=BGR ! appsink";
    cv::VideoCapture video(pipeline, cv::CAP_GSTREAMER);
    if (!video.isOpened()) throw std::runtime_error(std::string("cannot decode ") + argv[2]);
    const std::string recognizer = argc > 3 ? argv[3] : faceqan::find_model(faceqan::kDefaultRecognitionModel);
    faceqan::set_cpu_threads(0);
    const auto model = faceqan::load_recognition_model(recognizer, "cpu");
    const faceqan::ModelContract& contract = model->contract();
    const cv::Size crop(contract.input_width, contract.input_height);

    std::cout << "frame,track,quality,promise,eye_distance,sharpness,confidence,frontal,embedding_norm\n";
    std::string text;
    cv::Mat frame;
    std::vector<float> pixels(static_cast<std::size_t>(crop.area()) * 3);
    for (int index = 0; std::getline(lines, text); ++index) {
      if (text.empty()) continue;
      const nlohmann::json line = nlohmann::json::parse(text);
      if (!line.contains("objects")) continue;  // "best" events
      if (!video.read(frame)) throw std::runtime_error("the video ended before the JSON lines");
      for (const auto& object : line["objects"]) {
        const auto& q = object.at("faceqan");
        if (!q.value("scored", false) || !q.contains("quality")) continue;
        const faceqan::FaceLandmarks landmarks = landmarks_of(q.at("landmarks"));
        const double confidence = object.at("detection").at("confidence").get<double>();
        faceqan::align_face_to_rgb_float(frame, faceqan::PixelFormat::kBGR, landmarks, crop,
                                         pixels.data());
        const faceqan::CheapSignals s = faceqan::measure_face(pixels.data(), crop, landmarks, confidence);
        const faceqan::FaceImage face{pixels.data(), crop.width, crop.height, 0};
        const double norm = norm_of(model->embed({face}).at(0));
        std::cout << index << ',' << object.at("id").get<unsigned>() << ','
                  << q.at("quality").get<double>() << ',' << s.promise << ',' << s.eye_distance
                  << ',' << s.sharpness << ',' << s.confidence << ',' << s.frontal << ',' << norm
                  << '\n';
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "faceqan-bench-triage-signals: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
