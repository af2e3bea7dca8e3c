// What one faceqan element holds besides its pads, split by the thread that owns it
// (docs/ARCHITECTURE.md):
//
// - InputState: the chain thread's (sink pad): caps, the frame imager, the detections reused
//   with detection-interval, the tracker. element_input.cpp.
// - OutputState: the src pad task's: per-track latest scores, best frames, the person gallery,
//   the JSON file, the segment, the statistics interval. element_output.cpp.
// - SharedState: what both threads and the scorer's completion callback touch, each piece
//   internally synchronised: flow returns, the scoring budget, the scoring error, the counters.
//
// Each part is built at READY->PAUSED from the settings. A flush (FLUSH_STOP) replaces the parts
// that belong to one stretch of stream (InputStream, OutputStream, the budget) with new ones;
// what survives a flush is the caps, the statistics totals, the JSON file, the person gallery,
// the calibration and the scorer client. PAUSED->READY destroys the input and output parts (the
// JSON file closes with them). Private to the element.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "faceqan/face_follower.h"
#include "faceqan/stream/best_frames.h"
#include "element_models.h"
#include "element_settings.h"
#include "faceqan/quality.h"
#include "faceqan/quality_scale.h"
#include "frame_faces.h"
#include "json_export.h"
#include "faceqan/stream/person_gallery.h"
#include "faceqan/stream/scoring_budget.h"
#include "faceqan/stream/scoring_queue.h"
#include "faceqan/stream/shared_scorer.h"
#include "faceqan/stream/tracker.h"
#include "track_events.h"

// The element's one debug category, "faceqan" (defined in gstfaceqan.cpp).
GST_DEBUG_CATEGORY_EXTERN(gst_faceqan_debug);

