// Helpers for the faceqan element's tests: frames made from photos in any raw format, a harness
// around the element, and the metadata read back.
#pragma once

#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <opencv2/core.hpp>

#include <optional>
#include <string>
#include <vector>

#include "faceqan/quality.h"

namespace faceqan::test {

// The recognition model's embedding (not normalised) of an 8-bit BGR aligned crop.
std::vector<float> embed_bgr_crop(const RecognitionModel& model, const cv::Mat& bgr);

// Cheap FaceQAN settings for tests (the ranking, not the paper's exact numbers, matters here).
// Every face is scored, as these tests expect; the scoring budget has its own tests.
inline constexpr const char* kCheapScoring = "iterations=1 samples=2 threads=2 scoring=every-face";

// gst_init once; fails the test if the plugin cannot be found on GST_PLUGIN_PATH.
void init_gstreamer();

// A photo from the shared data as 8-bit BGR, cropped so that its sides are even (I420 and NV12
// frames then map one to one).
cv::Mat read_photo(const std::string& relative);

// The photo as a frame in `format`, with a timestamp and a duration.
GstBuffer* make_frame(const cv::Mat& bgr, GstVideoFormat format, GstClockTime pts,
                      GstClockTime duration = 40 * GST_MSECOND);
std::string frame_caps(const cv::Mat& bgr, GstVideoFormat format);

// A harness around "faceqan <properties>", already playing, with caps for frames like `bgr`,
// and a bus on the element for its messages (gst_element_get_bus(h->element)).
GstHarness* faceqan_harness(const std::string& properties, const cv::Mat& bgr,
                            GstVideoFormat format = GST_VIDEO_FORMAT_BGR);

// One face as the element published it.
struct PublishedFace {
  guint x = 0, y = 0, width = 0, height = 0;  // the meta's box
  double x_min = 0, y_min = 0, x_max = 0, y_max = 0, confidence = 0;  // "detection"
  std::string label;
  double quality = 0;  // "faceqan"
  std::optional<double> embedding_norm;  // "faceqan" embedding-norm, when the face has one
  bool scored = false;
  bool has_faceqan = false;
  std::vector<double> landmarks;
  std::vector<float> embedding;
};
std::vector<PublishedFace> published_faces(GstBuffer* buffer);

// Everything a harness sent downstream until EOS: the buffers (owned), the GAP events counted,
// other events dropped.
struct HarnessOutput {
  std::vector<GstBuffer*> buffers;
  int gaps = 0;
  bool eos = false;
  HarnessOutput() = default;
  HarnessOutput(const HarnessOutput&) = delete;
  HarnessOutput& operator=(const HarnessOutput&) = delete;
  ~HarnessOutput();
};

// Pushes EOS into the harness and collects what comes out until the EOS event (a test failure if
// none comes within the harness's timeout).
void push_eos_and_collect(GstHarness* h, HarnessOutput& out);

// An error message's text as "message | debug".
std::string error_text(GstMessage* error);

// The first error on the element's bus as "message | debug" (popped), or "" if there is none.
std::string pop_error(GstElement* element);

// Pulls a buffer, waiting at most `seconds`; nullptr on timeout.
GstBuffer* pull_within(GstHarness* h, double seconds);

// Element messages with this name (any name if nullptr) posted so far on the element's bus;
// all element messages are popped.
std::vector<GstMessage*> pop_messages(GstElement* element, const char* name);

}  // namespace faceqan::test
