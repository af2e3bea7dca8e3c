// `faceqan score`: FaceQAN quality of aligned faces or of every face in whole photos.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "detect_command.h"

namespace faceqan::cli {

struct ScoreOptions {
  std::vector<std::string> images;
  std::string recognizer;  // empty: the default model on the model path
  double epsilon = 0.001;
  int iterations = 5;
  int samples = 10;
  int exponent = 5;
  std::int64_t seed = 0;  // set from faceqan::kDefaultSeed
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
