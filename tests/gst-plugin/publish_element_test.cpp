// The faceqanpublish element against a real Mosquitto broker, fed by a synthetic source: frames
// with "face" region metas in faceqan's layout and faceqan's track events, pushed through a
// GstHarness at 30 frames/s. (The clip through faceqan itself: publish_clip_test.cpp.)
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "element_test_support.h"
#include "mqtt_test_support.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kWidth = 64, kHeight = 48;
constexpr GstClockTime kFrameDuration = GST_SECOND / 30;
constexpr const char* kCaps = "video/x-raw,format=RGB,width=64,height=48,framerate=30/1";

void add_double(GValue* array, double v) {
  GValue value = G_VALUE_INIT;
  g_value_init(&value, G_TYPE_DOUBLE);
  g_value_set_double(&value, v);
  gst_value_array_append_and_take_value(array, &value);
}

// A frame with `faces` "face" metas carrying "detection" and "faceqan" parameters as faceqan
// writes them (track ids 1..faces).
GstBuffer* synthetic_frame(guint64 index, int faces) {
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, kWidth * kHeight * 3, nullptr);
  gst_buffer_memset(buffer, 0, 0, kWidth * kHeight * 3);
  GST_BUFFER_PTS(buffer) = index * kFrameDuration;
  GST_BUFFER_DURATION(buffer) = kFrameDuration;
  for (int f = 0; f < faces; ++f) {
    const guint x = 2 + 12 * f, y = 10, w = 10, h = 12;
    GstVideoRegionOfInterestMeta* roi =
        gst_buffer_add_video_region_of_interest_meta(buffer, "face", x, y, w, h);
    gst_video_region_of_interest_meta_add_param(
        roi, gst_structure_new("detection", "x_min", G_TYPE_DOUBLE, double(x) / kWidth, "y_min",
                               G_TYPE_DOUBLE, double(y) / kHeight, "x_max", G_TYPE_DOUBLE,
                               double(x + w) / kWidth, "y_max", G_TYPE_DOUBLE,
                               double(y + h) / kHeight, "confidence", G_TYPE_DOUBLE, 0.9,
                               "label_id", G_TYPE_INT, 0, "label", G_TYPE_STRING, "face",
                               nullptr));
    GstStructure* q = gst_structure_new(
        "faceqan", "quality", G_TYPE_DOUBLE, 0.5 + 0.01 * f, "mean-similarity", G_TYPE_DOUBLE,
        0.9, "std-similarity", G_TYPE_DOUBLE, 0.05, "symmetry", G_TYPE_DOUBLE, 0.95, "scored",
        G_TYPE_BOOLEAN, TRUE, "track-id", G_TYPE_UINT, guint(f + 1), nullptr);
    GValue landmarks = G_VALUE_INIT;
    gst_value_array_init(&landmarks, 10);
    for (int i = 0; i < 10; ++i) add_double(&landmarks, i % 2 == 0 ? x + i : y + i);
    gst_structure_take_value(q, "landmarks", &landmarks);
    gst_video_region_of_interest_meta_add_param(roi, q);
  }
  return buffer;
}

GstEvent* track_event(const char* event, guint track, guint64 timestamp,
                      const char* reason = nullptr) {
  GstStructure* s = gst_structure_new("faceqan-track", "event", G_TYPE_STRING, event, "track-id",
                                      G_TYPE_UINT, track, "person-id", G_TYPE_UINT, track,
                                      "timestamp", G_TYPE_UINT64, timestamp, "quality",
                                      G_TYPE_DOUBLE, 0.6, nullptr);
  if (reason != nullptr) gst_structure_set(s, "reason", G_TYPE_STRING, reason, nullptr);
  return gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, s);
}

GstHarness* publish_harness(const std::string& properties, const std::string& camera = "cam") {
  init_gstreamer();
  GstHarness* h = gst_harness_new_parse(("faceqanpublish " + properties).c_str());
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_object_unref(bus);
  gst_harness_set_src_caps_str(h, kCaps);
  if (!camera.empty()) {
    gst_harness_push_event(
        h, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM_STICKY,
                                gst_structure_new("faceqan-camera", "camera-id", G_TYPE_STRING,
                                                  camera.c_str(), nullptr)));
  }
  return h;
}

