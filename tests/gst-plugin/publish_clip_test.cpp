// The clip through `faceqan ! faceqanpublish` to a real Mosquitto: every frame with faces arrives
// as a frames message equal to faceqan's own json-location line, in order (after removing
// duplicates by sequence number), and the tracks topic's end events match the "faceqan-best"
// messages. The first 90 frames of hamilton_clip.mp4 (1-7 faces each) at cheap FaceQAN settings.
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "element_test_support.h"
#include "mqtt_test_support.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

using namespace std::chrono_literals;

constexpr int kFrames = 90;

struct Best {
  double quality = 0;
  guint64 timestamp = 0;
};

TEST(PublishClipTest, FaceqanToBrokerDeliversEveryFrameAndTheTrackEnds) {
  init_gstreamer();
  const std::string dir = scratch_dir("publish_clip");
  MosquittoBroker broker(dir + "/broker");
  ASSERT_TRUE(broker.start());
  TestSubscriber subscriber("faceqan-clip", broker.port(), "faceqan/#");
  ASSERT_TRUE(subscriber.wait_subscribed(5s));
  const std::string description =
      "filesrc location=\"" + data_file("video/hamilton_clip.mp4") +
      "\" ! decodebin ! videoconvert ! video/x-raw,format=BGR ! identity eos-after=" +
      std::to_string(kFrames) + " ! faceqan camera-id=stage " + kCheapScoring +
      " scoring=budget best-frames=true stats-interval=1000 json-location=\"" + dir +
      "/faces.jsonl\" ! faceqanpublish address=" + broker.address() +
      " stats-interval=1 ! fakesink sync=false";
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &error);
  ASSERT_EQ(error, nullptr) << error->message;
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  std::map<guint, Best> bests;
  for (bool running = true; running;) {
    GstMessage* message = gst_bus_timed_pop(bus, 300 * GST_SECOND);
    ASSERT_NE(message, nullptr) << "the clip did not finish within 300 s";
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT) {
      const GstStructure* s = gst_message_get_structure(message);
      if (gst_structure_has_name(s, "faceqan-best")) {
        guint track = 0;
        Best best;
        gst_structure_get_uint(s, "track-id", &track);
        gst_structure_get_double(s, "quality", &best.quality);
        gst_structure_get_uint64(s, "timestamp", &best.timestamp);
        bests[track] = best;
      }
    } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
      ADD_FAILURE() << error_text(message);
      running = false;
    } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
      running = false;
    }
    gst_message_unref(message);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);

  std::vector<nlohmann::json> lines;  // faceqan's own frame lines
  {
    std::ifstream in(dir + "/faces.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      if (!j.contains("event")) lines.push_back(std::move(j));
    }
  }
  ASSERT_GT(lines.size(), 50u) << "too few frames with faces to test anything";
  ASSERT_FALSE(bests.empty());
  ASSERT_TRUE(subscriber.wait_until(
      [&](const auto& m) {
        const auto stats = unique_of_kind(m, "stats");
        return unique_of_kind(m, "frames").size() >= lines.size() && !stats.empty() &&
               stats.back().body["publisher"]["frames"] == kFrames;
      },
      20s))
      << unique_of_kind(subscriber.messages(), "frames").size() << " of " << lines.size();
  const auto all = subscriber.messages();

  const auto frames = unique_of_kind(all, "frames");
  ASSERT_EQ(frames.size(), lines.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto& m = frames[i].body;
    const auto& line = lines[i];
    ASSERT_EQ(frames[i].topic, "faceqan/stage/frames");
    ASSERT_EQ(m["sequence"], i + 1) << "out of order";
    EXPECT_EQ(m["camera_id"], "stage");
    EXPECT_EQ(m["timestamp"], line["timestamp"]);
    EXPECT_EQ(m["resolution"], line["resolution"]);
    ASSERT_EQ(m["objects"].size(), line["objects"].size());
    for (std::size_t k = 0; k < line["objects"].size(); ++k) {
      const auto& a = m["objects"][k];
      const auto& b = line["objects"][k];
      for (const char* field : {"x", "y", "w", "h", "id", "roi_type"}) {
        EXPECT_EQ(a[field], b[field]) << field << " frame " << i;
      }
      EXPECT_EQ(a["detection"]["label"], "face");
      EXPECT_EQ(a["faceqan"]["scored"], b["faceqan"]["scored"]);
      EXPECT_EQ(a["faceqan"].contains("quality"), b["faceqan"].contains("quality"));
      if (b["faceqan"].contains("quality")) {
        EXPECT_NEAR(a["faceqan"]["quality"].get<double>(), b["faceqan"]["quality"].get<double>(),
                    1e-9);
      }
      // The embedding norm is a scored face's own, in the message and the JSON line alike.
      const bool scored = b["faceqan"]["scored"].get<bool>();
      EXPECT_EQ(a["faceqan"].contains("embedding_norm"), scored) << "frame " << i;
      EXPECT_EQ(b["faceqan"].contains("embedding_norm"), scored) << "frame " << i;
      if (scored && a["faceqan"].contains("embedding_norm")) {
        EXPECT_GT(a["faceqan"]["embedding_norm"].get<double>(), 0.0);
        EXPECT_EQ(a["faceqan"]["embedding_norm"], b["faceqan"]["embedding_norm"]);
      }
      for (std::size_t p = 0; p < 10; ++p) {
        EXPECT_NEAR(a["faceqan"]["landmarks"][p].get<double>(),
                    b["faceqan"]["landmarks"][p].get<double>(), 1e-3);
      }
    }
  }

  // Tracks: every track opens once and ends once; the ends of scored tracks are the best frames.
  const auto tracks = unique_of_kind(all, "tracks");
  std::set<guint> opened, ended;
  std::map<guint, Best> ends_with_quality;
  for (const auto& t : tracks) {
    EXPECT_EQ(t.topic, "faceqan/stage/tracks");
    const std::string event = t.body["event"];
    const guint track = t.body["track_id"];
    if (event == "new") {
      EXPECT_TRUE(opened.insert(track).second) << "track " << track << " opened twice";
    } else if (event == "update") {
      EXPECT_TRUE(opened.count(track)) << "update before new, track " << track;
      EXPECT_TRUE(t.body.contains("quality"));
      EXPECT_TRUE(t.body.contains("embedding_norm")) << "the best face's norm, track " << track;
    } else {
      ASSERT_EQ(event, "end");
      EXPECT_TRUE(opened.count(track)) << "end before new, track " << track;
      EXPECT_TRUE(ended.insert(track).second) << "track " << track << " ended twice";
      const std::string reason = t.body["reason"];
      EXPECT_TRUE(reason == "lost" || reason == "eos") << reason;
      if (t.body.contains("quality")) {
        ends_with_quality[track] = {t.body["quality"].get<double>(),
                                    t.body["timestamp"].get<guint64>()};
      }
    }
  }
  EXPECT_EQ(opened, ended);
  ASSERT_EQ(ends_with_quality.size(), bests.size());
  for (const auto& [track, best] : bests) {
    ASSERT_TRUE(ends_with_quality.count(track)) << "no end event for best track " << track;
    EXPECT_NEAR(ends_with_quality[track].quality, best.quality, 1e-9);
    EXPECT_EQ(ends_with_quality[track].timestamp, best.timestamp);
  }
  const auto stats = unique_of_kind(all, "stats");
  ASSERT_FALSE(stats.empty());
  EXPECT_EQ(stats.back().body["faceqan"]["frames_in"], kFrames);
  EXPECT_EQ(stats.back().body["publisher"]["dropped"], 0);
  std::printf("clip: %d frames, %zu frames messages, %zu tracks, %zu best frames\n", kFrames,
              frames.size(), opened.size(), bests.size());
}

}  // namespace
}  // namespace faceqan::test

