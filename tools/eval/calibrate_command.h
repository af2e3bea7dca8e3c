// `faceqan calibrate`: adds the documented 0-100 quality scale (docs/EVALUATION.md) to the output
// of `faceqan score`, from a calibration file written by `faceqan eval --calibration`.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace faceqan::cli {

struct CalibrateOptions {
  std::string calibration;
  std::string scores;
  std::string output;
};

void add_calibrate_command(CLI::App& app, CalibrateOptions& options);
int run_calibrate(const CalibrateOptions& options);

}  // namespace faceqan::cli
