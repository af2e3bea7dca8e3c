#include "element_input.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <vector>

#include "face_meta.h"
#include "faceqan/face_detector.h"
#include "frame_faces.h"
#include "faceqan/stream/scoring_budget.h"

#define GST_CAT_DEFAULT gst_faceqan_debug

namespace faceqan::gst {
namespace {

// An event (a GAP for a dropped frame), queued to keep its place among the frames.
QueuedItem queued_event(GstEvent* event) {
  QueuedItem item;
  item.object.reset(GST_MINI_OBJECT_CAST(event));
  return item;
}

// The faces of one frame: the detector's (or the reused ones), or the upstream metas'.
std::vector<FaceRecord> find_faces(State& st, const Settings& s, GstBuffer* buffer,
                                   const cv::Mat& image, PixelFormat format) {
  if (s.faces.use_upstream_rois) return read_upstream_faces(buffer);
  DetectionReuse& reuse = st.input->stream->detections;
  const bool detect_now = reuse.frames_seen % s.faces.detection_interval == 0;
  if (detect_now) {
    RetinaFaceDetector& detector = *st.models.detector;
    const DetectorSettings& wanted = s.faces.detector;
    const DetectorSettings& current = detector.settings();
    if (wanted.confidence_threshold != current.confidence_threshold ||
        wanted.min_face_size != current.min_face_size || wanted.max_faces != current.max_faces) {
      detector.set_settings(wanted);
    }
    reuse.faces.clear();
    for (const DetectedFace& detected : detector.detect(image, format)) {
      reuse.faces.push_back(
          FaceRecord{detected.box, detected.confidence, detected.landmarks, std::nullopt});
    }
  }
  return reuse.faces;
}

// Gives each face its track id; tracks that ended are noted on the frame so that the task hands
// out their best frames once everything before has left.
void track_faces(State& st, const Settings& s, QueuedItem& item) {
  FaceTracker& tracker = st.input->stream->tracker;
  tracker.set_settings(s.faces.tracker);
  std::vector<TrackInput> inputs;
  inputs.reserve(item.faces.size());
  for (const FaceRecord& face : item.faces) inputs.push_back({face.box, face.landmarks});
  const std::vector<TrackId> ids = tracker.update(inputs, &item.ended_tracks);
  for (std::size_t i = 0; i < ids.size(); ++i) item.faces[i].track_id = ids[i];
  for (TrackId ended : item.ended_tracks) st.shared->budget->forget(ended);
}

// Aligns the frame's faces and picks those to score (all of them, or the budget's choice).
// Fills the item's per-face bookkeeping; returns the faces to queue.
std::vector<PendingFace> select_faces(State& st, const Settings& s, const cv::Mat& image,
                                      PixelFormat format, GstClockTime pts, QueuedItem& item) {
  const cv::Size crop_size = st.models.crop_size;
  ScoringBudget& budget_state = *st.shared->budget;
  std::vector<PendingFace> aligned = align_faces(image, format, item.faces, crop_size);
  const std::size_t count = item.faces.size();
  item.queued.assign(count, -1);
  item.promise.assign(count, 0.0);
  if (s.best.enabled) item.crops.resize(count);
  const bool budget = s.faces.scoring == Scoring::kBudget;
  if (budget) budget_state.set_settings(s.faces.budget);
  // The budget counts in stream seconds (frame timestamps), so that a file gives the same
  // choices however fast it is processed; frames without one fall back to the wall clock.
  static const Clock::time_point process_start = Clock::now();
  const double time = GST_CLOCK_TIME_IS_VALID(pts)
                          ? static_cast<double>(pts) / GST_SECOND
                          : std::chrono::duration<double>(Clock::now() - process_start).count();
  // The budget hears new tracks' faces first: they must not be starved by re-scorings.
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  if (budget) {
    std::stable_partition(order.begin(), order.end(), [&](std::size_t i) {
      return budget_state.is_new(item.faces[i].track_id);
    });
  }
  std::vector<PendingFace> chosen;
  for (const std::size_t i : order) {
    if (budget) {
      const CheapSignals signals = measure_face(aligned[i].pixels.data(), crop_size,
                                                item.faces[i].landmarks, item.faces[i].confidence);
      item.promise[i] = signals.promise;
      const bool score = budget_state.decide(item.faces[i].track_id, signals, time);
      GST_LOG("track %u at %.3f s: eyes %.1f px, sharpness %.0f, confidence %.2f, frontal %.2f,"
              " promise %.3f: %s", item.faces[i].track_id, time, signals.eye_distance,
              signals.sharpness, signals.confidence, signals.frontal, signals.promise,
              score ? "score" : "skip");
      if (!score) continue;
    }
    item.queued[i] = static_cast<int>(chosen.size());
    if (s.best.enabled) item.crops[i] = crop_to_bgr(aligned[i].pixels, crop_size);
    chosen.push_back(std::move(aligned[i]));
  }
  return chosen;
}

}  // namespace

GstFlowReturn process_frame(GstElement* element, State& st, const Settings& s,
                            GstBuffer* buffer) {
  SharedState& shared = *st.shared;
  InputState& input = *st.input;
  if (GstFlowReturn ret = shared.src_result; ret != GST_FLOW_OK) {
    gst_buffer_unref(buffer);
    return ret;
  }
  if (!input.have_info) {
    gst_buffer_unref(buffer);
    GST_ELEMENT_ERROR(element, CORE, NEGOTIATION, (nullptr), ("a buffer arrived before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  ++shared.stats.frames_in;

  const Admission admission = st.queue.admit_frame();
  if (admission == Admission::kFlushing) {
    gst_buffer_unref(buffer);
    const GstFlowReturn ret = shared.src_result;  // EOS or an error from downstream, if any
    return ret != GST_FLOW_OK ? ret : GST_FLOW_FLUSHING;
  }
  if (admission == Admission::kDrop) {
    GST_LOG_OBJECT(element, "queue full: dropping frame %" GST_TIME_FORMAT,
                   GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
    ++shared.stats.dropped;
    if (s.output.drop_gaps && GST_BUFFER_PTS_IS_VALID(buffer)) {
      GstEvent* gap = gst_event_new_gap(GST_BUFFER_PTS(buffer), GST_BUFFER_DURATION(buffer));
      st.queue.push_item(queued_event(gap));
    }
    gst_buffer_unref(buffer);
    ++input.stream->detections.frames_seen;
    return GST_FLOW_OK;
  }

  // Metas are added (and with draw=true pixels changed) later: own the buffer now.
  buffer = gst_buffer_make_writable(buffer);
  QueuedItem item;
  item.object.reset(GST_MINI_OBJECT_CAST(buffer));
  item.info = input.info;
  std::vector<PendingFace> aligned;
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &input.info, buffer, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(element, STREAM, FAILED, (nullptr), ("cannot map the video frame"));
    return GST_FLOW_ERROR;
  }
  try {
    PixelFormat format;
    const cv::Mat image = input.imager.view(frame, &format);
    item.faces = find_faces(st, s, buffer, image, format);
    track_faces(st, s, item);
    if (admission == Admission::kScore) {
      aligned = select_faces(st, s, image, format, GST_BUFFER_PTS(buffer), item);
    } else {
      item.scored = false;
      ++shared.stats.skipped;
    }
  } catch (const std::exception& e) {
    gst_video_frame_unmap(&frame);
    GST_ELEMENT_ERROR(element, STREAM, FAILED, ("Face detection failed"), ("%s", e.what()));
    return GST_FLOW_ERROR;
  }
  gst_video_frame_unmap(&frame);
  ++input.stream->detections.frames_seen;
  shared.stats.faces_detected += item.faces.size();

  if (!st.queue.push_frame(std::move(item), std::move(aligned))) {
    const GstFlowReturn ret = shared.src_result;
    return ret != GST_FLOW_OK ? ret : GST_FLOW_FLUSHING;
  }
  return shared.src_result;
}

}  // namespace faceqan::gst