namespace faceqan::test {
namespace {

const GstStructure* first_faceqan_params(GstBuffer* buffer) {
  gpointer state = nullptr;
  while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
             buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta);
    if (const GstStructure* s = gst_video_region_of_interest_meta_get_param(roi, "faceqan")) {
      return s;
    }
  }
  return nullptr;
}

// DL Streamer's gvametaconvert exports a params structure's string fields label and model_name
// and its confidence only: the "faceqan" structure carries them, confidence = the quality.
TEST(FaceqanParamsTest, CarryDlStreamerLabelModelNameAndConfidence) {
  init_gstreamer();
  const cv::Mat photo = read_photo("groups/bbt1.jpg");
  GstHarness* h = faceqan_harness(kCheapScoring, photo);
  ASSERT_EQ(gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, 0)), GST_FLOW_OK);
  GstBuffer* out = pull_within(h, 120);
  ASSERT_NE(out, nullptr);
  const GstStructure* s = first_faceqan_params(out);
  ASSERT_NE(s, nullptr) << "no face found in groups/bbt1.jpg";
  EXPECT_STREQ(gst_structure_get_string(s, "label"), "face");
  EXPECT_STREQ(gst_structure_get_string(s, "model_name"), "mobilefacenet512_faceplugin.onnx");
  double quality = -1, confidence = -2;
  ASSERT_TRUE(gst_structure_get_double(s, "quality", &quality));
  ASSERT_TRUE(gst_structure_get_double(s, "confidence", &confidence));
  EXPECT_EQ(confidence, quality);
  EXPECT_GT(quality, 0.0);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