std::vector<std::uint64_t> sequences(const std::vector<ReceivedMessage>& messages) {
  std::vector<std::uint64_t> out;
  for (const auto& m : messages) out.push_back(m.body.value("sequence", 0ull));
  return out;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = first; i <= last; ++i) out.push_back(i);
  return out;
}

std::vector<std::string> messages_of_type(GstElement* element, GstMessageType type) {
  std::vector<std::string> out;
  GstBus* bus = gst_element_get_bus(element);
  while (GstMessage* m = gst_bus_pop_filtered(bus, type)) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    if (type == GST_MESSAGE_WARNING) gst_message_parse_warning(m, &error, &debug);
    if (type == GST_MESSAGE_ERROR) gst_message_parse_error(m, &error, &debug);
    out.push_back(error != nullptr ? error->message : "");
    if (error != nullptr) g_error_free(error);
    g_free(debug);
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  return out;
}

// The broker stops for two seconds mid-stream and comes back: every frames message made
// meanwhile arrives afterwards, in order once duplicates (QoS 1 resends) are removed; the video
// never waits (every frame out, and at once).
TEST(PublishElementTest, BrokerRestartLosesNothingAndNeverStallsTheVideo) {
  MosquittoBroker broker(scratch_dir("publish_element_restart"));
  ASSERT_TRUE(broker.start());
  TestSubscriber subscriber("faceqan-element-restart", broker.port(), "faceqan/#");
  ASSERT_TRUE(subscriber.wait_subscribed(5s));
  GstHarness* h = publish_harness("address=" + broker.address() +
                                  " max-reconnect-interval=1 stats-interval=1 flush-timeout=15000");
  constexpr int kFrames = 150, kStop = 40, kRestart = 100;
  Clock::duration longest{};
  const Clock::time_point start = Clock::now();
  std::size_t queued_while_down = 0;
  for (int i = 0; i < kFrames; ++i) {
    if (i == kStop) broker.stop();
    if (i == kRestart) ASSERT_TRUE(broker.start());
    if (i == 5) gst_harness_push_event(h, track_event("new", 1, i * kFrameDuration));
    if (i == 130) gst_harness_push_event(h, track_event("end", 1, 5 * kFrameDuration, "lost"));
    const Clock::time_point before = Clock::now();
    ASSERT_EQ(gst_harness_push(h, synthetic_frame(i, 5)), GST_FLOW_OK);
    longest = std::max(longest, Clock::now() - before);
    if (i >= kStop && i < kRestart) ++queued_while_down;
    std::this_thread::sleep_until(start + (i + 1) * std::chrono::nanoseconds(kFrameDuration));
  }
  EXPECT_EQ(gst_harness_buffers_received(h), static_cast<guint>(kFrames));  // frames out = in
  const Clock::time_point eos_at = Clock::now();
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  const double flush_seconds = std::chrono::duration<double>(Clock::now() - eos_at).count();
  ASSERT_TRUE(subscriber.wait_until(
      [](const auto& m) {
        const auto stats = unique_of_kind(m, "stats");
        return unique_of_kind(m, "frames").size() >= kFrames && !stats.empty() &&
               stats.back().body["publisher"]["frames"] == kFrames &&
               unique_of_kind(m, "tracks").size() >= 2;
      },
      20s))
      << "frames received: " << unique_of_kind(subscriber.messages(), "frames").size();
  const auto all = subscriber.messages();
  const auto frames = unique_of_kind(all, "frames");
  EXPECT_EQ(sequences(frames), range(1, kFrames));
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].body["timestamp"], i * kFrameDuration);
    EXPECT_EQ(frames[i].body["objects"].size(), 5u);
    EXPECT_EQ(frames[i].body["camera_id"], "cam");
  }
  const auto tracks = unique_of_kind(all, "tracks");
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[0].body["event"], "new");
  EXPECT_EQ(tracks[1].body["event"], "end");
  EXPECT_EQ(tracks[1].body["reason"], "lost");
  const auto stats = unique_of_kind(all, "stats");
  ASSERT_FALSE(stats.empty());
  const auto& last = stats.back().body["publisher"];
  EXPECT_EQ(last["dropped"], 0);
  EXPECT_GE(last["reconnects"], 1);
  EXPECT_EQ(last["frames"], kFrames);
  // Not a performance check (bench/publish_bench.cpp measures): an element that waited for the
  // broker would hold a frame for the 2 s outage or the reconnection.
  EXPECT_LT(longest, 500ms) << "a frame waited in the element";
  std::size_t duplicates = 0;
  for (const auto& m : all) {
    if (m.topic == "faceqan/cam/frames") ++duplicates;
  }
  duplicates -= frames.size();
  std::printf(
      "restart: %d frames in, %u out; %zu frames messages made while the broker was down; "
      "messages queued %llu, acknowledged %llu, dropped %llu; frames delivered %zu of %d "
      "(%zu duplicates); reconnects %llu; longest frame in the element %.3f ms (harness push), "
      "%.3f ms (element's max_frame_latency); EOS flush %.2f s\n",
      kFrames, gst_harness_buffers_received(h), queued_while_down,
      static_cast<unsigned long long>(last["queued"].get<std::uint64_t>()),
      static_cast<unsigned long long>(last["acknowledged"].get<std::uint64_t>()),
      static_cast<unsigned long long>(last["dropped"].get<std::uint64_t>()), frames.size(),
      kFrames, duplicates, static_cast<unsigned long long>(last["reconnects"].get<std::uint64_t>()),
      std::chrono::duration<double, std::milli>(longest).count(),
      last["max_frame_latency"].get<double>() / 1e6, flush_seconds);
  const auto warnings = messages_of_type(h->element, GST_MESSAGE_WARNING);
  EXPECT_FALSE(warnings.empty()) << "losing the broker is worth a warning";
  EXPECT_TRUE(messages_of_type(h->element, GST_MESSAGE_ERROR).empty());
  gst_harness_teardown(h);
}

