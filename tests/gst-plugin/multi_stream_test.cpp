// Several faceqan elements in one process (one per camera) share one scorer: every stream gets
// every face scored, with the scores an element alone gives (the same seed and face keys give
// the same noise whatever shares the batch), in its own order; one stream stopping does not
// disturb the others. Not timed: bench/multi_stream_bench.sh measures.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <memory>
#include <string>
#include <vector>

#include "element_test_support.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

class MultiStream : public ::testing::Test {
 protected:
  void SetUp() override {
    init_gstreamer();
    group_ = read_photo("groups/bbt1.jpg");
    cv::GaussianBlur(group_, blurred_, cv::Size(0, 0), 4.0);
    blank_ = cv::Mat(group_.size(), group_.type(), cv::Scalar(90, 90, 90));
    frames_ = {&group_, &blurred_, &blank_, &group_, &blurred_, &group_};
  }
  GstBuffer* frame(std::size_t i) {
    return make_frame(*frames_[i], GST_VIDEO_FORMAT_BGR, i * GST_SECOND, GST_SECOND);
  }
  cv::Mat group_, blurred_, blank_;
  std::vector<const cv::Mat*> frames_;
};

// Everything one harness receives until EOS, as published faces per frame, with timestamps.
struct Received {
  std::vector<GstClockTime> pts;
  std::vector<std::vector<PublishedFace>> faces;
};

Received eos_and_collect(GstHarness* h) {
  HarnessOutput out;
  push_eos_and_collect(h, out);
  Received received;
  for (GstBuffer* b : out.buffers) {
    received.pts.push_back(GST_BUFFER_PTS(b));
    received.faces.push_back(published_faces(b));
  }
  return received;
}

// The "scorer-streams" field of the last faceqan-stats message.
guint scorer_streams(GstHarness* h) {
  guint streams = 0;
  for (GstMessage* m : pop_messages(h->element, "faceqan-stats")) {
    gst_structure_get_uint(gst_message_get_structure(m), "scorer-streams", &streams);
    gst_message_unref(m);
  }
  return streams;
}

void expect_same_scores(const Received& got, const Received& alone, const std::string& who) {
  ASSERT_EQ(got.faces.size(), alone.faces.size()) << who;
  for (std::size_t f = 0; f < alone.faces.size(); ++f) {
    EXPECT_EQ(got.pts[f], alone.pts[f]) << who << " frame " << f;
    ASSERT_EQ(got.faces[f].size(), alone.faces[f].size()) << who << " frame " << f;
    for (std::size_t i = 0; i < alone.faces[f].size(); ++i) {
      EXPECT_TRUE(got.faces[f][i].scored) << who << " frame " << f << " face " << i;
      EXPECT_NEAR(got.faces[f][i].quality, alone.faces[f][i].quality, 1e-5)
          << who << " frame " << f << " face " << i;
    }
  }
}

TEST_F(MultiStream, StreamsShareTheScorerAndGetTheScoresOfAnElementAlone) {
  const std::string props = std::string(kCheapScoring) + " stats-interval=3600000";
  // The reference: one element with its own scorer.
  GstHarness* alone = faceqan_harness(props + " shared-scorer=false", group_);
  for (std::size_t i = 0; i < frames_.size(); ++i) {
    ASSERT_EQ(gst_harness_push(alone, frame(i)), GST_FLOW_OK);
  }
  const Received reference = eos_and_collect(alone);
  EXPECT_EQ(scorer_streams(alone), 1u);
  gst_harness_teardown(alone);
  ASSERT_EQ(reference.faces.size(), frames_.size());
  std::size_t faces = 0;
  for (const auto& f : reference.faces) faces += f.size();
  ASSERT_GE(faces, 12u);

  // Three streams with different batching (not part of the sharing key), frames interleaved.
  const char* batching[] = {" batch-size=2", " batch-size=3 max-latency=50", " batch-size=8"};
  std::vector<GstHarness*> streams;
  for (const char* b : batching) streams.push_back(faceqan_harness(props + b, group_));
  // A fourth with another seed must not join them.
  GstHarness* other = faceqan_harness(props + " seed=7", group_);
  for (std::size_t i = 0; i < frames_.size(); ++i) {
    for (GstHarness* h : streams) ASSERT_EQ(gst_harness_push(h, frame(i)), GST_FLOW_OK);
  }
  ASSERT_EQ(gst_harness_push(other, frame(0)), GST_FLOW_OK);
  for (std::size_t s = 0; s < streams.size(); ++s) {
    const Received got = eos_and_collect(streams[s]);
    expect_same_scores(got, reference, "stream " + std::to_string(s));
    EXPECT_EQ(scorer_streams(streams[s]), 3u) << "stream " << s;
  }
  eos_and_collect(other);
  EXPECT_EQ(scorer_streams(other), 1u);
  gst_harness_teardown(other);
  for (GstHarness* h : streams) gst_harness_teardown(h);
}

