// Faults the faceqan element must survive with a clear error or correct output, never a crash or a
// hang: a model file replaced by garbage between two runs, a caps change mid-stream, frames with
// no face, one face and 50 faces, faces cut by the frame's borders, a one-pixel-high frame, EOS
// right after the first frame, eight elements started and stopped a hundred times, and a
// downstream element that blocks while the pipeline shuts down. Cheap FaceQAN settings throughout
// (docs/RELIABILITY.md lists what each checks and what it costs).
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <random>
#include <thread>

#include "element_test_support.h"
#include "faceqan/face_detector.h"
#include "faceqan/model_paths.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Seconds = std::chrono::duration<double>;

class FaceQanFault : public ::testing::Test {
 protected:
  void SetUp() override { init_gstreamer(); }
};

// Every published face lies inside its frame, with finite numbers in their ranges.
void expect_sane_faces(const std::vector<PublishedFace>& faces, int width, int height,
                       const std::string& what) {
  for (const PublishedFace& f : faces) {
    EXPECT_LE(f.x + f.width, static_cast<guint>(width)) << what;
    EXPECT_LE(f.y + f.height, static_cast<guint>(height)) << what;
    for (double v : {f.x_min, f.y_min, f.x_max, f.y_max}) {
      EXPECT_TRUE(v >= 0.0 && v <= 1.0) << what << ": normalised coordinate " << v;
    }
    EXPECT_LE(f.x_min, f.x_max) << what;
    EXPECT_LE(f.y_min, f.y_max) << what;
    EXPECT_TRUE(std::isfinite(f.quality) && f.quality >= 0.0 && f.quality <= 1.0)
        << what << ": quality " << f.quality;
    EXPECT_EQ(f.landmarks.size(), 10u) << what;
    for (double v : f.landmarks) EXPECT_TRUE(std::isfinite(v)) << what;
  }
}

// The boxes of the first "faceqan" message posted so far (x, y, width, height per face).
std::vector<cv::Rect> message_boxes(GstElement* element) {
  std::vector<cv::Rect> boxes;
  std::vector<GstMessage*> messages = pop_messages(element, "faceqan");
  if (!messages.empty()) {
    const GValue* faces = gst_structure_get_value(gst_message_get_structure(messages[0]), "faces");
    for (guint i = 0; faces != nullptr && i < gst_value_list_get_size(faces); ++i) {
      const GstStructure* face = gst_value_get_structure(gst_value_list_get_value(faces, i));
      guint x = 0, y = 0, width = 0, height = 0;
      gst_structure_get_uint(face, "x", &x);
      gst_structure_get_uint(face, "y", &y);
      gst_structure_get_uint(face, "width", &width);
      gst_structure_get_uint(face, "height", &height);
      boxes.emplace_back(x, y, width, height);
    }
  }
  for (GstMessage* m : messages) gst_message_unref(m);
  return boxes;
}

// ---- A model file replaced by garbage between two runs. ----

struct ModelCase {
  const char* property;
  const char* model;
};

class GarbageModel : public FaceQanFault, public ::testing::WithParamInterface<ModelCase> {};

void write_garbage(const std::string& path, std::size_t size) {
  std::mt19937 random(20221);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random() & 0xff);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
}

