// The faceqan element's life cycle: overload policies with a one-frame queue, flushing and
// shutting down mid-stream without hanging or leaking, and models that fail to load.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <iomanip>
#include <thread>

#include "element_test_support.h"
#include "faceqan/quality.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

using namespace std::chrono_literals;

class FaceQanLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    init_gstreamer();
    photo_ = read_photo("resolution-ladder/obama-480p.jpg");
  }
  GstBuffer* frame(int i) { return make_frame(photo_, GST_VIDEO_FORMAT_BGR, i * GST_SECOND); }
  cv::Mat photo_;
};

GstPad* element_src_pad(GstHarness* h) {
  GstElement* element = gst_harness_find_element(h, "faceqan");
  GstPad* pad = gst_element_get_static_pad(element, "src");
  gst_object_unref(element);
  return pad;
}

GstPadProbeReturn block(GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_OK; }

// While the element's output is held back, the first frame leaves the queue (and waits at the
// blocked pad) and the second fills it: the third and fourth meet a full queue.
struct BlockedOutput {
  explicit BlockedOutput(GstHarness* h) : pad(element_src_pad(h)) {
    probe = gst_pad_add_probe(pad,
                              static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BLOCK | GST_PAD_PROBE_TYPE_BUFFER), block,
                              nullptr, nullptr);
  }
  void release() {
    if (probe != 0) gst_pad_remove_probe(pad, probe);
    probe = 0;
  }
  ~BlockedOutput() {
    release();
    gst_object_unref(pad);
  }
  GstPad* pad;
  gulong probe = 0;
};

void wait_until_blocked(GstPad* pad) {
  for (int i = 0; i < 6000 && !gst_pad_is_blocking(pad); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(gst_pad_is_blocking(pad));
}

std::vector<GstBuffer*> drain_to_eos(GstHarness* h, int* gaps = nullptr) {
  gst_harness_push_event(h, gst_event_new_eos());
  std::vector<GstBuffer*> buffers;
  for (;;) {
    while (GstBuffer* b = gst_harness_try_pull(h)) buffers.push_back(b);
    GstEvent* event = gst_harness_pull_event(h);
    if (event == nullptr) break;
    const GstEventType type = GST_EVENT_TYPE(event);
    gst_event_unref(event);
    if (type == GST_EVENT_GAP && gaps != nullptr) ++*gaps;
    if (type == GST_EVENT_EOS) break;
  }
  while (GstBuffer* b = gst_harness_try_pull(h)) buffers.push_back(b);
  return buffers;
}

// A flush (as a seek makes) and a new segment.
void flush_and_start_segment(GstHarness* h) {
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_segment(&segment)));
}

// Ends the stream and expects exactly one frame out, at `pts`.
void expect_only_frame_at(GstHarness* h, GstClockTime pts) {
  std::vector<GstBuffer*> out = drain_to_eos(h);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(GST_BUFFER_PTS(out[0]), pts);
  gst_buffer_unref(out[0]);
}

TEST_F(FaceQanLifecycle, OverloadSkipPassesFramesUnscored) {
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " queue-size=1 overload=skip",
                                  photo_);
  {
    BlockedOutput blocked(h);
    ASSERT_EQ(gst_harness_push(h, frame(0)), GST_FLOW_OK);
    wait_until_blocked(blocked.pad);
    for (int i = 1; i < 4; ++i) ASSERT_EQ(gst_harness_push(h, frame(i)), GST_FLOW_OK);
  }
  std::vector<GstBuffer*> out = drain_to_eos(h);
  ASSERT_EQ(out.size(), 4u);
  const bool expected_scored[] = {true, true, false, false};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(GST_BUFFER_PTS(out[i]), i * GST_SECOND);
    const auto faces = published_faces(out[i]);
    ASSERT_EQ(faces.size(), 1u) << "frame " << i << ": skipped frames keep their detections";
    EXPECT_EQ(faces[0].scored, expected_scored[i]) << "frame " << i;
    gst_buffer_unref(out[i]);
  }
  gst_harness_teardown(h);
}

