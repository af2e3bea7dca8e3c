// The faceqan element through a GstHarness: metadata, order, EOS, drop mode, upstream regions,
// formats and messages. One behaviour per test; cheap FaceQAN settings.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "element_test_support.h"
#include "faceqan/face_alignment.h"
#include "faceqan/face_detector.h"
#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

class FaceQanElement : public ::testing::Test {
 protected:
  void SetUp() override { init_gstreamer(); }
};

TEST_F(FaceQanElement, MetadataMatchesTheDetector) {
  const cv::Mat photo = read_photo("groups/bbt1.jpg");
  RetinaFaceDetector detector(find_model(kDefaultDetectionModel));
  const std::vector<DetectedFace> expected = detector.detect(photo, PixelFormat::kBGR);
  ASSERT_EQ(expected.size(), 4u);

  GstHarness* h = faceqan_harness(kCheapScoring, photo);
  ASSERT_EQ(gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, 0)), GST_FLOW_OK);
  GstBuffer* out = pull_within(h, 60);
  ASSERT_NE(out, nullptr);
  const std::vector<PublishedFace> faces = published_faces(out);
  ASSERT_EQ(faces.size(), expected.size());
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const cv::Rect2f& box = expected[i].box;
    EXPECT_NEAR(faces[i].x_min * photo.cols, box.x, 1.0);
    EXPECT_NEAR(faces[i].y_min * photo.rows, box.y, 1.0);
    EXPECT_NEAR(faces[i].x_max * photo.cols, box.x + box.width, 1.0);
    EXPECT_NEAR(faces[i].y_max * photo.rows, box.y + box.height, 1.0);
    EXPECT_NEAR(faces[i].x, box.x, 1.0);
    EXPECT_NEAR(faces[i].width, box.width, 2.0);
    EXPECT_NEAR(faces[i].confidence, expected[i].confidence, 1e-5);
    EXPECT_EQ(faces[i].label, "face");
    EXPECT_TRUE(faces[i].scored);
    EXPECT_GT(faces[i].quality, 0.0);
    EXPECT_LE(faces[i].quality, 1.0);
    ASSERT_EQ(faces[i].landmarks.size(), 10u);
    EXPECT_NEAR(faces[i].landmarks[0], expected[i].landmarks[0].x, 1e-3);
    EXPECT_NEAR(faces[i].landmarks[9], expected[i].landmarks[4].y, 1e-3);
    EXPECT_TRUE(faces[i].embedding.empty());
  }
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

TEST_F(FaceQanElement, AttachesTheNormalisedEmbedding) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " attach-embedding=true", photo);
  gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, 0));
  GstBuffer* out = pull_within(h, 60);
  ASSERT_NE(out, nullptr);
  const std::vector<PublishedFace> faces = published_faces(out);
  ASSERT_EQ(faces.size(), 1u);
  ASSERT_FALSE(faces[0].embedding.empty());
  double norm = 0;
  for (float v : faces[0].embedding) norm += double(v) * v;
  EXPECT_NEAR(norm, 1.0, 1e-3);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

TEST_F(FaceQanElement, EmbeddingNormIsTheNormOfTheSameCropsEmbedding) {
  // The element's crop is the detector's alignment of the frame at the published landmarks; the
  // recognition model's own float32 pass on that crop must give the published norm.
  const cv::Mat photo = read_photo("groups/bbt1.jpg");
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " precision=fp32", photo);
  ASSERT_EQ(gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, 0)), GST_FLOW_OK);
  GstBuffer* out = pull_within(h, 60);
  ASSERT_NE(out, nullptr);
  const std::vector<PublishedFace> faces = published_faces(out);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
  ASSERT_EQ(faces.size(), 4u);
  const std::shared_ptr<RecognitionModel> model =
      load_recognition_model(find_model(kDefaultRecognitionModel), "cpu");
  std::set<double> norms;
  for (const PublishedFace& face : faces) {
    ASSERT_TRUE(face.scored);
    ASSERT_TRUE(face.embedding_norm) << "a scored face has embedding-norm";
    FaceLandmarks landmarks;
    for (std::size_t i = 0; i < landmarks.size(); ++i)
      landmarks[i] = cv::Point2f(static_cast<float>(face.landmarks[2 * i]),
                                 static_cast<float>(face.landmarks[2 * i + 1]));
    const std::vector<float> raw = embed_bgr_crop(*model, align_face(photo, landmarks));
    double norm = 0;
    for (float v : raw) norm += double(v) * v;
    EXPECT_NEAR(*face.embedding_norm / std::sqrt(norm), 1.0, 1e-4);
    norms.insert(*face.embedding_norm);
  }
  EXPECT_EQ(norms.size(), faces.size()) << "each face has its own norm";
}

