// The face tracker: ids kept across frames, missed detections, the similarity it matches by.
#include <gtest/gtest.h>

#include "faceqan/stream/tracker.h"
#include "frontal_face.h"

namespace faceqan {
namespace {

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

}  // namespace
}  // namespace faceqan