TEST_P(GarbageModel, SecondStartFailsNamingTheFileAndAGoodFileStartsAgain) {
  const ModelCase& c = GetParam();
  const std::string dir = scratch_dir(std::string("gst-garbage-") + c.property);
  const fs::path source = model_file(c.model);
  const std::string copy = dir + "/" + source.filename().string();
  fs::copy_file(source, copy);
  fs::path description = source;
  description.replace_extension(".json");
  if (fs::exists(description)) fs::copy_file(description, dir + "/" + description.filename().string());

  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  const std::string caps = frame_caps(photo, GST_VIDEO_FORMAT_BGR);
  GstHarness* h =
      faceqan_harness(std::string(kCheapScoring) + " " + c.property + "=" + copy, photo);
  ASSERT_EQ(gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, 0)), GST_FLOW_OK);
  GstBuffer* out = pull_within(h, 60);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(published_faces(out).size(), 1u);
  gst_buffer_unref(out);
  ASSERT_EQ(gst_element_set_state(h->element, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);

  // Same name, same size, other bytes: nothing but the contents tells them apart.
  write_garbage(copy, fs::file_size(source));
  EXPECT_EQ(gst_element_set_state(h->element, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  const std::string error = pop_error(h->element);
  EXPECT_NE(error.find(copy), std::string::npos) << "the error must name the file: " << error;
  gst_element_set_state(h->element, GST_STATE_NULL);

  // Shorter garbage, then text: the same clear failure.
  write_garbage(copy, 1000);
  EXPECT_EQ(gst_element_set_state(h->element, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  EXPECT_NE(pop_error(h->element).find(copy), std::string::npos);
  gst_element_set_state(h->element, GST_STATE_NULL);
  std::ofstream(copy, std::ios::trunc) << "not a model\n";
  EXPECT_EQ(gst_element_set_state(h->element, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  EXPECT_NE(pop_error(h->element).find(copy), std::string::npos);
  gst_element_set_state(h->element, GST_STATE_NULL);

  // The good file back: the element starts and finds the face again.
  fs::copy_file(source, copy, fs::copy_options::overwrite_existing);
  ASSERT_EQ(gst_element_set_state(h->element, GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  gst_harness_set_src_caps_str(h, caps.c_str());
  ASSERT_EQ(gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, GST_SECOND)), GST_FLOW_OK);
  out = pull_within(h, 60);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(published_faces(out).size(), 1u);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

INSTANTIATE_TEST_SUITE_P(
    Models, GarbageModel,
    ::testing::Values(ModelCase{"recognizer-model", "recognition/mobilefacenet512_faceplugin.onnx"},
                      ModelCase{"detector-model", "detection/retinaface_mnet025_640.onnx"}),
    [](const ::testing::TestParamInfo<ModelCase>& info) {
      return std::string(info.param.property[0] == 'r' ? "Recognizer" : "Detector");
    });

// ---- A caps change mid-stream: a new resolution. ----

class CapsChange : public FaceQanFault, public ::testing::WithParamInterface<int> {};

TEST_P(CapsChange, FacesAreFoundAtTheNewResolution) {
  const int interval = GetParam();
  const cv::Mat small = read_photo("resolution-ladder/obama-480p.jpg");
  const cv::Mat large = read_photo("resolution-ladder/obama-720p.jpg");
  ASSERT_NE(small.size(), large.size());
  RetinaFaceDetector detector(find_model(kDefaultDetectionModel));
  const std::vector<DetectedFace> expected = detector.detect(large, PixelFormat::kBGR);
  ASSERT_EQ(expected.size(), 1u);

  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " detection-interval=" +
                                      std::to_string(interval),
                                  small);
  // Two frames at the old size, then four at the new one: with detection-interval=3 the first
  // new frame falls between two detections, when the old frame's boxes would be reused.
  constexpr int kOld = 2, kFrames = 6;
  for (int i = 0; i < kFrames; ++i) {
    if (i == kOld) gst_harness_set_src_caps_str(h, frame_caps(large, GST_VIDEO_FORMAT_BGR).c_str());
    ASSERT_EQ(gst_harness_push(h, make_frame(i < kOld ? small : large, GST_VIDEO_FORMAT_BGR,
                                             i * GST_SECOND)),
              GST_FLOW_OK);
  }
  HarnessOutput out;
  push_eos_and_collect(h, out);
  ASSERT_EQ(out.buffers.size(), static_cast<std::size_t>(kFrames));
  for (int i = 0; i < kFrames; ++i) {
    const cv::Mat& image = i < kOld ? small : large;
    const auto faces = published_faces(out.buffers[i]);
    ASSERT_EQ(faces.size(), 1u) << "frame " << i;
    expect_sane_faces(faces, image.cols, image.rows, "frame " + std::to_string(i));
    EXPECT_TRUE(faces[0].scored) << "frame " << i;
    if (i >= kOld) {
      // The new frames' face is the one at the new size, not the old box carried over.
      const cv::Rect2f& box = expected[0].box;
      EXPECT_NEAR(faces[0].x_min * large.cols, box.x, 2.0) << "frame " << i;
      EXPECT_NEAR(faces[0].y_max * large.rows, box.y + box.height, 2.0) << "frame " << i;
      EXPECT_NEAR(faces[0].landmarks[0], expected[0].landmarks[0].x, 1.0) << "frame " << i;
    }
  }
  gst_harness_teardown(h);
}

INSTANTIATE_TEST_SUITE_P(DetectionInterval, CapsChange, ::testing::Values(1, 3));

// ---- No face, one face, 50 faces. ----

// 50 real face crops tiled 8 x 7 (150 x 150 each, the last row not full; a squarish frame loses
// least in the detector's 640 x 640 letterbox): the 40 crops of the eight identities of
// identities/ and 10 of msceleb/, resized.
cv::Mat fifty_faces() {
  std::vector<std::string> files;
  for (const char* who :
       {"amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"}) {
    for (const std::string& f : list_images(data_file(std::string("identities/") + who))) {
      files.push_back(f);
    }
  }
  for (const char* who : {"Brian_Thomas_Smith", "Lydia_Shum"}) {
    const auto crops = list_images(data_file(std::string("msceleb/") + who));
    for (std::size_t i = 0; i < crops.size() && i < 5; ++i) files.push_back(crops[i]);
  }
  EXPECT_EQ(files.size(), 50u);
  constexpr int kTile = 150, kColumns = 8, kRows = 7;
  cv::Mat frame(kTile * kRows, kTile * kColumns, CV_8UC3, cv::Scalar(128, 128, 128));
  for (std::size_t i = 0; i < files.size() && i < 50; ++i) {
    cv::Mat crop = cv::imread(files[i], cv::IMREAD_COLOR);
    if (crop.empty()) continue;
    cv::resize(crop, crop, cv::Size(kTile, kTile), 0, 0, cv::INTER_AREA);
    crop.copyTo(frame(cv::Rect(static_cast<int>(i % kColumns) * kTile,
                               static_cast<int>(i / kColumns) * kTile, kTile, kTile)));
  }
  return frame;
}

TEST_F(FaceQanFault, NoFaceOneFaceAndFiftyFaces) {
  const cv::Mat one = read_photo("resolution-ladder/obama-480p.jpg");
  const cv::Mat many = fifty_faces();
  RetinaFaceDetector detector(find_model(kDefaultDetectionModel));
  const std::size_t expected_many = detector.detect(many, PixelFormat::kBGR).size();
  ASSERT_GE(expected_many, 48u) << "the tiled frame should show (almost) all of its 50 faces";

  // Each frame in its own caps: none, one and many faces one after the other.
  const cv::Mat none(one.size(), one.type(), cv::Scalar(90, 90, 90));
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " message=true", one);
  ASSERT_EQ(gst_harness_push(h, make_frame(none, GST_VIDEO_FORMAT_BGR, 0)), GST_FLOW_OK);
  ASSERT_EQ(gst_harness_push(h, make_frame(one, GST_VIDEO_FORMAT_BGR, GST_SECOND)), GST_FLOW_OK);
  gst_harness_set_src_caps_str(h, frame_caps(many, GST_VIDEO_FORMAT_BGR).c_str());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(gst_harness_push(h, make_frame(many, GST_VIDEO_FORMAT_BGR, 2 * GST_SECOND)),
            GST_FLOW_OK);
  HarnessOutput out;
  push_eos_and_collect(h, out);
  std::cout << "[          ] 50-face frame: " << expected_many << " faces scored in "
            << Seconds(std::chrono::steady_clock::now() - start).count() << " s\n";
  ASSERT_EQ(out.buffers.size(), 3u);
  EXPECT_TRUE(published_faces(out.buffers[0]).empty());
  EXPECT_EQ(published_faces(out.buffers[1]).size(), 1u);
  const auto faces = published_faces(out.buffers[2]);
  EXPECT_EQ(faces.size(), expected_many);
  expect_sane_faces(faces, many.cols, many.rows, "50 faces");
  for (const PublishedFace& f : faces) EXPECT_TRUE(f.scored);
  EXPECT_EQ(pop_messages(h->element, "faceqan").size(), 3u);
  gst_harness_teardown(h);
}

TEST_F(FaceQanFault, MaxFacesKeepsTheLargestFacesOnly) {
  const cv::Mat many = fifty_faces();
  RetinaFaceDetector detector(find_model(kDefaultDetectionModel));
  std::vector<DetectedFace> all = detector.detect(many, PixelFormat::kBGR);
  ASSERT_GE(all.size(), 48u);
  constexpr guint kMax = 7;
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " max-faces=" +
                                      std::to_string(kMax),
                                  many);
  ASSERT_EQ(gst_harness_push(h, make_frame(many, GST_VIDEO_FORMAT_BGR, 0)), GST_FLOW_OK);
  HarnessOutput out;
  push_eos_and_collect(h, out);
  ASSERT_EQ(out.buffers.size(), 1u);
  const auto faces = published_faces(out.buffers[0]);
  // As documented: at most max-faces faces per frame, the largest ones; the others are not
  // published at all (no region meta), so every published face is scored.
  ASSERT_EQ(faces.size(), kMax);
  const auto area = [](const cv::Rect2f& r) { return r.width * r.height; };
  std::stable_sort(all.begin(), all.end(), [&](const DetectedFace& a, const DetectedFace& b) {
    return area(a.box) > area(b.box);
  });
  const double smallest_kept = area(all[kMax - 1].box);
  for (const PublishedFace& f : faces) {
    EXPECT_TRUE(f.scored);
    const double published_area = (f.x_max - f.x_min) * many.cols * (f.y_max - f.y_min) * many.rows;
    EXPECT_GE(published_area, smallest_kept * 0.999);
  }
  gst_harness_teardown(h);
}

// ---- A face cut by each border of the frame. ----

TEST_F(FaceQanFault, FacesCutByEachBorder) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-720p.jpg");
  RetinaFaceDetector detector(find_model(kDefaultDetectionModel));
  const std::vector<DetectedFace> whole = detector.detect(photo, PixelFormat::kBGR);
  ASSERT_EQ(whole.size(), 1u);
  const cv::Rect box = whole[0].box;
  const int cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  const auto even = [](int v) { return v & ~1; };
  // The frame's border runs through the middle of the face, and just inside its edge.
  struct Cut {
    const char* side;
    cv::Rect rect;
  };
  std::vector<Cut> cuts;
  for (int inset : {box.width / 2, box.width / 5}) {
    const int w = photo.cols, hgt = photo.rows;
    const int left = even(box.x + inset), right = even(box.x + box.width - inset);
    const int top = even(box.y + inset), bottom = even(box.y + box.height - inset);
    cuts.push_back({"left", cv::Rect(left, 0, even(w - left), hgt)});
    cuts.push_back({"right", cv::Rect(0, 0, right, hgt)});
    cuts.push_back({"top", cv::Rect(0, top, w, even(hgt - top))});
    cuts.push_back({"bottom", cv::Rect(0, 0, w, bottom)});
  }
  // And a frame cut on all four sides at once: only the middle of the face is left.
  cuts.push_back({"all", cv::Rect(even(cx - box.width / 3), even(cy - box.height / 3),
                                  even(2 * box.width / 3), even(2 * box.height / 3))});
  int detected = 0;
  for (GstVideoFormat format : {GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_I420}) {
    for (std::size_t i = 0; i < cuts.size(); ++i) {
      const cv::Mat frame = photo(cuts[i].rect).clone();
      const std::string what = std::string(cuts[i].side) + " cut #" + std::to_string(i) + " " +
                               gst_video_format_to_string(format);
      GstHarness* h = faceqan_harness(
          std::string(kCheapScoring) + " draw=true best-frames=true message=true", frame, format);
      ASSERT_EQ(gst_harness_push(h, make_frame(frame, format, 0)), GST_FLOW_OK) << what;
      HarnessOutput out;
      push_eos_and_collect(h, out);
      ASSERT_EQ(out.buffers.size(), 1u) << what;
      const auto faces = published_faces(out.buffers[0]);
      expect_sane_faces(faces, frame.cols, frame.rows, what);
      for (const PublishedFace& f : faces) EXPECT_TRUE(f.scored) << what;
      // The message gives the meta's box: clipped to the frame, not shifted.
      const std::vector<cv::Rect> boxes = message_boxes(h->element);
      ASSERT_EQ(boxes.size(), faces.size()) << what;
      for (std::size_t f = 0; f < faces.size(); ++f) {
        EXPECT_EQ(boxes[f], cv::Rect(faces[f].x, faces[f].y, faces[f].width, faces[f].height))
            << what;
      }
      detected += faces.empty() ? 0 : 1;
      gst_harness_teardown(h);
    }
  }
  // A face cut at a fifth of its width is still a face: most cuts must find it.
  EXPECT_GE(detected, 8) << "faces found in " << detected << " of " << 2 * cuts.size() << " cuts";
}

// ---- Degenerate frame sizes. ----

class TinyFrame : public FaceQanFault,
                  public ::testing::WithParamInterface<std::tuple<int, int, GstVideoFormat>> {};

TEST_P(TinyFrame, PassesUnchangedWithoutFaces) {
  const auto [width, height, format] = GetParam();
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  cv::Mat strip;
  cv::resize(photo, strip, cv::Size(width, height), 0, 0, cv::INTER_AREA);
  GstHarness* h = faceqan_harness(
      std::string(kCheapScoring) + " draw=true message=true best-frames=true", strip, format);
  GstBuffer* in = make_frame(strip, format, 0);
  GstMapInfo map;
  ASSERT_TRUE(gst_buffer_map(in, &map, GST_MAP_READ));
  const std::vector<guint8> pixels(map.data, map.data + map.size);
  gst_buffer_unmap(in, &map);
  ASSERT_EQ(gst_harness_push(h, in), GST_FLOW_OK);
  ASSERT_EQ(gst_harness_push(h, make_frame(strip, format, GST_SECOND)), GST_FLOW_OK);
  HarnessOutput out;
  push_eos_and_collect(h, out);
  ASSERT_EQ(out.buffers.size(), 2u);
  EXPECT_TRUE(published_faces(out.buffers[0]).empty());
  ASSERT_TRUE(gst_buffer_map(out.buffers[0], &map, GST_MAP_READ));
  EXPECT_EQ(std::vector<guint8>(map.data, map.data + map.size), pixels);
  gst_buffer_unmap(out.buffers[0], &map);
  EXPECT_EQ(pop_messages(h->element, "faceqan").size(), 2u);
  EXPECT_EQ(pop_error(h->element), "");
  gst_harness_teardown(h);
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, TinyFrame,
    ::testing::Values(std::make_tuple(640, 1, GST_VIDEO_FORMAT_BGR),
                      std::make_tuple(640, 1, GST_VIDEO_FORMAT_I420),
                      std::make_tuple(640, 1, GST_VIDEO_FORMAT_NV12),
                      std::make_tuple(641, 1, GST_VIDEO_FORMAT_RGBA),
                      std::make_tuple(1, 480, GST_VIDEO_FORMAT_BGR),
                      std::make_tuple(1, 1, GST_VIDEO_FORMAT_I420),
                      std::make_tuple(7, 7, GST_VIDEO_FORMAT_YV12)));

// ---- EOS right after the first frame. ----

TEST_F(FaceQanFault, EosRightAfterTheFirstFrame) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  // A long max-latency: only the EOS can make the element score the lone face now.
  GstHarness* h = faceqan_harness(
      std::string(kCheapScoring) + " max-latency=60000 best-frames=true message=true", photo);
  ASSERT_EQ(gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, 0)), GST_FLOW_OK);
  const auto start = std::chrono::steady_clock::now();
  HarnessOutput out;
  push_eos_and_collect(h, out);
  EXPECT_LT(Seconds(std::chrono::steady_clock::now() - start).count(), 30.0);
  ASSERT_TRUE(out.eos);
  ASSERT_EQ(out.buffers.size(), 1u) << "the frame leaves before the EOS";
  EXPECT_EQ(GST_BUFFER_PTS(out.buffers[0]), 0u);
  const auto faces = published_faces(out.buffers[0]);
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_TRUE(faces[0].scored);
  EXPECT_EQ(pop_messages(h->element, "faceqan").size(), 1u);
  gst_harness_teardown(h);
}

