// Tracking, the scoring budget and best-frame selection end to end: the element with
// scoring=budget on hamilton_clip.mp4 (275 frames, 1-7 faces each) at cheap FaceQAN settings,
// checked through its JSON-lines export, its "faceqan-best" messages and the saved crops.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "element_test_support.h"
#include "faceqan/face_alignment.h"
#include "faceqan/face_detector.h"
#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#include "faceqan/quality.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

struct BestMessage {
  guint track = 0;
  double quality = 0;
  guint64 timestamp = 0;
  std::string crop;
};

// One run of the clip, shared by the tests below (it is the expensive part).
struct ClipRun {
  std::string dir;
  std::vector<nlohmann::json> lines;  // the JSON-lines export, parsed
  std::vector<BestMessage> bests;
  bool eos = false;
};

const ClipRun& clip_run() {
  static const ClipRun run = [] {
    init_gstreamer();
    ClipRun r;
    r.dir = scratch_dir("best_frames_clip");
    std::filesystem::remove_all(r.dir);
    std::filesystem::create_directories(r.dir);
    const std::string description =
        "filesrc location=\"" + data_file("video/hamilton_clip.mp4") +
        "\" ! decodebin ! videoconvert ! video/x-raw,format=BGR ! faceqan "
        "iterations=1 samples=2 threads=2 scoring=budget best-frames=true best-location=\"" + r.dir +
        "/person-%05u.png\" json-location=\"" + r.dir + "/faces.jsonl\" ! fakesink sync=false";
    GError* error = nullptr;
    GstElement* pipeline = gst_parse_launch(description.c_str(), &error);
    EXPECT_EQ(error, nullptr) << (error ? error->message : "");
    if (pipeline == nullptr) return r;
    GstBus* bus = gst_element_get_bus(pipeline);
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    for (bool running = true; running;) {
      GstMessage* message = gst_bus_timed_pop(bus, 300 * GST_SECOND);
      if (message == nullptr) {
        ADD_FAILURE() << "the clip did not finish within 300 s";
        break;
      }
      switch (GST_MESSAGE_TYPE(message)) {
        case GST_MESSAGE_ELEMENT: {
          const GstStructure* s = gst_message_get_structure(message);
          if (gst_structure_has_name(s, "faceqan-best")) {
            BestMessage best;
            gst_structure_get_uint(s, "track-id", &best.track);
            gst_structure_get_double(s, "quality", &best.quality);
            gst_structure_get_uint64(s, "timestamp", &best.timestamp);
            best.crop = gst_structure_get_string(s, "crop-location");
            EXPECT_TRUE(gst_structure_has_field(s, "landmarks"));
            EXPECT_TRUE(gst_structure_has_field(s, "width"));
            r.bests.push_back(best);
          }
          break;
        }
        case GST_MESSAGE_ERROR:
          ADD_FAILURE() << "pipeline error: " << error_text(message);
          running = false;
          break;
        case GST_MESSAGE_EOS:
          r.eos = true;
          running = false;
          break;
        default:
          break;
      }
      gst_message_unref(message);
    }
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(pipeline);
    std::ifstream in(r.dir + "/faces.jsonl");
    for (std::string line; std::getline(in, line);) {
      try {
        r.lines.push_back(nlohmann::json::parse(line));
      } catch (const nlohmann::json::exception& e) {
        ADD_FAILURE() << "not JSON: " << line << ": " << e.what();
      }
    }
    return r;
  }();
  return run;
}

class BestFramesClip : public ::testing::Test {
 protected:
  void SetUp() override { init_gstreamer(); }
};

