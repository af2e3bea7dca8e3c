// faceqan: the command-line program. Subcommands live in their own files; this file only wires
// them up and turns exceptions into messages and exit statuses.
#include <CLI/CLI.hpp>

#include <iostream>

#include "collect_command.h"
#include "detect_command.h"
#include "eval/calibrate_command.h"
#include "eval/eval_command.h"
#include "faceqan/quality.h"
#include "listen_command.h"
#include "score_command.h"
#ifdef FACEQAN_WITH_RUN
#include "run_command.h"
#endif

int main(int argc, char** argv) {
  CLI::App app{"faceqan: FaceQAN face image quality (detect, align, score)", "faceqan"};
  app.set_version_flag("--version", std::string("faceqan ") + FACEQAN_VERSION);
  app.require_subcommand(1);

  faceqan::cli::ScoreOptions score_options;
  faceqan::cli::DetectOptions detect_options;
  faceqan::cli::EvalOptions eval_options;
  faceqan::cli::CalibrateOptions calibrate_options;
  faceqan::publish::ListenSettings listen_options;
  faceqan::cli::add_score_command(app, score_options);
  faceqan::cli::add_detect_command(app, detect_options);
  faceqan::cli::add_eval_command(app, eval_options);
  faceqan::cli::add_calibrate_command(app, calibrate_options);
  faceqan::cli::add_listen_command(app, listen_options);
  faceqan::cli::CollectOptions collect_options;
  faceqan::cli::add_collect_command(app, collect_options);
#ifdef FACEQAN_WITH_RUN
  faceqan::cli::RunOptions run_options;
  faceqan::cli::add_run_command(app, run_options);
#endif

  CLI11_PARSE(app, argc, argv);
  try {
    if (app.got_subcommand("score")) return faceqan::cli::run_score(score_options);
    if (app.got_subcommand("detect")) return faceqan::cli::run_detect(detect_options);
    if (app.got_subcommand("eval")) return faceqan::cli::run_eval(eval_options);
    if (app.got_subcommand("calibrate")) return faceqan::cli::run_calibrate(calibrate_options);
    if (app.got_subcommand("listen")) return faceqan::cli::run_listen(listen_options);
    if (app.got_subcommand("collect")) return faceqan::cli::run_collect(collect_options);
#ifdef FACEQAN_WITH_RUN
    if (app.got_subcommand("run")) return faceqan::cli::run_run(run_options);
#endif
  } catch (const std::exception& error) {
    std::cerr << "faceqan: " << error.what() << '\n';
    return 2;
  }
  return 2;
}