// The same through the bus, in order: the frame's message, then the best frame, then EOS.
TEST_F(FaceQanFault, EosRightAfterTheFirstFramePostsTheBestFrameBeforeEos) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  const std::string caps = frame_caps(photo, GST_VIDEO_FORMAT_BGR);
  GstElement* pipeline = gst_parse_launch(
      ("appsrc name=src format=time caps=" + caps + " ! faceqan " + kCheapScoring +
       " max-latency=60000 best-frames=true message=true ! fakesink sync=false")
          .c_str(),
      nullptr);
  ASSERT_NE(pipeline, nullptr);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(gst_app_src_push_buffer(GST_APP_SRC(src), make_frame(photo, GST_VIDEO_FORMAT_BGR, 0)),
            GST_FLOW_OK);
  ASSERT_EQ(gst_app_src_end_of_stream(GST_APP_SRC(src)), GST_FLOW_OK);
  GstBus* bus = gst_element_get_bus(pipeline);
  std::vector<std::string> seen;
  for (;;) {
    GstMessage* m = gst_bus_timed_pop_filtered(
        bus, 60 * GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    ASSERT_NE(m, nullptr) << "no EOS within 60 s";
    const GstMessageType type = GST_MESSAGE_TYPE(m);
    if (type == GST_MESSAGE_ELEMENT) {
      seen.push_back(gst_structure_get_name(gst_message_get_structure(m)));
    } else {
      seen.push_back(type == GST_MESSAGE_EOS ? "EOS" : "ERROR");
    }
    gst_message_unref(m);
    if (type != GST_MESSAGE_ELEMENT) break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"faceqan", "faceqan-best", "EOS"}));
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(src);
  gst_object_unref(pipeline);
}

