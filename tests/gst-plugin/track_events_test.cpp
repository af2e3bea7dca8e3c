// faceqan's track events (track_events.h) and how faceqanpublish turns them into tracks
// messages, crops included (attach-crop): no models, no broker (method=file).
#include <gst/check/gstharness.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "element_test_support.h"
#include "test_support.h"
#include "track_events.h"

namespace faceqan::gst {
namespace {

std::string field(GstEvent* event, const char* name) {
  const GstStructure* s = gst_event_get_structure(event);
  const char* value = gst_structure_get_string(s, name);
  return value != nullptr ? value : "";
}

BestFrame best_of(TrackId track, double quality, std::uint64_t timestamp) {
  BestFrame best;
  best.track = track;
  best.quality = quality;
  best.timestamp = timestamp;
  best.box = cv::Rect2f(10, 20, 30, 40);
  best.frame_width = 64;
  best.frame_height = 96;
  best.crop = cv::Mat(112, 112, CV_8UC3, cv::Scalar(40, 120, 200));
  best.embedding = {0.6f, 0.8f};
  return best;
}

TEST(TrackEventLogTest, NewOnceUpdateOnImprovementEndWithTheBest) {
  faceqan::test::init_gstreamer();
  TrackEventLog log;
  log.set_with_embedding(true);
  FaceRecord face;
  face.track_id = 4;
  face.box = cv::Rect2f(1, 2, 3, 4);
  FaceResult unscored;  // no quality yet
  log.saw(face, unscored, 64, 96, 1000);
  log.saw(face, unscored, 64, 96, 2000);  // the same track again: nothing
  log.improved(best_of(4, 0.7, 2000));
  log.ended(4, nullptr, "lost");  // ended: a later best for it is not an event
  log.ended(4, nullptr, "lost");
  std::vector<GstEvent*> events = log.take();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(GST_EVENT_TYPE(events[0]), GST_EVENT_CUSTOM_DOWNSTREAM);
  EXPECT_TRUE(gst_structure_has_name(gst_event_get_structure(events[0]), "faceqan-track"));
  EXPECT_EQ(field(events[0], "event"), "new");
  EXPECT_FALSE(gst_structure_has_field(gst_event_get_structure(events[0]), "quality"));
  EXPECT_EQ(field(events[1], "event"), "update");
  double quality = 0;
  EXPECT_TRUE(gst_structure_get_double(gst_event_get_structure(events[1]), "quality", &quality));
  EXPECT_DOUBLE_EQ(quality, 0.7);
  EXPECT_TRUE(gst_structure_has_field(gst_event_get_structure(events[1]), "embedding"));
  EXPECT_TRUE(gst_structure_has_field(gst_event_get_structure(events[1]), "crop"));
  EXPECT_EQ(field(events[2], "event"), "end");
  EXPECT_EQ(field(events[2], "reason"), "lost");
  // Ended without its best (the caller had none): no quality, as for a track never scored.
  EXPECT_FALSE(gst_structure_has_field(gst_event_get_structure(events[2]), "quality"));
  for (GstEvent* e : events) gst_event_unref(e);

  // EOS: tracks with a best end with it, the others without a quality.
  log.saw(face, unscored, 64, 96, 3000);
  FaceRecord other = face;
  other.track_id = 5;
  log.saw(other, unscored, 64, 96, 3000);
  log.end_all({best_of(5, 0.4, 3000)}, "eos");
  events = log.take();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(field(events[2], "event"), "end");
  guint track = 0;
  gst_structure_get_uint(gst_event_get_structure(events[2]), "track-id", &track);
  EXPECT_EQ(track, 5u);
  EXPECT_TRUE(gst_structure_has_field(gst_event_get_structure(events[2]), "quality"));
  EXPECT_EQ(field(events[3], "reason"), "eos");
  EXPECT_FALSE(gst_structure_has_field(gst_event_get_structure(events[3]), "quality"));
  EXPECT_EQ(log.open_tracks(), 0u);
  for (GstEvent* e : events) gst_event_unref(e);
}

TEST(TrackEventLogTest, PublisherSendsTheEventsWithCropsAsBase64Jpeg) {
  faceqan::test::init_gstreamer();
  const std::string path = faceqan::test::scratch_dir("track_events_publish") + "/out.jsonl";
  GstHarness* h = gst_harness_new_parse(
      ("faceqanpublish method=file attach-crop=true publish-frames=none file-path=" + path).c_str());
  gst_harness_set_src_caps_str(h, "video/x-raw,format=RGB,width=64,height=96,framerate=30/1");
  TrackEventLog log;
  FaceRecord face;
  face.track_id = 9;
  face.box = cv::Rect2f(1, 2, 3, 4);
  log.saw(face, FaceResult{}, 64, 96, 0);
  log.improved(best_of(9, 0.8, 0));
  const BestFrame best = best_of(9, 0.8, 0);
  log.ended(9, &best, "lost");
  for (GstEvent* e : log.take()) gst_harness_push_event(h, e);
  gst_harness_push_event(h, gst_event_new_eos());
  gst_harness_teardown(h);
  std::ifstream in(path);
  std::vector<nlohmann::json> tracks;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["topic"].get<std::string>().find("/tracks") != std::string::npos) {
      tracks.push_back(j["message"]);
    }
  }
  ASSERT_EQ(tracks.size(), 3u);
  EXPECT_EQ(tracks[0]["event"], "new");
  EXPECT_FALSE(tracks[0].contains("quality"));
  EXPECT_FALSE(tracks[0].contains("crop"));
  EXPECT_EQ(tracks[1]["event"], "update");
  ASSERT_TRUE(tracks[1].contains("crop"));
  EXPECT_EQ(tracks[1]["crop"].get<std::string>().rfind("/9j/", 0), 0u);  // JPEG's FF D8 FF
  EXPECT_EQ(tracks[2]["event"], "end");
  EXPECT_EQ(tracks[2]["reason"], "lost");
  EXPECT_DOUBLE_EQ(tracks[2]["quality"].get<double>(), 0.8);
  EXPECT_EQ(tracks[2]["box"]["w"], 30);
  EXPECT_TRUE(tracks[2].contains("crop"));
  EXPECT_FALSE(tracks[2].contains("embedding"));  // attach-embedding was off
}

}  // namespace
}  // namespace faceqan::gst