TEST_F(FaceQanElement, KeepsOrderAndTimestampsAndDeliversEverythingAtEos) {
  const cv::Mat group = read_photo("groups/bbt1.jpg");
  cv::Mat blank(group.size(), group.type(), cv::Scalar(90, 90, 90));
  // A long max-latency: only EOS (or full batches) can release the frames.
  GstHarness* h =
      faceqan_harness(std::string(kCheapScoring) + " batch-size=3 max-latency=60000", group);
  const std::size_t expected_faces[] = {4, 0, 4, 4, 0, 4};
  for (int i = 0; i < 6; ++i) {
    const cv::Mat& image = expected_faces[i] ? group : blank;
    ASSERT_EQ(gst_harness_push(h, make_frame(image, GST_VIDEO_FORMAT_BGR, (10 + i) * GST_SECOND,
                                             GST_SECOND)),
              GST_FLOW_OK);
  }
  HarnessOutput out;
  push_eos_and_collect(h, out);
  ASSERT_EQ(out.buffers.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(GST_BUFFER_PTS(out.buffers[i]), (10 + i) * GST_SECOND);
    EXPECT_EQ(GST_BUFFER_DURATION(out.buffers[i]), GST_SECOND);
    const auto faces = published_faces(out.buffers[i]);
    EXPECT_EQ(faces.size(), expected_faces[i]) << "frame " << i;
    for (const PublishedFace& face : faces) EXPECT_TRUE(face.scored);
  }
  gst_harness_teardown(h);
}

TEST_F(FaceQanElement, DetectionIntervalFollowsTheFacesAndDetectsAtACut) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  const cv::Mat blank(photo.size(), photo.type(), cv::Scalar(90, 90, 90));
  // A pan: the photo moved right and down by 6 and 3 pixels a frame.
  const auto panned = [&photo](float step) {
    cv::Mat moved;
    const cv::Matx23f shift(1, 0, 6 * step, 0, 1, 3 * step);
    cv::warpAffine(photo, moved, shift, photo.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    return moved;
  };
  const cv::Mat first = panned(1), second = panned(2);
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " detection-interval=3", photo);
  // Detected on frame 0; frames 1 and 2 follow its face as it moves; frame 3, a cut to a blank
  // shot, is detected at once (no face carried over into it).
  const cv::Mat* frames[] = {&photo, &first, &second, &blank};
  for (int i = 0; i < 4; ++i) {
    gst_harness_push(h, make_frame(*frames[i], GST_VIDEO_FORMAT_BGR, i * GST_SECOND));
  }
  HarnessOutput out;
  push_eos_and_collect(h, out);
  ASSERT_EQ(out.buffers.size(), 4u);
  const std::size_t expected[] = {1, 1, 1, 0};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(published_faces(out.buffers[i]).size(), expected[i]) << "frame " << i;
  }
  const auto left = [&](int i) { return published_faces(out.buffers[i])[0].x_min * photo.cols; };
  const auto top = [&](int i) { return published_faces(out.buffers[i])[0].y_min * photo.rows; };
  for (int i = 1; i <= 2; ++i) {
    EXPECT_NEAR(left(i) - left(0), 6.0 * i, 2.0) << "frame " << i;
    EXPECT_NEAR(top(i) - top(0), 3.0 * i, 2.0) << "frame " << i;
  }
  gst_harness_teardown(h);
}