// ---- Eight elements started and stopped a hundred times. ----

TEST_F(FaceQanFault, EightElementsStartAndStopAHundredTimes) {
  constexpr int kElements = 8, kCycles = 100;
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  const std::string caps = frame_caps(photo, GST_VIDEO_FORMAT_BGR);
  std::vector<GstHarness*> harnesses;
  for (int i = 0; i < kElements; ++i) harnesses.push_back(faceqan_harness(kCheapScoring, photo));
  const auto start = std::chrono::steady_clock::now();
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    for (GstHarness* h : harnesses) {
      ASSERT_EQ(gst_element_set_state(h->element, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS)
          << "cycle " << cycle;
    }
    for (GstHarness* h : harnesses) {
      ASSERT_EQ(gst_element_set_state(h->element, GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS)
          << "cycle " << cycle << ": " << pop_error(h->element);
    }
    // Now and then a frame through each: the restarted elements still work.
    if (cycle % 25 == 24) {
      for (GstHarness* h : harnesses) {
        gst_harness_set_src_caps_str(h, caps.c_str());
        ASSERT_EQ(gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, cycle * GST_SECOND)),
                  GST_FLOW_OK);
      }
      for (GstHarness* h : harnesses) {
        GstBuffer* out = pull_within(h, 60);
        ASSERT_NE(out, nullptr) << "cycle " << cycle;
        EXPECT_EQ(published_faces(out).size(), 1u) << "cycle " << cycle;
        gst_buffer_unref(out);
      }
    }
  }
  const double seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  std::cout << "[          ] " << kElements << " elements x " << kCycles
            << " NULL->PLAYING->NULL cycles: " << seconds << " s\n";
  EXPECT_LT(seconds, 120.0) << "starting an element must not reload its models each time";
  for (GstHarness* h : harnesses) gst_harness_teardown(h);
}