TEST_F(FaceQanLifecycle, OverloadDropDropsFrames) {
  GstHarness* h = faceqan_harness(
      std::string(kCheapScoring) + " queue-size=1 overload=drop drop-gaps=true", photo_);
  {
    BlockedOutput blocked(h);
    ASSERT_EQ(gst_harness_push(h, frame(0)), GST_FLOW_OK);
    wait_until_blocked(blocked.pad);
    for (int i = 1; i < 4; ++i) ASSERT_EQ(gst_harness_push(h, frame(i)), GST_FLOW_OK);
  }
  int gaps = 0;
  std::vector<GstBuffer*> out = drain_to_eos(h, &gaps);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(GST_BUFFER_PTS(out[0]), 0u);
  EXPECT_EQ(GST_BUFFER_PTS(out[1]), GST_SECOND);
  EXPECT_EQ(gaps, 2);
  for (GstBuffer* b : out) {
    EXPECT_TRUE(published_faces(b).at(0).scored);
    gst_buffer_unref(b);
  }
  gst_harness_teardown(h);
}

TEST_F(FaceQanLifecycle, OverloadBlockHoldsUpstreamBack) {
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " queue-size=1 overload=block",
                                  photo_);
  std::future<GstFlowReturn> third;
  {
    BlockedOutput blocked(h);
    ASSERT_EQ(gst_harness_push(h, frame(0)), GST_FLOW_OK);
    wait_until_blocked(blocked.pad);
    ASSERT_EQ(gst_harness_push(h, frame(1)), GST_FLOW_OK);
    third = std::async(std::launch::async, [&] { return gst_harness_push(h, frame(2)); });
    EXPECT_EQ(third.wait_for(500ms), std::future_status::timeout) << "a full queue must block";
  }
  EXPECT_EQ(third.get(), GST_FLOW_OK);
  std::vector<GstBuffer*> out = drain_to_eos(h);
  ASSERT_EQ(out.size(), 3u);
  for (GstBuffer* b : out) {
    EXPECT_TRUE(published_faces(b).at(0).scored);
    gst_buffer_unref(b);
  }
  gst_harness_teardown(h);
}

TEST_F(FaceQanLifecycle, FlushDropsPendingFramesAndTheStreamGoesOn) {
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " max-latency=60000", photo_);
  GstBuffer* held = frame(0);
  gst_buffer_ref(held);  // to see that the element let go of it
  gst_harness_push(h, held);
  gst_harness_push(h, frame(1));
  flush_and_start_segment(h);
  EXPECT_EQ(GST_MINI_OBJECT_REFCOUNT_VALUE(held), 1);
  gst_buffer_unref(held);
  ASSERT_EQ(gst_harness_push(h, frame(5)), GST_FLOW_OK);
  expect_only_frame_at(h, 5 * GST_SECOND);
  gst_harness_teardown(h);
}

// A seek (flush) starts the faces anew: with detection-interval=3 the first frame after it is
// detected, not given the boxes of the frame before the seek.
TEST_F(FaceQanLifecycle, SeekWithDetectionIntervalDetectsAnew) {
  GstHarness* h =
      faceqan_harness(std::string(kCheapScoring) + " detection-interval=3", photo_);
  ASSERT_EQ(gst_harness_push(h, frame(0)), GST_FLOW_OK);  // detected: one face
  flush_and_start_segment(h);
  // The frame after the seek shows no face at all.
  const cv::Mat empty(photo_.size(), photo_.type(), cv::Scalar(128, 128, 128));
  ASSERT_EQ(gst_harness_push(h, make_frame(empty, GST_VIDEO_FORMAT_BGR, 7 * GST_SECOND)),
            GST_FLOW_OK);
  std::vector<GstBuffer*> out = drain_to_eos(h);
  ASSERT_FALSE(out.empty());
  GstBuffer* after_seek = out.back();
  EXPECT_EQ(GST_BUFFER_PTS(after_seek), 7 * GST_SECOND);
  EXPECT_TRUE(published_faces(after_seek).empty())
      << "the boxes from before the seek were reused on the frame after it";
  for (GstBuffer* b : out) gst_buffer_unref(b);
  gst_harness_teardown(h);
}

