#include "run_command.h"

#include "service.h"

namespace faceqan::cli {

void add_run_command(CLI::App& app, RunOptions& options) {
  CLI::App* command = app.add_subcommand(
      "run",
      "Run every camera of a YAML config file, each its own faceqan pipeline publishing to the "
      "broker; restarts cameras that drop; SIGINT/SIGTERM stop with EOS and flush (see "
      "docs/DEPLOYMENT.md)");
  // The path is checked by the service itself, so that a missing file is a config error (2).
  command->add_option("config", options.config, "The YAML config file")->required();
  command->add_flag("--check", options.check,
                    "Check the config and print each camera's pipeline, then exit (0 or 2)");
}

int run_run(const RunOptions& options) {
  return faceqan::service::run_service(options.config, options.check);
}

}  // namespace faceqan::cli