// Measures the sharp and the blurred photo's scores, then checks mode=drop with a threshold
// half-way between them.
TEST_F(FaceQanElement, DropModeKeepsOnlyFramesWithAGoodFace) {
  const cv::Mat sharp = read_photo("resolution-ladder/obama-720p.jpg");
  cv::Mat blurred;
  cv::GaussianBlur(sharp, blurred, cv::Size(), 8.0);
  const cv::Mat blank(sharp.size(), sharp.type(), cv::Scalar(120, 120, 120));
  const std::string scoring = "iterations=2 samples=2 threads=2 scoring=every-face";

  GstHarness* annotate = faceqan_harness(scoring, sharp);
  gst_harness_push(annotate, make_frame(sharp, GST_VIDEO_FORMAT_BGR, 0));
  gst_harness_push(annotate, make_frame(blurred, GST_VIDEO_FORMAT_BGR, GST_SECOND));
  HarnessOutput measured;
  push_eos_and_collect(annotate, measured);
  gst_harness_teardown(annotate);
  ASSERT_EQ(measured.buffers.size(), 2u);
  const auto sharp_faces = published_faces(measured.buffers[0]);
  const auto blurred_faces = published_faces(measured.buffers[1]);
  ASSERT_EQ(sharp_faces.size(), 1u);
  ASSERT_EQ(blurred_faces.size(), 1u);  // still detected: dropped for its quality, not its absence
  const double sharp_q = sharp_faces[0].quality, blurred_q = blurred_faces[0].quality;
  std::cout << "sharp " << sharp_q << ", blurred " << blurred_q << "\n";
  ASSERT_GT(sharp_q - blurred_q, 0.1) << "the blur should cost clearly more than seed noise";
  const double threshold = (sharp_q + blurred_q) / 2;

  GstHarness* h = faceqan_harness(scoring + " mode=drop drop-gaps=true quality-threshold=" +
                                      std::to_string(threshold),
                                  sharp);
  gst_harness_push(h, make_frame(blurred, GST_VIDEO_FORMAT_BGR, 0));
  gst_harness_push(h, make_frame(sharp, GST_VIDEO_FORMAT_BGR, GST_SECOND));
  gst_harness_push(h, make_frame(blank, GST_VIDEO_FORMAT_BGR, 2 * GST_SECOND));
  HarnessOutput out;
  push_eos_and_collect(h, out);
  ASSERT_EQ(out.buffers.size(), 1u);
  EXPECT_EQ(GST_BUFFER_PTS(out.buffers[0]), GST_SECOND);
  EXPECT_EQ(out.gaps, 2);  // drop-gaps: one GAP per dropped frame
  gst_harness_teardown(h);
}