// One stream stops (to NULL) with frames still waiting for scores; the others carry on and get
// everything scored, and a stream started afterwards joins the same scorer.
TEST_F(MultiStream, StoppingOneStreamDoesNotDisturbTheOthers) {
  const std::string props = std::string(kCheapScoring) + " stats-interval=3600000 max-latency=60000";
  GstHarness* leaving = faceqan_harness(props, group_);
  GstHarness* staying = faceqan_harness(props, group_);
  for (std::size_t i = 0; i < frames_.size(); ++i) {
    ASSERT_EQ(gst_harness_push(leaving, frame(i)), GST_FLOW_OK);
    ASSERT_EQ(gst_harness_push(staying, frame(i)), GST_FLOW_OK);
  }
  gst_harness_teardown(leaving);  // mid-stream, jobs pending in the shared scorer

  GstHarness* joining = faceqan_harness(props, group_);
  for (std::size_t i = 0; i < 2; ++i) ASSERT_EQ(gst_harness_push(joining, frame(i)), GST_FLOW_OK);
  const Received got = eos_and_collect(staying);
  ASSERT_EQ(got.faces.size(), frames_.size());
  for (std::size_t f = 0; f < got.faces.size(); ++f) {
    EXPECT_EQ(got.pts[f], f * GST_SECOND);
    for (const PublishedFace& face : got.faces[f]) EXPECT_TRUE(face.scored) << "frame " << f;
  }
  EXPECT_EQ(scorer_streams(staying), 2u);  // itself and the one that joined
  const Received joined = eos_and_collect(joining);
  ASSERT_EQ(joined.faces.size(), 2u);
  for (const auto& frame_faces : joined.faces) {
    for (const PublishedFace& face : frame_faces) EXPECT_TRUE(face.scored);
  }
  gst_harness_teardown(joining);
  gst_harness_teardown(staying);
}

// A flush (seek) on one stream drops its pending faces only; the other stream is unaffected
// and the flushed one goes on scoring afterwards.
TEST_F(MultiStream, FlushingOneStreamLeavesTheOtherAlone) {
  const std::string props = std::string(kCheapScoring) + " max-latency=60000";
  GstHarness* flushed = faceqan_harness(props, group_);
  GstHarness* other = faceqan_harness(props, group_);
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(gst_harness_push(flushed, frame(i)), GST_FLOW_OK);
    ASSERT_EQ(gst_harness_push(other, frame(i)), GST_FLOW_OK);
  }
  ASSERT_TRUE(gst_harness_push_event(flushed, gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(flushed, gst_event_new_flush_stop(TRUE)));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(flushed, gst_event_new_segment(&segment)));
  while (GstBuffer* b = gst_harness_try_pull(flushed)) gst_buffer_unref(b);
  ASSERT_EQ(gst_harness_push(flushed, frame(3)), GST_FLOW_OK);

  const Received got_other = eos_and_collect(other);
  ASSERT_EQ(got_other.faces.size(), 3u);
  for (const auto& f : got_other.faces) {
    for (const PublishedFace& face : f) EXPECT_TRUE(face.scored);
  }
  const Received got_flushed = eos_and_collect(flushed);
  ASSERT_FALSE(got_flushed.faces.empty());
  EXPECT_EQ(got_flushed.pts.back(), 3 * GST_SECOND);
  EXPECT_EQ(got_flushed.faces.back().size(), 4u);
  for (const PublishedFace& face : got_flushed.faces.back()) EXPECT_TRUE(face.scored);
  gst_harness_teardown(flushed);
  gst_harness_teardown(other);
}

}  // namespace
}  // namespace faceqan::test