TEST_F(BestFramesClip, JsonLinesCarryTheDocumentedFields) {
  const ClipRun& run = clip_run();
  ASSERT_TRUE(run.eos);
  ASSERT_FALSE(run.lines.empty());
  std::size_t frames = 0, events = 0;
  for (const nlohmann::json& line : run.lines) {
    if (line.contains("event")) {
      ++events;
      EXPECT_EQ(line["event"], "best");
      for (const char* key : {"id", "person", "person_best", "quality", "timestamp", "resolution",
                              "x", "y", "w", "h", "landmarks", "crop_location", "frame_location"}) {
        EXPECT_TRUE(line.contains(key)) << key << " in " << line.dump();
      }
      // best-same-person is off: every track is its own person, and each best is its best.
      EXPECT_EQ(line["person"], line["id"]) << line.dump();
      EXPECT_EQ(line["person_best"], true) << line.dump();
      continue;
    }
    ++frames;
    ASSERT_TRUE(line["timestamp"].is_number_unsigned()) << line.dump();
    EXPECT_EQ(line["resolution"]["width"], 640);
    EXPECT_EQ(line["resolution"]["height"], 360);
    ASSERT_FALSE(line["objects"].empty());
    for (const nlohmann::json& object : line["objects"]) {
      for (const char* key : {"x", "y", "w", "h", "id", "roi_type", "detection", "faceqan"}) {
        EXPECT_TRUE(object.contains(key)) << key;
      }
      EXPECT_GT(object["id"].get<unsigned>(), 0u);
      for (const char* key : {"x_min", "y_min", "x_max", "y_max"}) {
        EXPECT_TRUE(object["detection"]["bounding_box"].contains(key)) << key;
      }
      EXPECT_TRUE(object["detection"].contains("confidence"));
      EXPECT_EQ(object["detection"]["label"], "face");
      for (const char* key : {"scored", "landmarks"}) {
        EXPECT_TRUE(object["faceqan"].contains(key)) << key;
      }
      // The quality fields come together: with every scored face, and with an unscored face
      // whose track has a score; a face whose track has none yet has none (not a 0).
      const bool has_quality = object["faceqan"].contains("quality");
      if (object["faceqan"]["scored"] == true) EXPECT_TRUE(has_quality);
      for (const char* key : {"mean_similarity", "std_similarity", "symmetry"}) {
        EXPECT_EQ(object["faceqan"].contains(key), has_quality) << key;
      }
    }
  }
  EXPECT_GT(frames, 200u);
  EXPECT_EQ(events, run.bests.size());
}

TEST_F(BestFramesClip, TracksAreStable) {
  const ClipRun& run = clip_run();
  std::map<unsigned, std::size_t> frames_per_track;
  std::size_t detections = 0, most_faces = 0;
  for (const nlohmann::json& line : run.lines) {
    if (line.contains("event")) continue;
    most_faces = std::max(most_faces, line["objects"].size());
    std::set<unsigned> ids;
    for (const nlohmann::json& object : line["objects"]) {
      const unsigned id = object["id"];
      EXPECT_TRUE(ids.insert(id).second) << "track " << id << " twice in one frame";
      ++frames_per_track[id];
      ++detections;
    }
  }
  std::size_t in_long_tracks = 0, long_tracks = 0;
  for (const auto& [id, count] : frames_per_track) {
    if (count >= 10) in_long_tracks += count, ++long_tracks;
  }
  const double share = detections ? static_cast<double>(in_long_tracks) / detections : 0;
  std::cout << "tracks: " << frames_per_track.size() << " (" << long_tracks
            << " of 10 frames or more), detections: " << detections
            << ", in tracks of 10+ frames: " << share * 100 << "%, most faces in a frame: "
            << most_faces << "\n";
  EXPECT_GE(share, 0.8);
}

TEST_F(BestFramesClip, EachTrackBestIsItsHighestScoredFaceAndTheLastTracksEndAtEos) {
  const ClipRun& run = clip_run();
  std::map<unsigned, double> highest;  // per track, over its scored faces
  std::set<unsigned> in_last_frame;
  std::size_t scored = 0, faces = 0;
  for (const nlohmann::json& line : run.lines) {
    if (line.contains("event")) continue;
    in_last_frame.clear();
    for (const nlohmann::json& object : line["objects"]) {
      const unsigned id = object["id"];
      in_last_frame.insert(id);
      ++faces;
      if (!object["faceqan"]["scored"].get<bool>()) continue;
      ++scored;
      const double q = object["faceqan"]["quality"];
      highest[id] = std::max(highest.count(id) ? highest[id] : -1.0, q);
    }
  }
  std::cout << "faces scored: " << scored << " of " << faces << "\n";
  EXPECT_LT(scored, faces / 2) << "the budget should spare most faces";
  std::map<unsigned, double> best_quality;
  for (const BestMessage& best : run.bests) {
    EXPECT_TRUE(best_quality.emplace(best.track, best.quality).second)
        << "track " << best.track << " handed out twice";
    EXPECT_TRUE(std::filesystem::exists(best.crop)) << best.crop;
  }
  EXPECT_EQ(best_quality.size(), highest.size()) << "one best frame per scored track";
  for (const auto& [id, q] : highest) {
    ASSERT_TRUE(best_quality.count(id)) << "no best frame for track " << id;
    EXPECT_DOUBLE_EQ(best_quality[id], q) << "track " << id;
  }
  std::size_t last_scored = 0;
  for (unsigned id : in_last_frame) {
    if (!highest.count(id)) continue;
    ++last_scored;
    EXPECT_TRUE(best_quality.count(id)) << "track " << id << " alive at EOS has no best frame";
  }
  EXPECT_GT(last_scored, 0u);
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) dot += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i];
  return dot / std::sqrt(na * nb);
}