// The quality of the photo's one face from a harness that is playing (no EOS: the element can
// be restarted after it).
double score_photo(GstHarness* h, GstBuffer* frame) {
  EXPECT_EQ(gst_harness_push(h, frame), GST_FLOW_OK);
  GstBuffer* out = pull_within(h, 120);
  double quality = -1;
  if (out != nullptr) {
    const auto faces = published_faces(out);
    if (faces.size() == 1 && faces[0].scored) quality = faces[0].quality;
    gst_buffer_unref(out);
  }
  EXPECT_GE(quality, 0) << "expected a frame with one scored face";
  return quality;
}

// Changing a FaceQAN setting between two runs of one element reloads the scorer, however small
// the change: epsilon 0.01 -> 0.0100004 (the 7th decimal) must score as a fresh element with
// 0.0100004 does.
TEST_F(FaceQanLifecycle, EpsilonChangedInTheSeventhDecimalReloadsTheScorer) {
  const std::string settings = std::string(kCheapScoring) + " seed=7 epsilon=";
  GstHarness* fresh = faceqan_harness(settings + "0.0100004", photo_);
  const double wanted = score_photo(fresh, frame(0));
  gst_harness_teardown(fresh);

  GstHarness* h = faceqan_harness(settings + "0.01", photo_);
  const double first = score_photo(h, frame(0));
  ASSERT_NE(first, wanted) << "the two epsilons score alike: this test cannot tell them apart";
  ASSERT_EQ(gst_element_set_state(h->element, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  GstElement* element = gst_harness_find_element(h, "faceqan");
  g_object_set(element, "epsilon", 0.0100004, nullptr);
  gst_object_unref(element);
  ASSERT_EQ(gst_element_set_state(h->element, GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  gst_harness_set_src_caps_str(h, frame_caps(photo_, GST_VIDEO_FORMAT_BGR).c_str());
  const double second = score_photo(h, frame(0));
  EXPECT_EQ(second, wanted) << std::setprecision(17) << "the second run scored " << second
                            << " where a fresh element scores " << wanted << " (the first run: "
                            << first << "): it kept the first run's scorer";
  gst_harness_teardown(h);
}

TEST_F(FaceQanLifecycle, StopsCleanlyMidStream) {
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " queue-size=1", photo_);
  GstBuffer* held = frame(0);
  gst_buffer_ref(held);  // to see that the element lets go of it
  {
    // Frame 0 waits at the blocked output, frame 1 fills the queue, frame 2's push blocks:
    // shutting down must release all three threads and frames.
    BlockedOutput blocked(h);
    gst_harness_push(h, held);
    wait_until_blocked(blocked.pad);
    gst_harness_push(h, frame(1));
    auto pushing = std::async(std::launch::async, [&] { return gst_harness_push(h, frame(2)); });
    EXPECT_EQ(pushing.wait_for(300ms), std::future_status::timeout);
    EXPECT_EQ(gst_element_set_state(h->element, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    ASSERT_EQ(pushing.wait_for(30s), std::future_status::ready);
    EXPECT_EQ(pushing.get(), GST_FLOW_FLUSHING);
  }
  EXPECT_EQ(GST_MINI_OBJECT_REFCOUNT_VALUE(held), 1) << "the element still holds a frame";
  gst_buffer_unref(held);
  EXPECT_EQ(gst_harness_buffers_in_queue(h), 0u);

  // And it starts again.
  ASSERT_EQ(gst_element_set_state(h->element, GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  gst_harness_set_src_caps_str(h, frame_caps(photo_, GST_VIDEO_FORMAT_BGR).c_str());
  ASSERT_EQ(gst_harness_push(h, frame(3)), GST_FLOW_OK);
  expect_only_frame_at(h, 3 * GST_SECOND);
  gst_harness_teardown(h);
}

GstPadProbeReturn fail_buffer(GstPad*, GstPadProbeInfo* info, gpointer) {
  gst_buffer_unref(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_FLOW_RETURN(info) = GST_FLOW_ERROR;
  return GST_PAD_PROBE_HANDLED;
}

TEST_F(FaceQanLifecycle, DownstreamErrorReachesUpstreamWithoutHanging) {
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " queue-size=1", photo_);
  GstPad* pad = element_src_pad(h);
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, fail_buffer, nullptr, nullptr);
  // With a one-frame queue a push blocks until the frame before has left; once a push downstream
  // has failed, every push must return the error instead of waiting for room forever.
  auto pushing = std::async(std::launch::async, [&] {
    GstFlowReturn ret = GST_FLOW_OK;
    for (int i = 0; i < 10 && ret == GST_FLOW_OK; ++i) ret = gst_harness_push(h, frame(i));
    return ret;
  });
  ASSERT_EQ(pushing.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(pushing.get(), GST_FLOW_ERROR);
  gst_object_unref(pad);
  gst_harness_teardown(h);
}

// A model that cannot be loaded fails the start with an error naming the file.
class BadModel : public FaceQanLifecycle {
 protected:
  // Returns the error's message and debug text, or "" if the element reached PAUSED.
  std::string start_error(const std::string& property, const std::string& value) {
    GstElement* element = gst_element_factory_make("faceqan", nullptr);
    g_object_set(element, property.c_str(), value.c_str(), nullptr);
    GstBus* bus = gst_bus_new();
    gst_element_set_bus(element, bus);
    const GstStateChangeReturn ret = gst_element_set_state(element, GST_STATE_PAUSED);
    const std::string text = pop_error(element);
    EXPECT_EQ(ret, GST_STATE_CHANGE_FAILURE) << property << "=" << value;
    EXPECT_FALSE(text.empty()) << "no error message for " << property << "=" << value;
    gst_element_set_state(element, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(element);
    return text;
  }

  std::string truncated_copy(const std::string& model, const std::string& name) {
    const std::string source = model_file(model);
    const std::string path = scratch_dir("gst-bad-models-" + name) + "/" + name;
    std::ifstream in(source, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size() / 3);
    return path;
  }
};

TEST_F(BadModel, MissingRecognizerFile) {
  const std::string path = "/nonexistent/recognizer.onnx";
  EXPECT_NE(start_error("recognizer-model", path).find(path), std::string::npos);
}

TEST_F(BadModel, MissingDetectorFile) {
  const std::string path = "/nonexistent/detector.onnx";
  EXPECT_NE(start_error("detector-model", path).find(path), std::string::npos);
}

TEST_F(BadModel, TruncatedRecognizer) {
  const std::string path =
      truncated_copy("recognition/mobilefacenet512_faceplugin.onnx", "recognizer.onnx");
  EXPECT_NE(start_error("recognizer-model", path).find(path), std::string::npos);
}

TEST_F(BadModel, TruncatedDetector) {
  const std::string path = truncated_copy("detection/retinaface_mnet025_640.onnx", "detector.onnx");
  EXPECT_NE(start_error("detector-model", path).find(path), std::string::npos);
}

TEST_F(BadModel, MissingCalibrationFile) {
  const std::string path = "/nonexistent/calibration.json";
  EXPECT_NE(start_error("calibration", path).find(path), std::string::npos);
}

TEST_F(BadModel, MalformedCalibrationFile) {
  const std::string path = scratch_dir("gst-bad-calibration") + "/calibration.json";
  std::ofstream(path) << "{\"percentiles\": [0.1, 0.2]}";  // 2 of the 101 values
  const std::string error = start_error("calibration", path);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("101"), std::string::npos) << error;
}

TEST_F(BadModel, CudaWithoutCuda) {
  if (faceqan::cuda_available()) GTEST_SKIP() << "this LibTorch has CUDA and a GPU";
  const std::string error = start_error("device", "cuda");
  EXPECT_NE(error.find("cuda"), std::string::npos) << error;
}

}  // namespace
}  // namespace faceqan::test
