// The optional 0-100 quality scale (docs/EVALUATION.md, "Reading scores").
//
// Raw FaceQAN scores are not comparable across recognition models: their range depends on the
// model. `faceqan eval --calibration` stores the 0th..100th percentiles of the quality model's
// scores on a calibration set; this scale maps a raw quality to its percentile rank among those
// images: 0 at or below the lowest, 100 at or above the highest, linear between neighbouring
// percentiles. The mapping is monotone (non-decreasing) in the raw quality.
//
// Plain C++ and nlohmann-json (no LibTorch), its own small library (faceqan_quality_scale), so
// that the CLI, the evaluation code and the element share one definition.
#pragma once

#include <string>
#include <vector>

namespace faceqan {

class QualityScale {
 public:
  static constexpr std::size_t kPercentiles = 101;

  // `percentiles`: 101 finite, non-decreasing values (percentile 0, 1, ..., 100).
  // Throws faceqan::Error(kInvalidArgument) otherwise; `source` names the origin in the message.
  explicit QualityScale(std::vector<double> percentiles, const std::string& source = "a quality scale");

  // The raw quality's place on the 0-100 scale.
  double to_100(double quality) const;

  const std::vector<double>& percentiles() const noexcept { return percentiles_; }

 private:
  std::vector<double> percentiles_;
};

// Reads the "percentiles" of a calibration file written by `faceqan eval --calibration`.
// Throws faceqan::Error(kInvalidArgument) naming the file when it is missing or malformed.
QualityScale read_quality_scale(const std::string& calibration_path);

}  // namespace faceqan