TEST_F(FaceQanElement, UpstreamRegionsAreScoredWithoutTheDetector) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " use-upstream-rois=true", photo);

  // Frame 1: a face but no region: nothing is published (no detector runs).
  gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, 0));
  // Frame 2: a region with landmarks given, and one from a detector without landmarks.
  GstBuffer* frame = make_frame(photo, GST_VIDEO_FORMAT_BGR, GST_SECOND);
  GstVideoRegionOfInterestMeta* with_landmarks =
      gst_buffer_add_video_region_of_interest_meta(frame, "face", 100, 50, 120, 140);
  GstStructure* params = gst_structure_new_empty("landmarks");
  GValue array = G_VALUE_INIT;
  gst_value_array_init(&array, 10);
  const double points[10] = {130, 100, 190, 100, 160, 130, 135, 160, 185, 160};
  for (double p : points) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_DOUBLE);
    g_value_set_double(&v, p);
    gst_value_array_append_and_take_value(&array, &v);
  }
  gst_structure_take_value(params, "landmarks", &array);
  gst_video_region_of_interest_meta_add_param(with_landmarks, params);
  gst_buffer_add_video_region_of_interest_meta(frame, "face", 300, 60, 100, 100);
  gst_buffer_add_video_region_of_interest_meta(frame, "person", 0, 0, 50, 50);  // not a face
  gst_harness_push(h, frame);

  HarnessOutput out;
  push_eos_and_collect(h, out);
  ASSERT_EQ(out.buffers.size(), 2u);
  EXPECT_TRUE(published_faces(out.buffers[0]).empty());
  auto faces = published_faces(out.buffers[1]);
  ASSERT_EQ(faces.size(), 2u);
  std::sort(faces.begin(), faces.end(),
            [](const PublishedFace& a, const PublishedFace& b) { return a.x < b.x; });
  for (const PublishedFace& face : faces) {
    EXPECT_TRUE(face.has_faceqan);
    EXPECT_TRUE(face.scored);
    EXPECT_EQ(face.confidence, 1.0);  // no "detection" parameter upstream: full confidence
  }
  EXPECT_EQ(faces[0].x, 100u);  // the upstream meta itself carries the results
  EXPECT_EQ(faces[0].landmarks, std::vector<double>(points, points + 10));
  ASSERT_EQ(faces[1].landmarks.size(), 10u);
  // Estimated landmarks: the ArcFace template's left eye placed in the box.
  EXPECT_NEAR(faces[1].landmarks[0], 300 + 38.2946 / 112 * 100, 0.01);
  gst_harness_teardown(h);
}

// Whether two buffers hold the same bytes (sizes included).
bool same_bytes(GstBuffer* a, GstBuffer* b) {
  GstMapInfo map_a, map_b;
  if (!gst_buffer_map(a, &map_a, GST_MAP_READ)) return false;
  if (!gst_buffer_map(b, &map_b, GST_MAP_READ)) {
    gst_buffer_unmap(a, &map_a);
    return false;
  }
  const bool same = map_a.size == map_b.size && memcmp(map_a.data, map_b.data, map_a.size) == 0;
  gst_buffer_unmap(a, &map_a);
  gst_buffer_unmap(b, &map_b);
  return same;
}

// A frame pushed through a harness: a copy of it as it went in and what came out (nullptr if
// nothing within a minute), both released with it.
struct PushedFrame {
  PushedFrame(GstHarness* h, GstBuffer* in) : original(gst_buffer_copy_deep(in)) {
    if (gst_harness_push(h, in) == GST_FLOW_OK) out = pull_within(h, 60);
  }
  ~PushedFrame() {
    gst_buffer_unref(original);
    if (out != nullptr) gst_buffer_unref(out);
  }
  PushedFrame(const PushedFrame&) = delete;
  PushedFrame& operator=(const PushedFrame&) = delete;
  GstBuffer* original;
  GstBuffer* out = nullptr;
};

TEST_F(FaceQanElement, EveryFormatNegotiatesAndIsAnalysed) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  for (GstVideoFormat format :
       {GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
        GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_YV12,
        GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_NV21}) {
    SCOPED_TRACE(gst_video_format_to_string(format));
    GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " draw=true", photo, format);
    const PushedFrame frame(h, make_frame(photo, format, 0));
    ASSERT_NE(frame.out, nullptr);
    const auto faces = published_faces(frame.out);
    ASSERT_EQ(faces.size(), 1u);
    EXPECT_TRUE(faces[0].scored);
    EXPECT_GT(faces[0].quality, 0.3);
    // draw=true changed the pixels (and only in place: same size).
    EXPECT_EQ(gst_buffer_get_size(frame.out), gst_buffer_get_size(frame.original));
    EXPECT_FALSE(same_bytes(frame.out, frame.original));
    gst_harness_teardown(h);
  }
}

