// FaceQAN's final formula against an independent float64 computation.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "faceqan/quality.h"

namespace {

// The formula written out plainly, in long double, as the reference states it.
long double reference_quality(const std::vector<double>& s, double symmetry, int p) {
  long double mean = 0;
  for (double v : s) mean += v;
  mean /= s.size();
  long double var = 0;
  for (double v : s) var += (v - mean) * (v - mean);
  const long double std_dev = std::sqrt(var / s.size());  // population
  long double one_minus = 1.0L - std_dev;
  if (one_minus < 0) one_minus = 0;
  if (one_minus > 1) one_minus = 1;
  return std::pow(((1.0L + mean) / 2.0L) * one_minus * symmetry, p);
}

TEST(Aggregation, MatchesFloat64Computation) {
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> similarity(0.6, 1.0);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<double> s(50);
    for (double& v : s) v = similarity(random);
    const double symmetry = similarity(random);
    const auto result = faceqan::aggregate_quality(s, symmetry, 5);
    EXPECT_NEAR(result.quality, static_cast<double>(reference_quality(s, symmetry, 5)), 1e-14);
    EXPECT_NEAR(result.mean_similarity, std::accumulate(s.begin(), s.end(), 0.0) / 50, 1e-14);
    EXPECT_DOUBLE_EQ(result.symmetry, symmetry);
  }
}

TEST(Aggregation, UsesPopulationStandardDeviation) {
  const auto result = faceqan::aggregate_quality({0.5, 1.0}, 1.0, 1);
  EXPECT_DOUBLE_EQ(result.std_similarity, 0.25);  // the sample std would be 0.3536
  EXPECT_DOUBLE_EQ(result.quality, ((1 + 0.75) / 2) * 0.75);
}

TEST(Aggregation, ClipsOneMinusStdAtZero) {
  // Similarities spread so widely that std > 1: the middle factor clips to 0.
  const auto result = faceqan::aggregate_quality({-1.0, 1.0, -1.0, 1.0}, 0.9, 5);
  EXPECT_DOUBLE_EQ(result.std_similarity, 1.0);
  EXPECT_DOUBLE_EQ(result.quality, 0.0);
}

TEST(Aggregation, ExponentIsAnIntegerPower) {
  const auto p1 = faceqan::aggregate_quality({0.9, 0.9}, 0.8, 1);
  const auto p3 = faceqan::aggregate_quality({0.9, 0.9}, 0.8, 3);
  EXPECT_NEAR(p3.quality, std::pow(p1.quality, 3), 1e-15);
}

TEST(Aggregation, RejectsEmptyInputAndBadExponent) {
  EXPECT_THROW(faceqan::aggregate_quality({}, 1.0, 5), faceqan::Error);
  EXPECT_THROW(faceqan::aggregate_quality({0.9}, 1.0, 0), faceqan::Error);
}

}  // namespace