// max-queued=10 while the broker is down: the oldest frames messages go, never the track
// events, and the final stats message counts the drops (the sequence gap shows the same).
TEST(PublishElementTest, OverflowCountsDropsInStats) {
  MosquittoBroker broker(scratch_dir("publish_element_overflow"));
  ASSERT_TRUE(broker.start());
  TestSubscriber subscriber("faceqan-element-overflow", broker.port(), "faceqan/#");
  ASSERT_TRUE(subscriber.wait_subscribed(5s));
  broker.stop();
  GstHarness* h = publish_harness("address=" + broker.address() +
                                  " max-queued=10 stats-interval=0 max-reconnect-interval=1 "
                                  "flush-timeout=15000");
  gst_harness_push_event(h, track_event("new", 1, 0));
  for (int i = 0; i < 30; ++i) ASSERT_EQ(gst_harness_push(h, synthetic_frame(i, 1)), GST_FLOW_OK);
  gst_harness_push_event(h, track_event("end", 1, 0, "lost"));
  // Queue now: new, frames 23-30, end (30 + 2 messages for 10 places: 22 frames dropped).
  ASSERT_TRUE(broker.start());
  // Delivered before EOS, so that the final stats message does not push out one more frame.
  ASSERT_TRUE(subscriber.wait_until(
      [](const auto& m) {
        return unique_of_kind(m, "frames").size() + unique_of_kind(m, "tracks").size() >= 10;
      },
      15s));
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));  // + the final stats, then flush
  ASSERT_TRUE(subscriber.wait_until(
      [](const auto& m) { return !unique_of_kind(m, "stats").empty(); }, 15s));
  const auto all = subscriber.messages();
  const auto stats = unique_of_kind(all, "stats").back().body["publisher"];
  const auto frames = unique_of_kind(all, "frames");
  EXPECT_EQ(stats["dropped"], 22);
  EXPECT_EQ(stats["dropped_frames"], 22);
  EXPECT_EQ(stats["dropped_tracks"], 0);
  EXPECT_EQ(sequences(frames), range(23, 30));
  EXPECT_EQ(30 - frames.size(), stats["dropped"].get<std::size_t>());
  const auto tracks = unique_of_kind(all, "tracks");
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[1].body["event"], "end");
  gst_harness_teardown(h);
}

