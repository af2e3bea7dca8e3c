#include "detect_command.h"

#include <opencv2/imgcodecs.hpp>

#include <filesystem>

#include "face_extraction.h"
#include "faceqan/face_alignment.h"
#include "faceqan/model_paths.h"
#include "progress.h"
#include "score_results.h"

namespace faceqan::cli {

void add_detector_options(CLI::App& command, DetectOptions& options) {
  command.add_option("--detector", options.detector,
                     "RetinaFace ONNX model; default: " + std::string(kDefaultDetectionModel) +
                         " on the model path");
  command.add_option("--threshold", options.threshold, "Detection confidence threshold")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  command.add_option("--min-face-size", options.min_face_size, "Smallest face side in pixels (0: any)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command.add_option("--max-faces", options.max_faces, "Most faces per image, largest first (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

void add_detect_command(CLI::App& app, DetectOptions& options) {
  CLI::App* command = app.add_subcommand("detect", "Detect faces and their five landmarks with RetinaFace");
  command->add_option("images", options.images, "Image files")->required();
  add_detector_options(*command, options);
  command->add_option("--save-crops", options.save_crops,
                      "Write each face's aligned 112x112 crop to DIR/STEM_N.png");
  command->add_option("-o,--output", options.output, "Write results to FILE (.json or .csv); default: JSON on stdout");
  command->add_option("--threads", options.threads, "CPU threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

int run_detect(const DetectOptions& options) {
  const std::string format = format_for_path(options.output);
  if (options.threads > 0) cv::setNumThreads(options.threads);
  if (!options.save_crops.empty()) std::filesystem::create_directories(options.save_crops);
  FaceExtractor extractor(options, kArcFaceCrop);

  std::vector<ImageReport> reports(options.images.size());
  bool any_failed = false;
  Progress progress("detecting", options.images.size());
  for (size_t i = 0; i < options.images.size(); ++i) {
    ImageReport& report = reports[i];
    try {
      const cv::Mat bgr = read_reported_image(report, options.images[i]);
      const std::vector<ExtractedFace> faces = extractor.extract(bgr, false);
      const std::string stem = std::filesystem::path(report.image).stem().string();
      for (size_t f = 0; f < faces.size(); ++f) {
        report.faces.push_back(detection_report(faces[f]));
        if (!options.save_crops.empty()) {
          const std::string crop = options.save_crops + "/" + stem + "_" + std::to_string(f) + ".png";
          if (!cv::imwrite(crop, faces[f].aligned_bgr)) throw std::runtime_error("cannot write " + crop);
        }
      }
    } catch (const std::exception& error) {
      report.error = error.what();
      report.faces.clear();
      any_failed = true;
    }
    progress.update(i + 1);
  }
  write_reports(reports, format, options.output, true);
  return any_failed ? 1 : 0;
}

}  // namespace faceqan::cli
