// `faceqan detect`: RetinaFace faces and landmarks of photos, optionally saving aligned crops.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace faceqan::cli {

struct DetectOptions {
  std::vector<std::string> images;
  std::string detector;  // empty: the default model on the model path
  float threshold = 0.6f;
  float min_face_size = 0.0f;
  int max_faces = 0;
  std::string save_crops;  // folder for aligned crops STEM_N.png
  std::string output;
  int threads = 0;
};

// Adds the detector's own options (--detector, --threshold, --min-face-size, --max-faces) to a
// subcommand; `score` shares them.
void add_detector_options(CLI::App& command, DetectOptions& options);
void add_detect_command(CLI::App& app, DetectOptions& options);
int run_detect(const DetectOptions& options);

}  // namespace faceqan::cli