TEST_F(FaceQanElement, WithoutDrawFramesPassUnmodified) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  GstHarness* h = faceqan_harness(kCheapScoring, photo, GST_VIDEO_FORMAT_I420);
  {
    const PushedFrame frame(h, make_frame(photo, GST_VIDEO_FORMAT_I420, 0));
    ASSERT_NE(frame.out, nullptr);
    EXPECT_TRUE(same_bytes(frame.out, frame.original));
  }
  gst_harness_teardown(h);
}

TEST_F(FaceQanElement, PostsFrameMessagesAndStatistics) {
  const cv::Mat photo = read_photo("groups/bbt1.jpg");
  GstHarness* h =
      faceqan_harness(std::string(kCheapScoring) + " message=true stats-interval=1", photo);
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  segment.base = 5 * GST_SECOND;  // running time = pts + 5 s
  gst_harness_push_event(h, gst_event_new_segment(&segment));
  gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, GST_SECOND, 40 * GST_MSECOND));
  HarnessOutput out;
  push_eos_and_collect(h, out);
  ASSERT_EQ(out.buffers.size(), 1u);

  std::vector<GstMessage*> frames, stats;
  for (GstMessage* m : pop_messages(h->element, nullptr)) {
    const GstStructure* structure = gst_message_get_structure(m);
    (gst_structure_has_name(structure, "faceqan") ? frames : stats).push_back(m);
  }
  ASSERT_EQ(frames.size(), 1u);
  const GstStructure* s = gst_message_get_structure(frames[0]);
  guint64 timestamp = 0, stream_time = 0, running_time = 0, duration = 0;
  EXPECT_TRUE(gst_structure_get_uint64(s, "timestamp", &timestamp));
  EXPECT_TRUE(gst_structure_get_uint64(s, "stream-time", &stream_time));
  EXPECT_TRUE(gst_structure_get_uint64(s, "running-time", &running_time));
  EXPECT_TRUE(gst_structure_get_uint64(s, "duration", &duration));
  EXPECT_EQ(timestamp, GST_SECOND);
  EXPECT_EQ(stream_time, GST_SECOND);
  EXPECT_EQ(running_time, 6 * GST_SECOND);
  EXPECT_EQ(duration, 40 * GST_MSECOND);
  const GValue* list = gst_structure_get_value(s, "faces");
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(gst_value_list_get_size(list), 4u);
  const GstStructure* face = gst_value_get_structure(gst_value_list_get_value(list, 0));
  EXPECT_TRUE(gst_structure_has_name(face, "face"));
  for (const char* field : {"x", "y", "width", "height"}) {
    EXPECT_TRUE(gst_structure_has_field_typed(face, field, G_TYPE_UINT)) << field;
  }
  for (const char* field : {"confidence", "quality"}) {
    EXPECT_TRUE(gst_structure_has_field_typed(face, field, G_TYPE_DOUBLE)) << field;
  }
  EXPECT_TRUE(gst_structure_has_field_typed(face, "scored", G_TYPE_BOOLEAN));
  for (GstMessage* m : frames) gst_message_unref(m);

  // At least the final statistics at EOS, counting the frame and its faces.
  ASSERT_FALSE(stats.empty());
  for (GstMessage* m : stats) {
    EXPECT_TRUE(gst_structure_has_name(gst_message_get_structure(m), "faceqan-stats"));
  }
  const GstStructure* last = gst_message_get_structure(stats.back());
  guint64 frames_in = 0, frames_out = 0, detected = 0, scored = 0, skipped = 1, dropped = 1;
  EXPECT_TRUE(gst_structure_get_uint64(last, "frames-in", &frames_in));
  EXPECT_TRUE(gst_structure_get_uint64(last, "frames-out", &frames_out));
  EXPECT_TRUE(gst_structure_get_uint64(last, "faces-detected", &detected));
  EXPECT_TRUE(gst_structure_get_uint64(last, "faces-scored", &scored));
  EXPECT_TRUE(gst_structure_get_uint64(last, "skipped", &skipped));
  EXPECT_TRUE(gst_structure_get_uint64(last, "dropped", &dropped));
  EXPECT_EQ(frames_in, 1u);
  EXPECT_EQ(frames_out, 1u);
  EXPECT_EQ(detected, 4u);
  EXPECT_EQ(scored, 4u);
  EXPECT_EQ(skipped, 0u);
  EXPECT_EQ(dropped, 0u);
  for (const char* field : {"frames-per-second", "faces-detected-per-second",
                            "faces-scored-per-second"}) {
    EXPECT_TRUE(gst_structure_has_field_typed(last, field, G_TYPE_DOUBLE)) << field;
  }
  EXPECT_TRUE(gst_structure_has_field_typed(last, "queue-depth", G_TYPE_UINT));
  EXPECT_TRUE(gst_structure_has_field_typed(last, "latency", G_TYPE_UINT64));
  for (GstMessage* m : stats) gst_message_unref(m);
  gst_harness_teardown(h);
}

