#include "calibrate_command.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "erc.h"
#include "faceqan/quality_scale.h"
#include "eval_data.h"

namespace faceqan::cli {

void add_calibrate_command(CLI::App& app, CalibrateOptions& options) {
  CLI::App* c = app.add_subcommand(
      "calibrate",
      "Add quality_100 (the percentile rank of each quality among the calibration images, 0-100, "
      "monotone; docs/EVALUATION.md) to a `faceqan score` output");
  c->add_option("scores", options.scores, "Scores written by `faceqan score` (.json or .csv)")->required();
  c->add_option("--calibration", options.calibration, "Calibration file of `faceqan eval --calibration`")
      ->required();
  c->add_option("-o,--output", options.output, "Write here (default: stdout), in the input's format");
}

int run_calibrate(const CalibrateOptions& options) {
  const QualityScale scale = read_quality_scale(options.calibration);
  std::ifstream in(options.scores, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + options.scores);
  std::ostringstream text;
  text << in.rdbuf();
  std::ostringstream out;
  const std::string ext = std::filesystem::path(options.scores).extension().string();
  if (ext == ".csv") {
    std::istringstream lines(text.str());
    std::string line;
    long quality_column = -1;
    bool header = true;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto fields = eval::csv_fields(line);
      if (header) {
        for (size_t i = 0; i < fields.size(); ++i) {
          if (fields[i] == "quality") quality_column = static_cast<long>(i);
        }
        if (quality_column < 0) throw std::runtime_error(options.scores + ": no quality column");
        out << line << ",quality_100\n";
        header = false;
        continue;
      }
      std::string mapped;
      if (static_cast<size_t>(quality_column) < fields.size() && !fields[quality_column].empty()) {
        char b[32];
        std::snprintf(b, sizeof b, "%.3f", scale.to_100(std::stod(fields[quality_column])));
        mapped = b;
      }
      out << line << ',' << mapped << '\n';
    }
  } else {
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(text.str());
    for (auto& image : j) {
      if (!image.contains("faces")) continue;
      for (auto& face : image["faces"]) {
        if (face.contains("quality")) {
          face["quality_100"] = std::round(scale.to_100(face["quality"].get<double>()) * 1000) / 1000;
        }
      }
    }
    out << j.dump(2) << '\n';
  }
  if (options.output.empty()) {
    std::cout << out.str();
  } else {
    std::ofstream f(options.output);
    f << out.str();
    if (!f) throw std::runtime_error("cannot write " + options.output);
  }
  return 0;
}

}  // namespace faceqan::cli
