#include "faceqan/quality_scale.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "faceqan/quality.h"

namespace faceqan {

QualityScale::QualityScale(std::vector<double> percentiles, const std::string& source)
    : percentiles_(std::move(percentiles)) {
  if (percentiles_.size() != kPercentiles) {
    throw Error(ErrorCode::kInvalidArgument, source + ": a percentile table has 101 values, not " +
                                                 std::to_string(percentiles_.size()));
  }
  for (std::size_t i = 0; i < percentiles_.size(); ++i) {
    if (!std::isfinite(percentiles_[i])) {
      throw Error(ErrorCode::kInvalidArgument, source + ": percentile " + std::to_string(i) + " is not finite");
    }
    if (i > 0 && percentiles_[i] < percentiles_[i - 1]) {
      throw Error(ErrorCode::kInvalidArgument,
                  source + ": percentiles must not decrease (percentile " + std::to_string(i) + ")");
    }
  }
}

double QualityScale::to_100(double quality) const {
  if (std::isnan(quality)) return quality;
  if (quality <= percentiles_.front()) return 0.0;
  if (quality >= percentiles_.back()) return 100.0;
  // The last percentile at or below the quality, then linear to the next one. Runs of equal
  // percentiles (many images with one score) map to the top of the run.
  const auto above = std::upper_bound(percentiles_.begin(), percentiles_.end(), quality);
  const std::size_t hi = static_cast<std::size_t>(above - percentiles_.begin());
  const std::size_t lo = hi - 1;
  const double span = percentiles_[hi] - percentiles_[lo];
  const double fraction = span > 0.0 ? (quality - percentiles_[lo]) / span : 0.0;
  return static_cast<double>(lo) + fraction;
}

QualityScale read_quality_scale(const std::string& calibration_path) {
  std::ifstream in(calibration_path);
  if (!in) throw Error(ErrorCode::kInvalidArgument, "cannot read the calibration file " + calibration_path);
  nlohmann::json calibration;
  try {
    calibration = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::kInvalidArgument, calibration_path + ": not JSON (" + e.what() + ")");
  }
  const auto percentiles = calibration.is_object() ? calibration.find("percentiles") : calibration.end();
  if (percentiles == calibration.end() || !percentiles->is_array()) {
    throw Error(ErrorCode::kInvalidArgument,
                calibration_path + ": no \"percentiles\" array (write it with `faceqan eval --calibration`)");
  }
  std::vector<double> values;
  for (const auto& value : *percentiles) {
    if (!value.is_number()) throw Error(ErrorCode::kInvalidArgument, calibration_path + ": a percentile is not a number");
    values.push_back(value.get<double>());
  }
  return QualityScale(std::move(values), calibration_path);
}

}  // namespace faceqan
