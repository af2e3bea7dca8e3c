// FaceQAN's final formula and its parameter checks, in double precision.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "faceqan/quality.h"

namespace faceqan {
namespace {

[[noreturn]] void reject(const std::string& what) { throw Error(ErrorCode::kInvalidArgument, what); }

}  // namespace

void FaceQanSettings::validate() const {
  // NaN fails both comparisons, so it is rejected too.
  if (!(epsilon > 0.0 && epsilon < 1.0)) {
    std::ostringstream message;
    message << "epsilon must lie in (0, 1), got " << epsilon;
    reject(message.str());
  }
  if (iterations < 1) reject("iterations (l) must be at least 1, got " + std::to_string(iterations));
  if (samples < 2) reject("samples (k) must be at least 2, got " + std::to_string(samples));
  if (exponent < 1) reject("exponent (p) must be at least 1, got " + std::to_string(exponent));
  if (seed < kRandomSeed) reject("seed must be >= 0, or -1 for a random seed, got " + std::to_string(seed));
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::kFloat32: return "fp32";
    case Precision::kTF32: return "tf32";
    case Precision::kFloat16: return "fp16";
    case Precision::kBFloat16: return "bf16";
    case Precision::kAuto: return "auto";
  }
  return "?";
}

Precision parse_precision(const std::string& text) {
  if (text == "fp32" || text == "float32") return Precision::kFloat32;
  if (text == "tf32") return Precision::kTF32;
  if (text == "fp16" || text == "float16" || text == "half") return Precision::kFloat16;
  if (text == "bf16" || text == "bfloat16") return Precision::kBFloat16;
  if (text == "auto") return Precision::kAuto;
  reject("unknown precision '" + text + "': use fp32, tf32, fp16, bf16 or auto");
}

FaceQuality aggregate_quality(const std::vector<double>& similarities, double symmetry, int exponent) {
  if (similarities.empty()) reject("no similarities to aggregate");
  if (exponent < 1) reject("exponent (p) must be at least 1, got " + std::to_string(exponent));

  double sum = 0.0;
  for (double s : similarities) sum += s;
  const double mean = sum / static_cast<double>(similarities.size());
  double squares = 0.0;
  for (double s : similarities) squares += (s - mean) * (s - mean);
  // The population standard deviation (divide by n), as the specification states.
  const double std_dev = std::sqrt(squares / static_cast<double>(similarities.size()));

  FaceQuality result;
  result.mean_similarity = mean;
  result.std_similarity = std_dev;
  result.symmetry = symmetry;
  const double base = ((1.0 + mean) / 2.0) * std::clamp(1.0 - std_dev, 0.0, 1.0) * symmetry;
  // An integer power keeps the sign of a negative base (a face whose flip points away), as the
  // reference's ** does for an integer exponent.
  double quality = 1.0;
  for (int i = 0; i < exponent; ++i) quality *= base;
  result.quality = quality;
  return result;
}

}  // namespace faceqan