// A face never scored (its eyes closer than budget-min-eye-distance) has no quality in the meta,
// the "faceqan" message and json-location, rather than a 0 that reads as the worst quality.
TEST(FaceqanParamsTest, UnscoredFaceHasNoQuality) {
  init_gstreamer();
  const std::string dir = scratch_dir("faceqan_unscored");
  const cv::Mat photo = read_photo("groups/bbt1.jpg");
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) +
                                      " scoring=budget budget-min-eye-distance=10000 message=true "
                                      "json-location=" + dir + "/faces.jsonl",
                                  photo);
  ASSERT_EQ(gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, 0)), GST_FLOW_OK);
  GstBuffer* out = pull_within(h, 120);
  ASSERT_NE(out, nullptr);
  const GstStructure* s = first_faceqan_params(out);
  ASSERT_NE(s, nullptr);
  gboolean scored = TRUE;
  ASSERT_TRUE(gst_structure_get_boolean(s, "scored", &scored));
  EXPECT_FALSE(scored);
  for (const char* field : {"quality", "mean-similarity", "std-similarity", "symmetry",
                            "confidence", "embedding-norm"}) {
    EXPECT_FALSE(gst_structure_has_field(s, field)) << field;
  }
  EXPECT_TRUE(gst_structure_has_field(s, "landmarks"));
  gst_buffer_unref(out);
  for (GstMessage* m : pop_messages(h->element, "faceqan")) {
    const GValue* faces = gst_structure_get_value(gst_message_get_structure(m), "faces");
    ASSERT_GT(gst_value_list_get_size(faces), 0u);
    const GstStructure* face = gst_value_get_structure(gst_value_list_get_value(faces, 0));
    EXPECT_FALSE(gst_structure_has_field(face, "quality"));
    gst_message_unref(m);
  }
  HarnessOutput rest;
  push_eos_and_collect(h, rest);
  gst_harness_teardown(h);
  std::ifstream in(dir + "/faces.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto frame = nlohmann::json::parse(line);
  const auto& q = frame["objects"][0]["faceqan"];
  EXPECT_FALSE(q.contains("quality")) << line;
  EXPECT_FALSE(q.contains("embedding_norm")) << line;
  EXPECT_EQ(q["scored"], false);
}

}  // namespace
}  // namespace faceqan::test
