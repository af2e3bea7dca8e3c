// `faceqan score`: FaceQAN quality of aligned faces or of every face in whole photos.
#pragma once

#include "detect_command.h"  // CLI11, std::string, std::vector and the detector's options
#include "faceqan/quality.h"  // FaceQanSettings

namespace faceqan::cli {

struct ScoreOptions {
  std::vector<std::string> images;
  std::string recognizer;  // empty: the default model on the model path
  FaceQanSettings faceqan;  // epsilon, -l, -k, -p, --seed; the precision is parsed from `precision`
  std::string device = "auto";
  std::string precision = "fp32";  // fp32|tf32|fp16|bf16|auto
  std::string batch_size = "auto";  // auto (faceqan::auto_batch_size) or a whole number
  int threads = 0;
  std::string output;
  bool detect = false;  // detect and align even images already at the model's input size
  DetectOptions detection;
};

void add_score_command(CLI::App& app, ScoreOptions& options);
// Returns the process exit status: 0, or 1 if any image failed.
int run_score(const ScoreOptions& options);

}  // namespace faceqan::cli
