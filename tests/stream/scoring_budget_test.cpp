// The scoring budget: cheap signals, the first usable face, the interval, the global rate cap.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <vector>

#include "faceqan/stream/scoring_budget.h"
#include "frontal_face.h"

namespace faceqan {
namespace {

// An aligned crop (RGB floats) of a checkerboard, optionally blurred.
std::vector<float> crop(double blur_sigma) {
  cv::Mat image(112, 112, CV_32FC3);
  for (int y = 0; y < 112; ++y)
    for (int x = 0; x < 112; ++x) image.at<cv::Vec3f>(y, x) = cv::Vec3f::all(((x / 8 + y / 8) % 2) ? 0.9f : 0.1f);
  if (blur_sigma > 0) cv::GaussianBlur(image, image, cv::Size(), blur_sigma);
  const float* pixels = image.ptr<float>();  // continuous: 112 * 112 * 3 floats
  return std::vector<float>(pixels, pixels + image.total() * 3);
}

TEST(ScoringBudget, CheapSignalsRankSharpLargeFrontalFacesHigher) {
  const std::vector<float> sharp = crop(0), blurred = crop(4);
  const TrackInput big = face_at(0, 0, 100), small = face_at(0, 0, 20);
  const CheapSignals best = measure_face(sharp.data(), {112, 112}, big.landmarks, 0.99);
  EXPECT_NEAR(best.eye_distance, 40.0, 1e-3);
  EXPECT_NEAR(best.frontal, 1.0, 1e-6);
  EXPECT_GT(best.sharpness, measure_face(blurred.data(), {112, 112}, big.landmarks, 0.99).sharpness);
  EXPECT_GT(best.promise, measure_face(blurred.data(), {112, 112}, big.landmarks, 0.99).promise);
  EXPECT_GT(best.promise, measure_face(sharp.data(), {112, 112}, small.landmarks, 0.99).promise);
  EXPECT_GT(best.promise, measure_face(sharp.data(), {112, 112}, big.landmarks, 0.5).promise);
  TrackInput turned = big;
  turned.landmarks[kNose].x += 25;  // the nose near one eye: the head is turned
  const CheapSignals side = measure_face(sharp.data(), {112, 112}, turned.landmarks, 0.99);
  EXPECT_LT(side.frontal, 0.5);
  EXPECT_GT(best.promise, side.promise);
}

CheapSignals signals(double promise, double eye_distance = 30) {
  CheapSignals s;
  s.promise = promise;
  s.eye_distance = eye_distance;
  return s;
}

TEST(ScoringBudget, FirstUsableFaceThenOnlyPromisingOnesAfterTheInterval) {
  ScoringBudget budget(BudgetSettings{8.0, 0.5, 0.0, 0.1});
  EXPECT_FALSE(budget.decide(1, signals(0.9, 4), 0.0)) << "eyes too close: not usable";
  EXPECT_TRUE(budget.decide(1, signals(0.5), 0.04)) << "the track's first usable face";
  EXPECT_FALSE(budget.decide(1, signals(0.9), 0.2)) << "within the minimum interval";
  budget.report(1, 0.5, 0.7);
  EXPECT_FALSE(budget.decide(1, signals(0.44), 0.6)) << "more than the margin below the best";
  EXPECT_TRUE(budget.decide(1, signals(0.46), 0.6)) << "within the margin: may beat it";
  budget.report(1, 0.46, 0.6);  // it did not
  EXPECT_TRUE(budget.decide(1, signals(0.7), 1.2));
  // While that scoring is in flight its promise is the bar.
  EXPECT_FALSE(budget.decide(1, signals(0.6), 1.8));
  budget.report(1, 0.7, 0.4);  // it scored worse: the 0.5 face stays the track's best
  EXPECT_TRUE(budget.decide(1, signals(0.5), 2.4));
  // Other tracks are independent.
  EXPECT_TRUE(budget.decide(2, signals(0.1), 2.4));
  budget.forget(1);
  EXPECT_TRUE(budget.decide(1, signals(0.1), 2.5)) << "a forgotten track starts again";
}

TEST(ScoringBudget, GlobalRateCapsScorings) {
  ScoringBudget budget(BudgetSettings{0.0, 0.0, 2.0, 0.0});
  int admitted = 0;
  // 10 new tracks a frame for 5 seconds at 10 frames per second.
  TrackId next = 1;
  for (int frame = 0; frame < 50; ++frame) {
    for (int i = 0; i < 10; ++i) admitted += budget.decide(next++, signals(0.5), frame * 0.1);
  }
  // A burst of 2, then 2 per second for 4.9 seconds.
  EXPECT_GE(admitted, 10);
  EXPECT_LE(admitted, 12);
}

TEST(ScoringBudget, ReScoringsLeaveRoomForNewTracks) {
  ScoringBudget budget(BudgetSettings{0.0, 0.0, 2.0, 1.0});
  EXPECT_TRUE(budget.is_new(1));
  EXPECT_TRUE(budget.decide(1, signals(0.5), 0.0));
  EXPECT_FALSE(budget.is_new(1));
  // One scoring left in the burst: kept for a new track, not spent on re-scoring track 1.
  EXPECT_FALSE(budget.decide(1, signals(0.9), 0.0));
  EXPECT_TRUE(budget.decide(2, signals(0.5), 0.0));
}

}  // namespace
}  // namespace faceqan
