// The ERC metric on small constructed score sets whose FNMR, FMR and pAUC are known by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "erc.h"
#include "faceqan/quality.h"
#include "faceqan/quality_scale.h"

namespace faceqan::eval {
namespace {

ScoredPair G(double s, double q) { return {s, true, q}; }
ScoredPair I(double s, double q) { return {s, false, q}; }

TEST(Threshold, IsTheNextLargestImpostorAfterTheAllowedFalseMatches) {
  std::vector<double> imp;
  for (int i = 0; i < 100; ++i) imp.push_back(i / 100.0);  // 0.00 .. 0.99
  // FMR 0.01 of 100: one false match allowed; threshold = 2nd largest = 0.98; match iff > 0.98.
  EXPECT_DOUBLE_EQ(threshold_at_fmr(imp, 0.01), 0.98);
  EXPECT_DOUBLE_EQ(fraction_above(imp, 0.98), 0.01);
  // FMR 1e-3 of 100: none allowed: the largest impostor; achieved FMR 0.
  EXPECT_DOUBLE_EQ(threshold_at_fmr(imp, 1e-3), 0.99);
  EXPECT_DOUBLE_EQ(fraction_above(imp, 0.99), 0.0);
  EXPECT_TRUE(std::isinf(threshold_at_fmr(imp, 1.0)));
  EXPECT_THROW(threshold_at_fmr({}, 0.01), std::invalid_argument);
  EXPECT_THROW(threshold_at_fmr(imp, 1.5), std::invalid_argument);
}

TEST(Threshold, TiedImpostorsKeepTheFmrAtMostTheTarget) {
  // Ten impostors all at 0.5: at FMR 0.1 the threshold is 0.5 and nothing is above it.
  const std::vector<double> imp(10, 0.5);
  EXPECT_DOUBLE_EQ(threshold_at_fmr(imp, 0.1), 0.5);
  EXPECT_DOUBLE_EQ(fraction_above(imp, 0.5), 0.0);
}

TEST(Grid, RejectFractionsAndCounts) {
  const auto grid = reject_grid({});
  ASSERT_EQ(grid.size(), 17u);
  EXPECT_NEAR(grid.back(), 0.8, 1e-12);
  EXPECT_EQ(rejected_count(0.15, 100), 15u);  // 0.15 * 100 is 14.999... in floating point
  EXPECT_EQ(rejected_count(0.05, 19), 0u);
  EXPECT_EQ(rejected_count(0.8, 10), 8u);
  EXPECT_EQ(rejected_count(1.0, 10), 10u);
}

TEST(Trapezoid, Areas) {
  EXPECT_DOUBLE_EQ(trapezoid({0, 0.5, 1}, {1, 1, 1}, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(trapezoid({0, 0.5, 1}, {1, 0, 0}, 1.0), 0.25);
  EXPECT_DOUBLE_EQ(trapezoid({0, 0.5, 1}, {1, 0, 0}, 0.5), 0.25);
  EXPECT_TRUE(std::isnan(trapezoid({0, 0.5, 1}, {1, NAN, 0}, 1.0)));
}

// 10 genuine pairs, 2 of them errors (similarity 0.1, below every impostor), with the lowest
// quality; 10 impostors at 0.2..0.29. At FMR 0.1 (one false match allowed of 10) the threshold is
// the second largest impostor, 0.28.
std::vector<ScoredPair> two_errors_lowest_quality() {
  std::vector<ScoredPair> p;
  p.push_back(G(0.1, 0.0));
  p.push_back(G(0.1, 0.01));
  for (int i = 0; i < 8; ++i) p.push_back(G(0.9, 0.5 + i * 0.01));
  for (int i = 0; i < 10; ++i) p.push_back(I(0.2 + i * 0.01, 0.3 + i * 0.01));
  return p;
}

TEST(Erc, PerfectQualityRemovesTheErrorsFirst) {
  ErcSettings s;
  s.fmrs = {0.1};
  s.step = 0.05;
  s.max_reject = 0.8;
  s.pauc_limits = {0.1, 0.8};
  const ErcCurve c = compute_erc(two_errors_lowest_quality(), s);
  EXPECT_EQ(c.genuine, 10u);
  EXPECT_EQ(c.impostor, 10u);
  EXPECT_NEAR(c.thresholds_fixed[0], 0.28, 1e-12);
  EXPECT_NEAR(c.achieved_fmr[0], 0.1, 1e-12);
  ASSERT_EQ(c.points.size(), 17u);
  // r = 0: 2 of 10 genuine pairs fail.
  EXPECT_DOUBLE_EQ(c.points[0].fnmr_fixed[0], 0.2);
  // r = 0.05: floor(0.05 * 20) = 1 pair rejected (the worst error): 1 of 9.
  EXPECT_EQ(c.points[1].rejected, 1u);
  EXPECT_DOUBLE_EQ(c.points[1].fnmr_fixed[0], 1.0 / 9.0);
  // r = 0.1: both errors gone.
  EXPECT_DOUBLE_EQ(c.points[2].fnmr_fixed[0], 0.0);
  EXPECT_DOUBLE_EQ(c.points[16].fnmr_fixed[0], 0.0);
  // Every remaining genuine pair is far above any impostor, so while impostors remain (to r = 0.5)
  // the re-estimated threshold gives the same FNMR.
  for (int i = 0; i <= 10; ++i) EXPECT_DOUBLE_EQ(c.points[i].fnmr_reestimated[0], c.points[i].fnmr_fixed[0]);
  // pAUC up to 0.1: 0.05 * (0.2 + 1/9) / 2 + 0.05 * (1/9 + 0) / 2.
  const double expected = 0.05 * (0.2 + 1.0 / 9.0) / 2 + 0.05 * (1.0 / 9.0) / 2;
  EXPECT_NEAR(c.pauc_fixed[0][0].raw, expected, 1e-12);
  EXPECT_NEAR(c.pauc_fixed[0][0].normalised, expected / (0.2 * 0.1), 1e-12);
  EXPECT_NEAR(c.pauc_fixed[0][1].raw, expected, 1e-12);
  EXPECT_TRUE(c.warnings.empty());  // 10 impostors suffice for FMR 0.1
}

// FMR 0 (the threshold at the largest impostor score) and one rejection step of `step`, with
// the pAUC taken up to that step.
ErcSettings one_step_at_fmr_zero(double step) {
  ErcSettings s;
  s.fmrs = {0.0};
  s.step = step;
  s.max_reject = step;
  s.pauc_limits = {step};
  return s;
}

TEST(Erc, ReestimatedThresholdMovesWhenImpostorsAreRejected) {
  // 2 genuine (0.5 with high quality, 0.9), 4 impostors at 0.1, 0.2, 0.6 (lowest quality), 0.3.
  std::vector<ScoredPair> p = {G(0.5, 0.9), G(0.9, 0.9), I(0.1, 0.8), I(0.2, 0.8), I(0.6, 0.0), I(0.3, 0.8)};
  const ErcSettings s = one_step_at_fmr_zero(0.5);
  const ErcCurve c = compute_erc(p, s);
  // Fixed: threshold 0.6 (largest impostor); genuine 0.5 fails: FNMR 0.5 at every step
  // (r = 0.5 rejects 3 pairs: the 0.6 impostor, then 0.1 and 0.2 in input order).
  EXPECT_DOUBLE_EQ(c.points[0].fnmr_fixed[0], 0.5);
  EXPECT_EQ(c.points[1].rejected, 3u);
  EXPECT_DOUBLE_EQ(c.points[1].fnmr_fixed[0], 0.5);
  // Re-estimated: the remaining impostor is 0.3: both genuine pairs match.
  EXPECT_DOUBLE_EQ(c.points[1].threshold_reestimated[0], 0.3);
  EXPECT_DOUBLE_EQ(c.points[1].fnmr_reestimated[0], 0.0);
  EXPECT_DOUBLE_EQ(c.pauc_fixed[0][0].raw, 0.25);
  EXPECT_DOUBLE_EQ(c.pauc_fixed[0][0].normalised, 1.0);
  EXPECT_DOUBLE_EQ(c.pauc_reestimated[0][0].raw, 0.125);
  EXPECT_DOUBLE_EQ(c.pauc_reestimated[0][0].normalised, 0.5);
}

TEST(Erc, TiesInQualityKeepInputOrder) {
  // All qualities equal: rejection follows input order. The first genuine pair is the error.
  std::vector<ScoredPair> a = {G(0.1, 1), G(0.9, 1), G(0.9, 1), G(0.9, 1), I(0.2, 1), I(0.3, 1), I(0.4, 1), I(0.5, 1)};
  const ErcSettings s = one_step_at_fmr_zero(0.125);
  const ErcCurve ca = compute_erc(a, s);
  EXPECT_DOUBLE_EQ(ca.points[0].fnmr_fixed[0], 0.25);
  EXPECT_DOUBLE_EQ(ca.points[1].fnmr_fixed[0], 0.0);  // the error was first
  // The same pairs with the error last: rejecting the first pair removes a correct one.
  std::vector<ScoredPair> b = {G(0.9, 1), G(0.9, 1), G(0.9, 1), G(0.1, 1), I(0.2, 1), I(0.3, 1), I(0.4, 1), I(0.5, 1)};
  const ErcCurve cb = compute_erc(b, s);
  EXPECT_DOUBLE_EQ(cb.points[1].fnmr_fixed[0], 1.0 / 3.0);
}

TEST(Erc, AllPairsRejectedGivesUndefinedFnmr) {
  std::vector<ScoredPair> p = {G(0.9, 0.1), I(0.1, 0.2)};
  ErcSettings s;
  s.fmrs = {0.5};
  s.step = 0.5;
  s.max_reject = 1.0;
  s.pauc_limits = {1.0};
  const ErcCurve c = compute_erc(p, s);
  ASSERT_EQ(c.points.size(), 3u);
  EXPECT_EQ(c.points[2].rejected, 2u);
  EXPECT_EQ(c.points[2].genuine, 0u);
  EXPECT_TRUE(std::isnan(c.points[2].fnmr_fixed[0]));
  EXPECT_TRUE(std::isnan(c.points[2].fnmr_reestimated[0]));
  EXPECT_TRUE(std::isnan(c.points[2].quality_cut));
  // r = 0.5 removes the genuine pair (lowest quality) but keeps the impostor.
  EXPECT_TRUE(std::isnan(c.points[1].fnmr_fixed[0]));
  EXPECT_TRUE(std::isnan(c.pauc_fixed[0][0].raw));
}

TEST(Erc, NoErrorsGivesUndefinedNormalisedArea) {
  std::vector<ScoredPair> p = {G(0.9, 0.1), G(0.8, 0.2), I(0.1, 0.2), I(0.2, 0.3)};
  const ErcCurve c = compute_erc(p);
  EXPECT_DOUBLE_EQ(c.pauc_fixed[0][0].raw, 0.0);
  EXPECT_TRUE(std::isnan(c.pauc_fixed[0][0].normalised));
}

TEST(Erc, NoImpostorsOrNoGenuinePairsIsAnError) {
  EXPECT_THROW(compute_erc({G(0.9, 1), G(0.8, 1)}), std::invalid_argument);
  EXPECT_THROW(compute_erc({I(0.9, 1), I(0.8, 1)}), std::invalid_argument);
  EXPECT_THROW(compute_erc({}), std::invalid_argument);
}

TEST(Erc, WarnsWhenTooFewImpostorsForTheFmr) {
  std::vector<ScoredPair> p = {G(0.9, 1)};
  for (int i = 0; i < 999; ++i) p.push_back(I(0.1, 1));
  const ErcCurve c = compute_erc(p);  // FMR 1e-3 and 1e-2
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("999 impostor pairs"), std::string::npos);
  p.push_back(I(0.1, 1));
  EXPECT_TRUE(compute_erc(p).warnings.empty());
}

TEST(Erc, BadSettingsAreErrors) {
  const std::vector<ScoredPair> p = {G(0.9, 1), I(0.1, 1)};
  ErcSettings s;
  s.step = 0;
  EXPECT_THROW(compute_erc(p, s), std::invalid_argument);
  s = {};
  s.fmrs = {2.0};
  EXPECT_THROW(compute_erc(p, s), std::invalid_argument);
}

TEST(Calibration, RecommendsTheLowestQualityReachingTheTarget) {
  const Calibration c = calibrate(two_errors_lowest_quality(), 0.1, 0.0);
  EXPECT_NEAR(c.threshold, 0.28, 1e-12);
  ASSERT_FALSE(c.rows.empty());
  EXPECT_DOUBLE_EQ(c.rows[0].quality, 0.0);
  EXPECT_DOUBLE_EQ(c.rows[0].fnmr, 0.2);
  // Rejecting pairs below 0.3 (the two errors: qualities 0 and 0.01) reaches FNMR 0.
  EXPECT_DOUBLE_EQ(c.recommended_quality, 0.3);
  EXPECT_DOUBLE_EQ(c.recommended_pairs_rejected, 0.1);
  for (size_t i = 1; i < c.rows.size(); ++i) EXPECT_GT(c.rows[i].quality, c.rows[i - 1].quality);
  const Calibration none = calibrate({G(0.1, 1), G(0.9, 1), I(0.5, 1)}, 0.0, 0.0);
  EXPECT_TRUE(std::isnan(none.recommended_quality));
}

TEST(Mapping, PercentilesAreMonotoneFrom0To100) {
  std::vector<double> q;
  for (int i = 0; i <= 100; ++i) q.push_back(0.3 + 0.005 * i);  // 0.3 .. 0.8
  const QualityScale scale(percentile_table(q));
  EXPECT_DOUBLE_EQ(scale.to_100(0.1), 0.0);
  EXPECT_DOUBLE_EQ(scale.to_100(0.9), 100.0);
  EXPECT_NEAR(scale.to_100(0.55), 50.0, 1e-9);
  double last = -1;
  for (double x = 0.2; x < 0.9; x += 0.001) {
    const double m = scale.to_100(x);
    EXPECT_GE(m, last);
    last = m;
  }
  EXPECT_THROW(percentile_table({}), std::invalid_argument);
}

TEST(Mapping, RejectsMalformedTables) {
  EXPECT_THROW(QualityScale(std::vector<double>(100, 0.5)), faceqan::Error);
  std::vector<double> decreasing(101, 0.5);
  decreasing[50] = 0.4;
  EXPECT_THROW(QualityScale{decreasing}, faceqan::Error);
  std::vector<double> not_finite(101, 0.5);
  not_finite[3] = std::nan("");
  EXPECT_THROW(QualityScale{not_finite}, faceqan::Error);
}

TEST(Mapping, EqualPercentilesMapToTheTopOfTheirRun) {
  std::vector<double> table(101, 0.5);
  for (int i = 0; i < 10; ++i) table[i] = 0.1 + 0.01 * i;
  const QualityScale scale(table);
  EXPECT_DOUBLE_EQ(scale.to_100(0.5), 100.0);
  EXPECT_DOUBLE_EQ(scale.to_100(0.1), 0.0);
  EXPECT_NEAR(scale.to_100(0.105), 0.5, 1e-9);
}

}  // namespace
}  // namespace faceqan::eval