// Stopped without EOS: the open tracks end with reason "stopped", flushed within flush-timeout.
TEST(PublishElementTest, StoppingEndsOpenTracksWithReasonStopped) {
  MosquittoBroker broker(scratch_dir("publish_element_stopped"));
  ASSERT_TRUE(broker.start());
  TestSubscriber subscriber("faceqan-element-stopped", broker.port(), "faceqan/#");
  ASSERT_TRUE(subscriber.wait_subscribed(5s));
  GstHarness* h = publish_harness("address=" + broker.address(), "door");
  gst_harness_push_event(h, track_event("new", 7, 0));
  gst_harness_push_event(h, track_event("update", 7, kFrameDuration));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(gst_harness_push(h, synthetic_frame(i, 1)), GST_FLOW_OK);
  gst_element_set_state(h->element, GST_STATE_NULL);
  ASSERT_TRUE(subscriber.wait_until(
      [](const auto& m) { return unique_of_kind(m, "tracks").size() >= 3; }, 10s));
  const auto tracks = unique_of_kind(subscriber.messages(), "tracks");
  EXPECT_EQ(tracks[2].topic, "faceqan/door/tracks");
  EXPECT_EQ(tracks[2].body["event"], "end");
  EXPECT_EQ(tracks[2].body["reason"], "stopped");
  EXPECT_EQ(tracks[2].body["track_id"], 7);
  EXPECT_EQ(tracks[2].body["timestamp"], kFrameDuration);  // the latest best's
  gst_harness_teardown(h);
}

// TLS with a test CA (subjectAltName=IP:127.0.0.1) and a password file: the right credentials
// deliver, wrong ones fail the element with a clear error.
TEST(PublishElementTest, TlsAndPasswordAcceptRightCredentialsAndRefuseWrongOnes) {
  const std::string dir = scratch_dir("publish_element_tls");
  const MosquittoBroker::Tls tls = make_test_certificates(dir);
  const std::string passwords = make_password_file(dir, "camera", "correct-horse");
  MosquittoBroker broker(dir + "/broker", passwords, tls);
  ASSERT_TRUE(broker.start());
  std::ofstream(dir + "/right.txt") << "correct-horse\n";
  std::ofstream(dir + "/wrong.txt") << "battery-staple\n";
  TestSubscriber subscriber("faceqan-element-tls", broker.port(), "faceqan/#", tls.ca_file,
                            "camera", "correct-horse");
  ASSERT_TRUE(subscriber.wait_subscribed(5s));
  const std::string common =
      "address=" + broker.address() + " tls-ca-file=" + tls.ca_file + " username=camera ";
  {
    GstHarness* h = publish_harness(common + "password-file=" + dir + "/right.txt");
    for (int i = 0; i < 5; ++i) ASSERT_EQ(gst_harness_push(h, synthetic_frame(i, 2)), GST_FLOW_OK);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
    EXPECT_TRUE(subscriber.wait_until(
        [](const auto& m) { return unique_of_kind(m, "frames").size() >= 5; }, 10s));
    EXPECT_TRUE(messages_of_type(h->element, GST_MESSAGE_ERROR).empty());
    gst_harness_teardown(h);
  }
  {
    GstHarness* h = publish_harness(common + "password-file=" + dir + "/wrong.txt");
    GstBus* bus = gst_element_get_bus(h->element);
    GstMessage* error = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
    gst_object_unref(bus);
    ASSERT_NE(error, nullptr) << "wrong credentials were not reported";
    GError* e = nullptr;
    gst_message_parse_error(error, &e, nullptr);
    EXPECT_TRUE(g_error_matches(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED));
    EXPECT_NE(std::string(e->message).find("refused"), std::string::npos) << e->message;
    EXPECT_NE(std::string(e->message).find("CONNACK 5"), std::string::npos) << e->message;
    std::printf("wrong password: %s\n", e->message);
    g_error_free(e);
    gst_message_unref(error);
    // The video still flows (it never waits for the network).
    EXPECT_EQ(gst_harness_push(h, synthetic_frame(0, 1)), GST_FLOW_OK);
    gst_harness_teardown(h);
  }
}

