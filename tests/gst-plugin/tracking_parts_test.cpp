// The element's plain parts: tracker, scoring budget, best-location pattern, best-frame selector
// and JSON export. No GStreamer pipeline, no models.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>

#include "best_frames.h"
#include "json_export.h"
#include "location_pattern.h"
#include "scoring_budget.h"
#include "tracker.h"

namespace faceqan::gst {
namespace {

// A face at (x, y) of the given width, landmarks where a frontal face has them.
TrackInput face_at(float x, float y, float width = 40) {
  TrackInput face;
  face.box = cv::Rect2f(x, y, width, width * 1.2f);
  const float w = width;
  face.landmarks = {cv::Point2f(x + 0.3f * w, y + 0.4f * w), cv::Point2f(x + 0.7f * w, y + 0.4f * w),
                    cv::Point2f(x + 0.5f * w, y + 0.6f * w), cv::Point2f(x + 0.35f * w, y + 0.8f * w),
                    cv::Point2f(x + 0.65f * w, y + 0.8f * w)};
  return face;
}

TEST(FaceTracker, MovingFacesKeepTheirIds) {
  FaceTracker tracker;
  std::vector<TrackId> ended;
  const std::vector<TrackId> first = tracker.update({face_at(10, 10), face_at(200, 10)}, &ended);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_NE(first[0], first[1]);
  for (int step = 1; step <= 20; ++step) {
    // Listed in the other order and moving a few pixels a frame.
    const std::vector<TrackId> ids =
        tracker.update({face_at(200.0f - 2 * step, 10), face_at(10.0f + 3 * step, 12)}, &ended);
    EXPECT_EQ(ids[0], first[1]) << "step " << step;
    EXPECT_EQ(ids[1], first[0]) << "step " << step;
  }
  EXPECT_TRUE(ended.empty());
}

TEST(FaceTracker, SurvivesMissedDetectionsThenEnds) {
  FaceTracker tracker(TrackerSettings{0.3, 2});
  std::vector<TrackId> ended;
  const TrackId id = tracker.update({face_at(50, 50)}, &ended).at(0);
  tracker.update({}, &ended);
  tracker.update({}, &ended);
  EXPECT_TRUE(ended.empty()) << "two missed frames are allowed";
  EXPECT_EQ(tracker.update({face_at(52, 50)}, &ended).at(0), id);
  for (int i = 0; i < 3; ++i) tracker.update({}, &ended);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0], id);
  EXPECT_NE(tracker.update({face_at(52, 50)}, &ended).at(0), id) << "ids are never reused";
}

TEST(FaceTracker, DistantFaceStartsANewTrackAndEndAllReportsLiveTracks) {
  FaceTracker tracker;
  std::vector<TrackId> ended;
  const TrackId a = tracker.update({face_at(10, 10)}, &ended).at(0);
  const std::vector<TrackId> ids = tracker.update({face_at(300, 200)}, &ended);
  EXPECT_NE(ids.at(0), a);
  tracker.end_all(&ended);
  EXPECT_EQ(ended.size(), 2u);
  EXPECT_EQ(tracker.live_tracks(), 0u);
}

TEST(FaceTracker, SimilarityPrefersCoincidingLandmarks) {
  EXPECT_NEAR(FaceTracker::similarity(face_at(0, 0), face_at(0, 0)), 1.0, 1e-9);
  EXPECT_GT(FaceTracker::similarity(face_at(0, 0), face_at(5, 0)),
            FaceTracker::similarity(face_at(0, 0), face_at(20, 0)));
  EXPECT_EQ(FaceTracker::similarity(face_at(0, 0), face_at(500, 0)), 0.0);
}

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
  ScoringBudget budget(BudgetSettings{8.0, 0.5, 0.0, 0.1, 0.0});  // no pending cap
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
  ScoringBudget budget(BudgetSettings{0.0, 0.0, 2.0, 0.0, 0.0});
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
  ScoringBudget budget(BudgetSettings{0.0, 0.0, 2.0, 1.0, 0.0});
  EXPECT_TRUE(budget.is_new(1));
  EXPECT_TRUE(budget.decide(1, signals(0.5), 0.0));
  EXPECT_FALSE(budget.is_new(1));
  // One scoring left in the burst: kept for a new track, not spent on re-scoring track 1.
  EXPECT_FALSE(budget.decide(1, signals(0.9), 0.0));
  EXPECT_TRUE(budget.decide(2, signals(0.5), 0.0));
}

