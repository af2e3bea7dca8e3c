// Error-versus-Reject Characteristic (ERC) of a face image quality score, and its partial areas.
// Plain C++ (no OpenCV, no LibTorch), so that the metric can be unit-tested alone.
//
// Conventions (docs/EVALUATION.md):
// - A pair matches when its similarity is strictly above the threshold. The threshold at a target
//   FMR f over N impostor pairs is the (floor(f N) + 1)-th largest impostor similarity, so the
//   achieved FMR is at most f (exactly floor(f N) / N without ties). With f N < 1 it is the largest
//   impostor similarity (achieved FMR 0).
// - Pair quality = min of the two images' qualities. Pairs are sorted by it, ascending, stably
//   (ties keep their input order), and the first floor(r P + 1e-9) of the P pairs are rejected.
// - FNMR = genuine pairs at or below the threshold / remaining genuine pairs, in two variants:
//   "fixed": the threshold fixed once on all impostor pairs (ISO/IEC 29794-1 style);
//   "reestimated": the threshold recomputed on the remaining impostor pairs at each step
//   (the CR-FIQA evaluation code's style).
// - Undefined values are NaN (null in JSON): FNMR when no genuine pair remains; the re-estimated
//   threshold and its FNMR when no impostor pair remains; a normalised pAUC when the random-order
//   area is 0 (no errors before rejection).
// - No genuine pairs, or no impostor pairs, at all: std::invalid_argument.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace faceqan::eval {

struct ScoredPair {
  double similarity = 0.0;  // comparison score; higher = more alike
  bool genuine = false;     // same identity
  double quality = 0.0;     // pair quality (min of the two images' qualities)
};

struct ErcSettings {
  std::vector<double> fmrs{1e-3, 1e-2};
  double step = 0.05;        // reject-fraction grid step
  double max_reject = 0.8;   // last grid point (inclusive)
  std::vector<double> pauc_limits{0.2, 0.3, 0.8};
};

struct ErcPoint {
  double reject = 0.0;       // requested fraction r
  size_t rejected = 0;       // pairs rejected: floor(r P)
  size_t genuine = 0;        // genuine pairs remaining
  size_t impostor = 0;       // impostor pairs remaining
  double quality_cut = 0.0;  // pair quality of the first kept pair (NaN when none is kept)
  std::vector<double> fnmr_fixed;        // per FMR
  std::vector<double> fnmr_reestimated;  // per FMR
  std::vector<double> threshold_reestimated;  // per FMR
};

struct Pauc {
  double limit = 0.0;
  double raw = 0.0;         // trapezoid area under FNMR(r) for r in [0, limit]
  double normalised = 0.0;  // raw / (FNMR(0) * limit): the expected area of random rejection
};

struct ErcCurve {
  std::vector<double> fmrs;
  std::vector<double> thresholds_fixed;  // per FMR, on all impostor pairs
  std::vector<double> achieved_fmr;      // per FMR, with the fixed threshold
  size_t genuine = 0;
  size_t impostor = 0;
  std::vector<ErcPoint> points;
  std::vector<std::vector<Pauc>> pauc_fixed;        // [fmr][limit]
  std::vector<std::vector<Pauc>> pauc_reestimated;  // [fmr][limit]
  std::vector<std::string> warnings;
};

// The threshold at target FMR fmr over these impostor similarities (see the conventions above).
// Throws std::invalid_argument for an empty list or fmr outside [0, 1].
double threshold_at_fmr(std::vector<double> impostor, double fmr);

// Fraction of values strictly above / at or below threshold (NaN for an empty list).
double fraction_above(const std::vector<double>& values, double threshold);
double fraction_at_or_below(const std::vector<double>& values, double threshold);

// The reject-fraction grid 0, step, ..., max_reject.
std::vector<double> reject_grid(const ErcSettings& settings);

// Number of pairs rejected at fraction r of P pairs: floor(r P + 1e-9).
size_t rejected_count(double r, size_t pairs);

// Trapezoid area of y over x for x <= limit (x sorted ascending, starting at 0). NaN if any y used
// is NaN.
double trapezoid(const std::vector<double>& x, const std::vector<double>& y, double limit);

// The ERC of pairs (in input order). Throws std::invalid_argument for bad settings, no genuine
// pairs or no impostor pairs.
ErcCurve compute_erc(const std::vector<ScoredPair>& pairs, const ErcSettings& settings = {});

// Calibration of one quality score: for each quality threshold q, rejecting every image below q
// (every pair whose pair quality is below q), the expected FNMR at the fixed threshold.
struct CalibrationRow {
  double quality = 0.0;          // reject pairs with pair quality < quality
  double pairs_rejected = 0.0;   // fraction of pairs
  double fnmr = 0.0;             // on the remaining genuine pairs, fixed threshold
};

struct Calibration {
  double fmr = 1e-3;
  double threshold = 0.0;  // similarity threshold at fmr
  std::vector<CalibrationRow> rows;  // ascending quality
  double target_fnmr = 0.0;
  // The lowest quality threshold whose FNMR is at or below target_fnmr; NaN when none in the
  // table reaches it.
  double recommended_quality = 0.0;
  double recommended_pairs_rejected = 0.0;
};

// Quality thresholds are the pair qualities at reject fractions 0, 0.01, ..., max_reject.
Calibration calibrate(const std::vector<ScoredPair>& pairs, double fmr, double target_fnmr,
                      double max_reject = 0.8);

// The 0th..100th percentiles of the calibration images' qualities (linear interpolation between
// order statistics): the table of the optional 0-100 scale, faceqan::QualityScale.
std::vector<double> percentile_table(std::vector<double> image_qualities);

}  // namespace faceqan::eval