// Settings that cannot work fail the start (READY->PAUSED) with an error naming the cause.
TEST(PublishElementTest, BadAddressesAndFilesFailTheStartNamingTheCause) {
  init_gstreamer();
  const std::string missing = scratch_dir("publish_element_bad") + "/missing";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"address=localhost", "address \"localhost\""},
      {"address=127.0.0.1:99999", "address \"127.0.0.1:99999\""},
      {"tls-ca-file=" + missing + ".crt", "tls-ca-file \"" + missing + ".crt\""},
      {"username=u password-file=" + missing + ".pass", "password-file \"" + missing + ".pass\""},
      {"method=file file-path=" + missing + "/out.jsonl", "file-path \"" + missing},
      {"method=file", "file-path"},
  };
  for (const auto& [properties, expected] : cases) {
    GError* error = nullptr;
    GstElement* element =
        gst_parse_launch(("faceqanpublish " + properties).c_str(), &error);
    ASSERT_EQ(error, nullptr) << properties;
    GstBus* bus = gst_bus_new();
    gst_element_set_bus(element, bus);
    EXPECT_EQ(gst_element_set_state(element, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE)
        << properties;
    const std::string text = pop_error(element);
    EXPECT_NE(text.find(expected), std::string::npos) << properties << ": " << text;
    gst_element_set_state(element, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(element);
  }
}

// method=file: the same messages, one {"topic", "message"} object per line.
TEST(PublishElementTest, FileMethodWritesTheSameMessages) {
  const std::string path = scratch_dir("publish_element_file") + "/messages.jsonl";
  GstHarness* h = publish_harness("method=file publish-frames=all file-path=" + path, "lobby");
  gst_harness_push_event(h, track_event("new", 1, 0));
  ASSERT_EQ(gst_harness_push(h, synthetic_frame(0, 2)), GST_FLOW_OK);
  ASSERT_EQ(gst_harness_push(h, synthetic_frame(1, 0)), GST_FLOW_OK);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  gst_harness_teardown(h);
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  // new, frame 0, frame 1 (publish-frames=all), end (eos: the track was still open), stats.
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["topic"], "faceqan/lobby/tracks");
  EXPECT_EQ(lines[1]["topic"], "faceqan/lobby/frames");
  const auto& object = lines[1]["message"]["objects"][0];
  EXPECT_EQ(object["roi_type"], "face");
  EXPECT_EQ(object["id"], 1);
  EXPECT_EQ(object["w"], 10);
  EXPECT_DOUBLE_EQ(object["detection"]["bounding_box"]["x_min"].get<double>(), 2.0 / kWidth);
  EXPECT_EQ(object["detection"]["label"], "face");
  EXPECT_DOUBLE_EQ(object["faceqan"]["quality"].get<double>(), 0.5);
  EXPECT_EQ(object["faceqan"]["landmarks"].size(), 10u);
  EXPECT_EQ(lines[1]["message"]["resolution"]["width"], kWidth);
  EXPECT_EQ(lines[2]["message"]["objects"].size(), 0u);
  EXPECT_EQ(lines[2]["message"]["sequence"], 2);
  EXPECT_EQ(lines[3]["message"]["event"], "end");
  EXPECT_EQ(lines[3]["message"]["reason"], "eos");
  EXPECT_EQ(lines[4]["topic"], "faceqan/lobby/stats");
  EXPECT_EQ(lines[4]["message"]["publisher"]["frames"], 2);
}

}  // namespace
}  // namespace faceqan::test
