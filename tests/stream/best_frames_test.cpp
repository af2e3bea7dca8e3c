// The best-frame selector: the best per track, handed out once or every interval; saving.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <unistd.h>

#include <filesystem>

#include "faceqan/stream/best_frames.h"

namespace faceqan {
namespace {

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

}  // namespace
}  // namespace faceqan
