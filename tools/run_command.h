// `faceqan run CONFIG.yaml`: the camera service (service/, docs/DEPLOYMENT.md).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace faceqan::cli {

struct RunOptions {
  std::string config;
  bool check = false;  // check the config and print the pipelines, start nothing
};

void add_run_command(CLI::App& app, RunOptions& options);
// 0 after an orderly stop; 2 for a bad config.
int run_run(const RunOptions& options);

}  // namespace faceqan::cli