// ---- A downstream element that blocks while the pipeline shuts down. ----

GstPad* element_src_pad(GstHarness* h) {
  GstElement* element = gst_harness_find_element(h, "faceqan");
  GstPad* pad = gst_element_get_static_pad(element, "src");
  gst_object_unref(element);
  return pad;
}

struct SlowProbe {
  std::atomic<int> entered{0};
  std::chrono::milliseconds sleep{3000};
};

GstPadProbeReturn sleep_on_buffer(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* probe = static_cast<SlowProbe*>(data);
  ++probe->entered;
  std::this_thread::sleep_for(probe->sleep);
  return GST_PAD_PROBE_OK;
}

TEST_F(FaceQanFault, DownstreamSleepingForSecondsDuringShutdown) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " queue-size=2", photo);
  GstPad* pad = element_src_pad(h);
  SlowProbe probe;
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, sleep_on_buffer, &probe, nullptr);
  // Frame 0 sleeps downstream, frames 1-2 fill the queue, frame 3's push blocks upstream.
  auto pushing = std::async(std::launch::async, [&] {
    GstFlowReturn ret = GST_FLOW_OK;
    for (int i = 0; i < 4 && ret == GST_FLOW_OK; ++i) {
      ret = gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, i * GST_SECOND));
    }
    return ret;
  });
  for (int i = 0; i < 6000 && probe.entered == 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_GT(probe.entered, 0);
  const auto start = std::chrono::steady_clock::now();
  auto stopping = std::async(std::launch::async,
                             [&] { return gst_element_set_state(h->element, GST_STATE_NULL); });
  ASSERT_EQ(stopping.wait_for(60s), std::future_status::ready) << "shutdown deadlocked";
  EXPECT_EQ(stopping.get(), GST_STATE_CHANGE_SUCCESS);
  const double seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(pushing.wait_for(30s), std::future_status::ready) << "upstream still blocked";
  EXPECT_EQ(pushing.get(), GST_FLOW_FLUSHING);
  // The shutdown waits for the frame downstream is holding, no longer.
  EXPECT_LT(seconds, 3.0 + 10.0);
  EXPECT_EQ(probe.entered, 1) << "no frame may leave after the shutdown began";
  gst_object_unref(pad);
  gst_harness_teardown(h);
}