TEST_F(BestFramesClip, FindsTheReferencePerson) {
  const ClipRun& run = clip_run();
  ASSERT_FALSE(run.bests.empty());
  std::shared_ptr<RecognitionModel> model =
      load_recognition_model(find_model(kDefaultRecognitionModel), "cpu");
  const cv::Mat photo =
      cv::imread(data_file("video/hamilton_reference_lin-manuel-miranda.png"), cv::IMREAD_COLOR);
  ASSERT_FALSE(photo.empty());
  RetinaFaceDetector detector(find_model(kDefaultDetectionModel));
  const std::vector<DetectedFace> found = detector.detect(photo, PixelFormat::kBGR);
  ASSERT_FALSE(found.empty());
  const cv::Mat reference = align_face(photo, found[0].landmarks);
  const std::vector<float> wanted = embed_bgr_crop(*model, reference);
  double best_similarity = -1;
  unsigned best_track = 0;
  for (const BestMessage& best : run.bests) {
    const cv::Mat crop = cv::imread(best.crop, cv::IMREAD_COLOR);
    ASSERT_FALSE(crop.empty()) << best.crop;
    const double similarity = cosine(wanted, embed_bgr_crop(*model, crop));
    if (similarity > best_similarity) best_similarity = similarity, best_track = best.track;
  }
  std::cout << "reference person: track " << best_track << ", cosine " << best_similarity << "\n";
  EXPECT_GE(best_similarity, 0.5);
}

// A stop without EOS (PAUSED -> READY) still hands out the open tracks' best frames, with the
// files written and the frame saved beside the crop.
TEST_F(BestFramesClip, StoppingWithoutEosHandsOutPendingBestFrames) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  const std::string dir = scratch_dir("best_frames_stop");
  std::filesystem::remove_all(dir);
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) +
                                      " best-frames=true best-save-frame=true best-location=\"" +
                                      dir + "/p-%u.jpg\"",
                                  photo);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, i * 40 * GST_MSECOND)),
              GST_FLOW_OK);
    GstBuffer* out = pull_within(h, 60);
    ASSERT_NE(out, nullptr);
    gst_buffer_unref(out);
  }
  EXPECT_TRUE(pop_messages(h->element, "faceqan-best").empty()) << "the track is still open";
  gst_element_set_state(h->element, GST_STATE_READY);
  const std::vector<GstMessage*> bests = pop_messages(h->element, "faceqan-best");
  ASSERT_EQ(bests.size(), 1u);
  const GstStructure* s = gst_message_get_structure(bests[0]);
  guint track = 0;
  EXPECT_TRUE(gst_structure_get_uint(s, "track-id", &track));
  EXPECT_EQ(track, 1u);
  const std::string crop = gst_structure_get_string(s, "crop-location");
  const std::string frame = gst_structure_get_string(s, "frame-location");
  EXPECT_EQ(crop, dir + "/p-1.jpg");
  EXPECT_EQ(frame, dir + "/p-1-frame.jpg");
  EXPECT_EQ(cv::imread(crop).size(), cv::Size(112, 112));
  EXPECT_EQ(cv::imread(frame).size(), photo.size());
  for (GstMessage* m : bests) gst_message_unref(m);
  gst_harness_teardown(h);
}

TEST_F(BestFramesClip, BadBestLocationFailsTheStart) {
  for (const char* pattern : {"%s.png", "p-%n.png", "p-%d%d.png", "plain.png"}) {
    GstElement* element = gst_element_factory_make("faceqan", nullptr);
    ASSERT_NE(element, nullptr);
    GstBus* bus = gst_bus_new();
    gst_element_set_bus(element, bus);
    g_object_set(element, "best-frames", TRUE, "best-location", pattern, nullptr);
    EXPECT_EQ(gst_element_set_state(element, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE)
        << pattern;
    GstMessage* message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    ASSERT_NE(message, nullptr) << pattern;
    const std::string error = error_text(message);
    EXPECT_NE(error.find("best-location"), std::string::npos) << error;
    gst_message_unref(message);
    gst_element_set_state(element, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(element);
  }
}

}  // namespace
}  // namespace faceqan::test
