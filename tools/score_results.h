// What `faceqan score` and `faceqan detect` report per image, and how it is written out.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace faceqan::cli {

struct FaceReport {
  // Set when the face came from the detector (whole photos).
  std::optional<std::array<float, 4>> box;  // x, y, width, height in pixels
  std::optional<float> confidence;
  std::optional<std::array<std::array<float, 2>, 5>> landmarks;
  // Set once scored.
  std::optional<double> quality, mean_similarity, std_similarity, symmetry;
  std::optional<double> embedding_norm;  // the clean embedding's norm before normalisation
};

struct ImageReport {
  std::string image;
  int width = 0;
  int height = 0;
  std::vector<FaceReport> faces;
  std::optional<std::string> error;  // why the image could not be processed
};

// Writes reports as JSON (an array, one object per image) or CSV (one row per face, or per image
// with an error). format: "json" or "csv". Throws std::runtime_error if the file cannot be written.
void write_reports(const std::vector<ImageReport>& reports, const std::string& format,
                   const std::string& path, bool include_size);

// "json" or "csv" from an output path's extension (JSON when there is no path).
std::string format_for_path(const std::string& path);

}  // namespace faceqan::cli