// A real pipeline whose appsink is never pulled: the element's queue fills, upstream blocks, and
// the pipeline must still stop, also right after EOS was sent.
class UnpulledAppsink : public FaceQanFault, public ::testing::WithParamInterface<bool> {};

TEST_P(UnpulledAppsink, PipelineStops) {
  const bool send_eos = GetParam();
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  const std::string caps = frame_caps(photo, GST_VIDEO_FORMAT_BGR);
  GstElement* pipeline = gst_parse_launch(
      ("appsrc name=src format=time block=true max-bytes=1 caps=" + caps + " ! faceqan " +
       kCheapScoring +
       " queue-size=2 best-frames=true ! appsink name=sink max-buffers=1 sync=false")
          .c_str(),
      nullptr);
  ASSERT_NE(pipeline, nullptr);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  // appsrc blocks in push_buffer once everything downstream is full: feed from a thread.
  std::atomic<bool> stop{false};
  std::atomic<int> pushed{0};
  std::thread feeder([&] {
    const int frames = send_eos ? 6 : 20;  // with EOS: it waits behind the blocked frames
    for (int i = 0; i < frames && !stop; ++i) {
      if (gst_app_src_push_buffer(GST_APP_SRC(src),
                                  make_frame(photo, GST_VIDEO_FORMAT_BGR, i * GST_SECOND)) !=
          GST_FLOW_OK) {
        break;
      }
      ++pushed;
    }
    if (send_eos) gst_app_src_end_of_stream(GST_APP_SRC(src));
  });
  // Wait until the stream is backed up: appsink holds one frame and nothing more moves.
  int last = -1;
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(100ms);
    if (pushed >= 4 && pushed == last) break;
    last = pushed;
  }
  const auto start = std::chrono::steady_clock::now();
  auto stopping =
      std::async(std::launch::async, [&] { return gst_element_set_state(pipeline, GST_STATE_NULL); });
  ASSERT_EQ(stopping.wait_for(60s), std::future_status::ready) << "shutdown deadlocked";
  EXPECT_EQ(stopping.get(), GST_STATE_CHANGE_SUCCESS);
  std::cout << "[          ] stopped in " << Seconds(std::chrono::steady_clock::now() - start).count()
            << " s with " << pushed << " frames pushed\n";
  stop = true;
  feeder.join();
  gst_object_unref(src);
  gst_object_unref(pipeline);
}

INSTANTIATE_TEST_SUITE_P(Eos, UnpulledAppsink, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "AfterEos" : "MidStream");
                         });

}  // namespace
}  // namespace faceqan::test