TEST(ScoringBudget, PendingScoringsFollowTheScorersMeasuredSpeed) {
  // Up to 1 s of the scorer's work pending; no other limit.
  ScoringBudget budget(BudgetSettings{0.0, 0.0, 0.0, 1.0, 1.0});
  EXPECT_EQ(budget.max_pending(), 1u) << "unmeasured: one face at a time";
  EXPECT_TRUE(budget.decide(1, signals(0.5), 0.0));
  EXPECT_FALSE(budget.decide(2, signals(0.5), 0.0)) << "the scorer is busy";
  budget.observe_scoring(1, 0.6);
  budget.report(1, 0.5, 0.7);
  EXPECT_EQ(budget.max_pending(), 1u) << "0.6 s a face: one fits in 1 s";
  EXPECT_TRUE(budget.decide(2, signals(0.5), 0.1));
  budget.report(2, 0.5, 0.7);
  // A faster scorer (a GPU, cheaper settings) is given more at once.
  for (int i = 0; i < 20; ++i) budget.observe_scoring(8, 0.8);
  EXPECT_NEAR(budget.seconds_per_face(), 0.1, 0.01);
  EXPECT_GE(budget.max_pending(), 9u);
  int admitted = 0;
  for (TrackId track = 3; track < 20; ++track) admitted += budget.decide(track, signals(0.5), 0.2);
  EXPECT_EQ(admitted, static_cast<int>(budget.max_pending()));
  // A report frees a place, also for a track forgotten meanwhile.
  budget.forget(3);
  budget.report(3, 0.5, 0.7);
  EXPECT_TRUE(budget.decide(30, signals(0.5), 0.3));
}

TEST(LocationPattern, AcceptsOneIntegerConversion) {
  for (const char* good : {"person-%05u.png", "%u.png", "a/%x-%%.png", "id%d.jpg", "%i", "%X",
                           "%o", "%-3u", "%.4u", "100%%/p%u.png"}) {
    EXPECT_EQ(location_pattern_error(good), std::nullopt) << good;
  }
  EXPECT_EQ(format_location("enroll/person-%05u.png", 42), "enroll/person-00042.png");
  EXPECT_EQ(format_location("100%%/p%x.png", 255), "100%/pff.png");
  EXPECT_EQ(format_location("%d", 7), "7");
}

