// What one faceqan element holds besides its pads (State), shared by the element
// (gstfaceqan.cpp: streaming thread, state changes, the src pad's task) and the finishing of
// frames on that task (element_output.cpp). Private to the element.
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

#include "best_frames.h"
#include "element_models.h"
#include "element_settings.h"
#include "faceqan/quality.h"
#include "faceqan/quality_scale.h"
#include "frame_faces.h"
#include "json_export.h"
#include "person_gallery.h"
#include "scoring_budget.h"
#include "scoring_queue.h"
#include "shared_scorer.h"
#include "tracker.h"

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

// Counters for the "faceqan-stats" message. Totals are atomics (both threads count); the
// interval's latency figures are the worker's alone.
struct Stats {
  std::atomic<guint64> frames_in{0}, frames_out{0}, skipped{0}, dropped{0};
  std::atomic<guint64> faces_detected{0}, faces_scored{0};
  // Worker only:
  Clock::time_point interval_start = Clock::now();
  guint64 interval_frames = 0, interval_detected = 0;
  std::atomic<guint64> interval_scored{0};  // counted where results arrive (the scorer's thread)
  Clock::duration latency_sum{}, latency_max{};

  void reset() {
    frames_in = frames_out = skipped = dropped = faces_detected = faces_scored = 0;
    interval_start = Clock::now();
    interval_frames = interval_detected = interval_scored = 0;
    latency_sum = latency_max = {};
  }
};

// Everything an element instance owns besides its pads.
struct State {
  Settings settings;  // under the object lock
  Models models;
  Queue queue;
  // This stream's connection to the scorer, from READY->PAUSED to PAUSED->READY. Declared after
  // the queue so that it closes (no more callbacks into the queue) before the queue goes.
  std::unique_ptr<SharedScorer::Client> client;
  // Set by a failed batch (on the scorer's thread); the src pad task turns it into an error.
  std::mutex scoring_error_mutex;
  std::string scoring_error;
  std::atomic<GstFlowReturn> src_result{GST_FLOW_FLUSHING};
  std::atomic<bool> eos_received{false};

  // Streaming thread only.
  GstVideoInfo info{};
  bool have_info = false;
  FrameImager imager;
  std::vector<FaceRecord> last_detections;
  guint64 frames_seen = 0;
  FaceTracker tracker;

  // Both threads (internally locked): the streaming thread decides, the worker reports.
  ScoringBudget budget;

  // Worker only (and the state change once the worker has stopped).
  std::map<TrackId, FaceQuality> latest_score;  // per live track
  BestFrameSelector best;
  PersonGallery persons;  // best-same-person: tracks joined into persons
  std::map<TrackId, TrackSpan> track_spans;  // with best-frames: when each live track was seen
  JsonLinesExport json;
  FrameImager best_imager;
  std::optional<QualityScale> quality_scale;  // from calibration, read at start

  // Worker only.
  GstSegment segment{};
  // The longest scoring time so far (part of the latency we add) and what the last LATENCY
  // answer included, in nanoseconds; the worker writes, the query reads.
  std::atomic<gint64> worst_batch{0};
  std::atomic<gint64> reported_batch{0};
  gint64 latency_posted = 0;  // worker only: the worst_batch a LATENCY message was posted for
  Stats stats;
};

}  // namespace faceqan::gst