// With a calibration file whose percentiles are 0, 0.01, ..., 1 the 0-100 scale is 100 x quality.
TEST_F(FaceQanElement, CalibrationAddsTheQualityOn0To100Scale) {
  const std::string calibration = scratch_dir("gst-calibration") + "/linear.json";
  {
    std::ofstream out(calibration);
    out << "{\"percentiles\": [";
    for (int i = 0; i <= 100; ++i) out << (i ? ", " : "") << i / 100.0;
    out << "]}";
  }
  const cv::Mat photo = read_photo("groups/bbt1.jpg");
  GstHarness* h = faceqan_harness(
      std::string(kCheapScoring) + " message=true calibration=" + calibration, photo);
  gst_harness_push(h, make_frame(photo, GST_VIDEO_FORMAT_BGR, 0));
  HarnessOutput out;
  push_eos_and_collect(h, out);
  ASSERT_EQ(out.buffers.size(), 1u);

  // The region-of-interest metas' "faceqan" parameters.
  int faces_with_scale = 0;
  gpointer state = nullptr;
  while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
             out.buffers[0], &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta);
    const GstStructure* params = gst_video_region_of_interest_meta_get_param(roi, "faceqan");
    ASSERT_NE(params, nullptr);
    double quality = -1, quality_100 = -1;
    ASSERT_TRUE(gst_structure_get_double(params, "quality", &quality));
    ASSERT_TRUE(gst_structure_get_double(params, "quality-100", &quality_100));
    EXPECT_NEAR(quality_100, 100.0 * quality, 1e-9);
    ++faces_with_scale;
  }
  EXPECT_EQ(faces_with_scale, 4);

  // The frame message carries it too.
  std::vector<GstMessage*> messages = pop_messages(h->element, "faceqan");
  ASSERT_EQ(messages.size(), 1u);
  const GValue* list = gst_structure_get_value(gst_message_get_structure(messages[0]), "faces");
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(gst_value_list_get_size(list), 4u);
  for (guint i = 0; i < gst_value_list_get_size(list); ++i) {
    const GstStructure* face = gst_value_get_structure(gst_value_list_get_value(list, i));
    double quality = -1, quality_100 = -1;
    ASSERT_TRUE(gst_structure_get_double(face, "quality", &quality));
    ASSERT_TRUE(gst_structure_get_double(face, "quality-100", &quality_100));
    EXPECT_NEAR(quality_100, 100.0 * quality, 1e-9);
  }
  for (GstMessage* m : messages) gst_message_unref(m);
  gst_harness_teardown(h);
}

TEST_F(FaceQanElement, ReportsItsLatency) {
  const cv::Mat photo = read_photo("resolution-ladder/obama-480p.jpg");
  GstHarness* h = faceqan_harness(std::string(kCheapScoring) + " max-latency=300", photo);
  gst_harness_set_upstream_latency(h, 10 * GST_MSECOND);
  EXPECT_GE(gst_harness_query_latency(h), 310 * GST_MSECOND);
  gst_harness_teardown(h);
}

}  // namespace
}  // namespace faceqan::test