TEST(LocationPattern, RejectsEverythingElse) {
  for (const char* bad : {"%s.png", "%n", "%d%d", "%u-%s", "%%", "plain.png", "%lu", "%lld",
                          "%p", "%f", "%c", "%*d", "%1$u", "trailing%", "%999999999u", "%hhn"}) {
    const auto error = location_pattern_error(bad);
    EXPECT_NE(error, std::nullopt) << bad;
    if (error) EXPECT_FALSE(error->empty());
  }
  // Found by fuzz/location_pattern_fuzzer: a NUL byte passed as a flag or conversion letter, and
  // a 6-digit width was accepted but cut off at 63 characters.
  for (const std::string bad : {std::string("%-3\0u", 5), std::string("a\0%u", 4),
                                std::string("%1000u"), std::string("%.1000u")}) {
    EXPECT_NE(location_pattern_error(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(format_location("%999u", 1).size(), 999u);
  EXPECT_EQ(format_location("%#.999x", 1).size(), 1001u);
}

TEST(LocationPattern, FrameSuffixGoesBeforeTheExtension) {
  EXPECT_EQ(with_frame_suffix("enroll/person-00001.png"), "enroll/person-00001-frame.png");
  EXPECT_EQ(with_frame_suffix("a.b/person"), "a.b/person-frame");
  EXPECT_EQ(with_frame_suffix("person"), "person-frame");
}

BestFrame candidate(TrackId track, double quality, std::uint64_t timestamp) {
  BestFrame best;
  best.track = track;
  best.quality = quality;
  best.timestamp = timestamp;
  best.box = cv::Rect2f(1, 2, 30, 40);
  best.frame_width = 640;
  best.frame_height = 360;
  best.crop = cv::Mat(112, 112, CV_8UC3, cv::Scalar(0, 0, 200));
  return best;
}

TEST(BestFrameSelector, KeepsTheBestPerTrackAndHandsItOutOnce) {
  BestFrameSelector selector;
  EXPECT_TRUE(selector.offer(candidate(1, 0.5, 0)));
  EXPECT_TRUE(selector.offer(candidate(1, 0.7, 1'000'000'000)));
  EXPECT_FALSE(selector.offer(candidate(1, 0.6, 2'000'000'000)));
  EXPECT_FALSE(selector.offer(candidate(1, 0.7, 3'000'000'000))) << "ties keep the earlier";
  EXPECT_TRUE(selector.offer(candidate(2, 0.1, 0)));
  const std::vector<BestFrame> ended = selector.end_tracks({1, 99});
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].quality, 0.7);
  EXPECT_EQ(ended[0].timestamp, 1'000'000'000u);
  const std::vector<BestFrame> rest = selector.take_all();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].track, 2u);
  EXPECT_EQ(selector.tracks(), 0u);
}

TEST(BestFrameSelector, IntervalHandsOutImprovedBestsOfLiveTracks) {
  BestFrameSelector selector;
  selector.offer(candidate(1, 0.5, 0));
  EXPECT_TRUE(selector.take_due(1.0, 2.0).empty());
  EXPECT_EQ(selector.take_due(2.5, 2.0).size(), 1u);
  EXPECT_TRUE(selector.take_due(5.0, 2.0).empty()) << "not improved since";
  selector.offer(candidate(1, 0.8, 5'000'000'000));
  EXPECT_EQ(selector.take_due(5.0, 2.0).size(), 1u);
  EXPECT_TRUE(selector.end_tracks({1}).empty()) << "already handed out and not improved";
}

TEST(BestFrameSelector, SavesCropAndFrame) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("faceqan-best-" + std::to_string(::getpid()));
  BestFrame best = candidate(3, 0.9, 0);
  best.frame = cv::Mat(360, 640, CV_8UC3, cv::Scalar(10, 20, 30));
  save_best_frame(&best, (dir / "sub/p-%03u.png").string(), true);
  EXPECT_EQ(best.crop_path, (dir / "sub/p-003.png").string());
  EXPECT_EQ(best.frame_path, (dir / "sub/p-003-frame.png").string());
  EXPECT_EQ(cv::imread(best.crop_path).size(), cv::Size(112, 112));
  EXPECT_EQ(cv::imread(best.frame_path).size(), cv::Size(640, 360));
  std::filesystem::remove_all(dir);
}

TEST(JsonLinesExport, WritesGvaMetaConvertLayout) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("faceqan-json-" + std::to_string(::getpid()));
  {
    JsonLinesExport out;
    out.open(path.string());
    FaceRecord face;
    face.box = cv::Rect2f(64, 36, 32, 36);
    face.confidence = 0.9f;
    face.track_id = 5;
    FaceResult result;
    result.quality.quality = 0.75;
    result.scored = result.has_quality = true;
    out.write_frame(40, 640, 360, {face}, {result});
    out.write_frame(80, 640, 360, {}, {});  // no faces: no line
    out.write_best(candidate(5, 0.75, 40));
  }
  std::ifstream in(path);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  const nlohmann::json& object = lines[0]["objects"].at(0);
  EXPECT_EQ(lines[0]["timestamp"], 40);
  EXPECT_EQ(lines[0]["resolution"]["width"], 640);
  EXPECT_EQ(object["id"], 5);
  EXPECT_EQ(object["x"], 64);
  EXPECT_EQ(object["w"], 32);
  EXPECT_EQ(object["roi_type"], "face");
  EXPECT_NEAR(object["detection"]["bounding_box"]["x_min"].get<double>(), 0.1, 1e-6);
  EXPECT_EQ(object["detection"]["label"], "face");
  EXPECT_EQ(object["faceqan"]["quality"], 0.75);
  EXPECT_EQ(object["faceqan"]["scored"], true);
  EXPECT_EQ(lines[1]["event"], "best");
  EXPECT_EQ(lines[1]["id"], 5);
  EXPECT_TRUE(lines[1]["crop_location"].is_null());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace faceqan::gst