namespace faceqan::gst {

using Clock = std::chrono::steady_clock;

// Owns a queued buffer or event: items the queue drops on a flush release theirs.
struct MiniObjectUnref {
  void operator()(GstMiniObject* object) const { gst_mini_object_unref(object); }
};
using MiniObjectPtr = std::unique_ptr<GstMiniObject, MiniObjectUnref>;

// A buffer or an event held in the queue, with what the worker needs to finish a frame.
struct QueuedItem {
  MiniObjectPtr object;
  GstVideoInfo info{};  // frames: the caps in force when the frame came in
  std::vector<FaceRecord> faces;
  bool scored = true;   // false: admitted while the queue was full with overload=skip
  // Per face: its place among the faces queued for scoring (-1: not scored), the cheap
  // signals' promise (scoring=budget) and, with best-frames, its aligned crop (8-bit BGR).
  std::vector<int> queued;
  std::vector<double> promise;
  std::vector<cv::Mat> crops;
  std::vector<TrackId> ended_tracks;  // tracks that ended at this frame
};

using Queue = ScoringQueue<QueuedItem, FaceQuality>;

// ---- The chain thread's ----

// The last frame's faces. With detection-interval > 1 the detector runs on every interval-th
// frame and the faces are followed (optical flow) on the frames in between; a cut to another
// shot, or a face lost by the follower, brings the detection forward. Replaced by an empty one
// when the frame size changes or the stream is flushed.
struct DetectionReuse {
  std::vector<FaceRecord> faces;
  guint64 frames_seen = 0;      // frames since the last replacement
  guint64 since_detection = 0;  // frames since the detector last ran
  bool detected = false;        // the detector has run since the last replacement
  bool detect_next = false;     // the follower lost a face: detect on the next frame
  FaceFollower follower;
};

// One stretch of stream between flushes, as the chain thread follows it.
struct InputStream {
  InputStream(const TrackerSettings& tracker_settings, TrackId first_track)
      : tracker(tracker_settings, first_track) {}
  DetectionReuse detections;
  FaceTracker tracker;
};

struct InputState {
  explicit InputState(const Settings& s)
      : stream(std::make_unique<InputStream>(s.faces.tracker, 1)) {}
  // A flush: new tracks and detections; track ids go on increasing, so that a track after the
  // flush is never taken for one before it (the person gallery outlives the flush).
  void start_stream(const Settings& s) {
    stream = std::make_unique<InputStream>(s.faces.tracker, stream->tracker.next_id());
  }
  GstVideoInfo info{};  // the caps in force
  bool have_info = false;
  FrameImager imager;
  std::unique_ptr<InputStream> stream;
};

// ---- The src pad task's ----

// One stretch of stream between flushes, as the task finishes it.
struct OutputStream {
  OutputStream() { gst_segment_init(&segment, GST_FORMAT_TIME); }
  std::map<TrackId, FaceQuality> latest_score;  // per live track
  BestFrameSelector best;
  std::map<TrackId, TrackSpan> track_spans;  // with best-frames: when each live track was seen
  GstSegment segment{};
  TrackEventLog track_events;  // with best-frames: new/update/end, pushed before their frame
  // The reason the tracks open at EOS end with: "eos", or what a faceqan-end-reason event
  // before it said ("source-error" from `faceqan run` when a camera drops).
  std::string end_reason = "eos";
};

// The "faceqan-stats" interval's figures (the totals are in SharedState).
struct StatsInterval {
  Clock::time_point start = Clock::now();
  guint64 frames = 0, detected = 0;
  Clock::duration latency_sum{}, latency_max{};
};

struct OutputState {
  OutputState() : stream(std::make_unique<OutputStream>()) {}
  void start_stream() { stream = std::make_unique<OutputStream>(); }
  std::unique_ptr<OutputStream> stream;
  PersonGallery persons;  // best-same-person: tracks joined into persons
  JsonLinesExport json;
  FrameImager best_imager;
  std::optional<QualityScale> quality_scale;  // from calibration, read at start
  gint64 latency_posted = 0;  // the worst batch time a LATENCY message was posted for
  StatsInterval interval;
  std::string camera_id;   // camera-id, or the element's name
  std::string model_name;  // the recognition model's file name, for the "faceqan" params
};

// ---- Both threads, and the scorer's completion callback ----

// Counters for the "faceqan-stats" message, totals since the start (both threads count).
struct StatsTotals {
  std::atomic<guint64> frames_in{0}, frames_out{0}, skipped{0}, dropped{0};
  std::atomic<guint64> faces_detected{0}, faces_scored{0};
  std::atomic<guint64> interval_scored{0};  // counted where results arrive; the task takes it
};

struct SharedState {
  explicit SharedState(const Settings& s)
      : budget(std::make_unique<ScoringBudget>(s.faces.budget)) {}
  // The flow return the src task last got (FLUSHING while stopped or flushing) and whether
  // upstream sent EOS: the chain thread returns the first, the task reads the second.
  std::atomic<GstFlowReturn> src_result{GST_FLOW_FLUSHING};
  std::atomic<bool> eos_received{false};
  // The chain thread decides, the task reports (internally locked); replaced on a flush.
  std::unique_ptr<ScoringBudget> budget;
  StatsTotals stats;
  // The longest scoring time so far (part of the latency we add) and what the last LATENCY
  // answer included, in nanoseconds; the scorer's callback writes, the query reads.
  std::atomic<gint64> worst_batch{0};
  std::atomic<gint64> reported_batch{0};

  // Set by a failed batch (on the scorer's thread); the src pad task turns it into an error.
  void set_scoring_error(const std::string& error) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    scoring_error_ = error;
  }
  std::string scoring_error() const {
    std::lock_guard<std::mutex> lock(error_mutex_);
    return scoring_error_;
  }

 private:
  mutable std::mutex error_mutex_;
  std::string scoring_error_;
};

// Everything an element instance owns besides its pads.
// The queue's limits with batch-size=0 (auto) replaced by the scorer's choice.
inline QueueLimits resolved_limits(QueueLimits limits, std::size_t auto_batch_size) {
  if (limits.batch_size == kAutoBatchSize) limits.batch_size = auto_batch_size > 0 ? auto_batch_size : 1;
  return limits;
}

struct State {
  Settings settings;  // under the object lock
  Models models;      // the state changes'
  Queue queue;        // the element's lifetime; internally locked
  // What batch-size=0 (auto) means with the scorer in use; set at READY->PAUSED.
  std::atomic<std::size_t> auto_batch_size{1};
  std::unique_ptr<SharedState> shared;  // from the first READY->PAUSED on
  std::unique_ptr<InputState> input;    // READY->PAUSED to PAUSED->READY
  std::unique_ptr<OutputState> output;  // READY->PAUSED to PAUSED->READY
  // This stream's connection to the scorer, from READY->PAUSED to PAUSED->READY. Declared last
  // so that it closes (no more callbacks into the queue and the shared state) before they go.
  std::unique_ptr<SharedScorer::Client> client;
};

}  // namespace faceqan::gst
