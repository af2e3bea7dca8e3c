// `faceqan eval`: Error-versus-Reject Characteristic of quality scores on a verification data set
// (docs/EVALUATION.md).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "detect_command.h"

namespace faceqan::cli {

struct EvalOptions {
  std::string dataset;   // identity-folder root or pair list
  std::string root;      // image root for a pair list (default: the list's folder)
  std::vector<std::string> scores;  // [NAME=]FILE, the first is the main quality score
  bool score = false;        // compute FaceQAN on the fly with the quality model
  bool score_cheap = false;  // also compute the cheap FaceQAN baseline (l 2, k 4) on the fly
  bool baselines = true;
  std::string recognizer;          // evaluation (verification) model
  std::string quality_recognizer;  // quality model (FaceQAN, embedding norm)
  double epsilon = 0.001;
  int iterations = 5;
  int samples = 10;
  int exponent = 5;
  std::int64_t seed = 0;  // set from faceqan::kDefaultSeed
  std::uint64_t pair_seed = 6;  // impostor sampling and the random baseline
  size_t max_impostors = 0;     // 0: all
  std::vector<double> fmrs{1e-3, 1e-2};
  double target_fnmr = 0.01;
  double calibration_fmr = 1e-3;
  std::string device = "auto";
  int batch_size = 8;
  int threads = 0;
  std::string output_json;
  std::string plot;
  std::string calibration;  // calibration JSON (table, recommended threshold, 0-100 mapping)
  std::string title;
  DetectOptions detection;
};

void add_eval_command(CLI::App& app, EvalOptions& options);
// Returns the exit status: 0, or 1 if some images could not be used (they are left out).
int run_eval(const EvalOptions& options);

}  // namespace faceqan::cli
