#include "element_output.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "face_drawing.h"
#include "face_meta.h"

#define GST_CAT_DEFAULT gst_faceqan_debug

namespace faceqan::gst {
namespace {

// Posts a "faceqan-stats" message once stats-interval has passed since the last one (the final
// one at EOS regardless), and starts the next interval.
void post_stats(GstElement* element, State& st, const Settings& s, bool final_message) {
  Stats& stats = st.stats;
  const Clock::time_point now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - stats.interval_start).count();
  if (!final_message && (s.stats_interval == 0 || seconds * 1000.0 < s.stats_interval)) return;
  auto rate = [seconds](guint64 count) { return seconds > 0 ? count / seconds : 0.0; };
  auto nanoseconds = [](Clock::duration d) {
    return static_cast<guint64>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  };
  const guint64 mean_latency =
      stats.interval_frames > 0 ? nanoseconds(stats.latency_sum) / stats.interval_frames : 0;
  GstStructure* structure = gst_structure_new(
      "faceqan-stats",
      "frames-in", G_TYPE_UINT64, stats.frames_in.load(),
      "frames-out", G_TYPE_UINT64, stats.frames_out.load(),
      "skipped", G_TYPE_UINT64, stats.skipped.load(),
      "dropped", G_TYPE_UINT64, stats.dropped.load(),
      "faces-detected", G_TYPE_UINT64, stats.faces_detected.load(),
      "faces-scored", G_TYPE_UINT64, stats.faces_scored.load(),
      "frames-per-second", G_TYPE_DOUBLE, rate(stats.interval_frames),
      "faces-detected-per-second", G_TYPE_DOUBLE, rate(stats.interval_detected),
      "faces-scored-per-second", G_TYPE_DOUBLE, rate(stats.interval_scored.exchange(0)),
      "queue-depth", G_TYPE_UINT, static_cast<guint>(st.queue.frames()),
      "latency", G_TYPE_UINT64, mean_latency,
      "max-latency", G_TYPE_UINT64, nanoseconds(stats.latency_max),
      "scorer-streams", G_TYPE_UINT, static_cast<guint>(st.models.scorer->clients()), nullptr);
  gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), structure));
  stats.interval_start = now;
  stats.interval_frames = stats.interval_detected = 0;
  stats.latency_sum = stats.latency_max = {};
}

// Each face's published result: its score, or its track's latest one (scored=false). Scores
// also go back to the budget and become their track's latest.
std::vector<FaceResult> face_results(State& st, const Settings& s, const QueuedItem& item,
                                     std::vector<FaceQuality>& scores) {
  std::vector<FaceResult> results(item.faces.size());
  for (std::size_t i = 0; i < item.faces.size(); ++i) {
    const TrackId track = item.faces[i].track_id;
    // Frames queued before this change (or skipped ones) have no per-face bookkeeping: a frame
    // admitted with overload=skip has no scores at all.
    const int index = item.scored && i < item.queued.size() ? item.queued[i] : -1;
    FaceResult& result = results[i];
    if (index >= 0 && static_cast<std::size_t>(index) < scores.size()) {
      result.quality = std::move(scores[index]);
      result.scored = result.has_quality = true;
      FaceQuality latest = result.quality;
      latest.embedding.clear();  // carried scores do not carry the embedding
      st.latest_score[track] = std::move(latest);
      if (s.scoring == Scoring::kBudget) {
        st.budget.report(track, item.promise[i], result.quality.quality);
      }
    } else if (auto found = st.latest_score.find(track); found != st.latest_score.end()) {
      result.quality = found->second;
      result.has_quality = true;
    }
    if (result.has_quality && st.quality_scale) {
      result.quality_100 = st.quality_scale->to_100(result.quality.quality);
    }
  }
  return results;
}

// Offers the frame's scored faces to the best-frame selector; a face that becomes its track's
// best takes a copy of its crop and, with best-save-frame, of the whole frame.
void offer_best_frames(State& st, const Settings& s, QueuedItem& item,
                       const std::vector<FaceResult>& results, GstBuffer* buffer) {
  const int width = GST_VIDEO_INFO_WIDTH(&item.info), height = GST_VIDEO_INFO_HEIGHT(&item.info);
  cv::Mat whole_frame;  // converted once per frame, only if a face needs it
  for (std::size_t i = 0; i < item.faces.size(); ++i) {
    if (!results[i].scored || i >= item.crops.size() || item.crops[i].empty()) continue;
    const FaceRecord& face = item.faces[i];
    BestFrame candidate;
    candidate.track = face.track_id;
    candidate.quality = results[i].quality.quality;
    candidate.quality_100 = results[i].quality_100;
    candidate.timestamp = GST_BUFFER_PTS(buffer);
    candidate.box = face.box;
    candidate.frame_width = width;
    candidate.frame_height = height;
    candidate.landmarks = face.landmarks;
    candidate.crop = std::move(item.crops[i]);
    candidate.embedding = results[i].quality.embedding;
    const bool new_best = st.best.offer(std::move(candidate));
    GST_LOG("track %u: quality %.6f at %" GST_TIME_FORMAT "%s", face.track_id,
            results[i].quality.quality, GST_TIME_ARGS(GST_BUFFER_PTS(buffer)),
            new_best ? ": its best so far" : "");
    if (!new_best || !s.best_save_frame || s.best_location.empty()) continue;
    if (whole_frame.empty()) {
      GstVideoFrame frame;
      if (!gst_video_frame_map(&frame, &item.info, buffer, GST_MAP_READ)) {
        GST_WARNING("cannot map the frame of track %u's best face", face.track_id);
        continue;
      }
      try {
        faceqan::PixelFormat format;
        const cv::Mat image = st.best_imager.view(frame, &format);  // sets format: call it first
        whole_frame = bgr_copy(image, format);
      } catch (...) {
        gst_video_frame_unmap(&frame);
        throw;
      }
      gst_video_frame_unmap(&frame);
    }
    st.best.set_frame(face.track_id, whole_frame);  // shared, never written: no copy needed
  }
}

// Publishes a frame's results; returns false if mode=drop rejects it.
bool finish_frame(GstElement* element, State& st, const Settings& s, Queue::Finished& finished,
                  GstBuffer* buffer) {
  QueuedItem& item = finished.payload;
  const std::vector<FaceResult> results = face_results(st, s, item, finished.results);
  // Before drawing: the saved frames are the video's own pixels.
  if (s.best_frames) {
    if (GST_BUFFER_PTS_IS_VALID(buffer)) {
      for (const FaceRecord& face : item.faces) {
        st.track_spans[face.track_id].extend(GST_BUFFER_PTS(buffer));
      }
    }
    try {
      offer_best_frames(st, s, item, results, buffer);
    } catch (const std::exception& e) {
      GST_ELEMENT_WARNING(element, STREAM, FAILED, ("Cannot keep a best frame: %s", e.what()),
                          (nullptr));
    }
  }
  try {
    st.json.write_frame(GST_BUFFER_PTS(buffer), GST_VIDEO_INFO_WIDTH(&item.info),
                        GST_VIDEO_INFO_HEIGHT(&item.info), item.faces, results);
  } catch (const std::exception& e) {
    GST_ELEMENT_WARNING(element, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
  }
  attach_face_metas(buffer, item.info, item.faces, results, s.attach_embedding);
  if (s.draw && !item.faces.empty()) {
    GstVideoFrame frame;
    GstVideoInfo info = item.info;
    if (gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE)) {
      draw_faces(&frame, item.faces, results, s.quality_threshold);
      gst_video_frame_unmap(&frame);
    }
  }
  if (s.message) {
    GstStructure* structure =
        frame_message_structure(buffer, item.info, st.segment, item.faces, results);
    gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), structure));
  }
  // Every face of an ended track has left by now: its best frame is final.
  if (s.best_frames) {
    emit_best_frames(element, st, s, st.best.end_tracks(item.ended_tracks));
    if (s.best_interval > 0 && GST_BUFFER_PTS_IS_VALID(buffer)) {
      emit_best_frames(element, st, s,
                       st.best.take_due(static_cast<double>(GST_BUFFER_PTS(buffer)) / GST_SECOND,
                                        s.best_interval));
    }
  }
  for (TrackId ended : item.ended_tracks) {
    st.latest_score.erase(ended);
    st.track_spans.erase(ended);
  }

  if (s.mode != Mode::kDrop) return true;
  return std::any_of(results.begin(), results.end(), [&s](const FaceResult& r) {
    return r.has_quality && r.quality.quality >= s.quality_threshold;
  });
}

}  // namespace

void emit_best_frames(GstElement* element, State& st, const Settings& s,
                      std::vector<BestFrame> bests) {
  st.persons.set_min_similarity(s.best_same_person);
  st.persons.set_min_quality(s.quality_threshold);
  for (BestFrame& best : bests) {
    const auto span = st.track_spans.find(best.track);
    const PersonAssignment assignment =
        st.persons.assign(best.track, best.embedding, best.quality,
                          span != st.track_spans.end() ? span->second : TrackSpan{});
    best.person = assignment.person;
    best.person_best = assignment.person_best;
    // A person's earlier, better crop stays where it is.
    if (!s.best_location.empty() && best.person_best) {
      try {
        save_best_frame(&best, s.best_location, s.best_save_frame);
      } catch (const std::exception& e) {
        // A full disk should not stop the video: warn, and still post the message.
        GST_ELEMENT_WARNING(element, RESOURCE, WRITE, ("Cannot save a best frame: %s", e.what()),
                            (nullptr));
      }
    }
    gst_element_post_message(
        element, gst_message_new_element(GST_OBJECT(element), best_message_structure(best)));
    try {
      st.json.write_best(best);
    } catch (const std::exception& e) {
      GST_ELEMENT_WARNING(element, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
    }
  }
}

void emit_all_best_frames(GstElement* element, State& st, const Settings& s) {
  emit_best_frames(element, st, s, st.best.take_all());
  st.track_spans.clear();  // every track has now been handed out, and the tracker starts anew
}

GstFlowReturn push_finished(GstElement* element, GstPad* srcpad, State& st, const Settings& s,
                            Queue::Finished& finished) {
  GstMiniObject* object = finished.payload.object.release();

  if (GST_IS_EVENT(object)) {
    GstEvent* event = GST_EVENT_CAST(object);
    if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) gst_event_copy_segment(event, &st.segment);
    const bool eos = GST_EVENT_TYPE(event) == GST_EVENT_EOS;
    // Every frame has left: the open tracks' best frames are final.
    if (eos && s.best_frames) emit_all_best_frames(element, st, s);
    if (eos && s.stats_interval > 0) post_stats(element, st, s, true);
    gst_pad_push_event(srcpad, event);
    return eos ? GST_FLOW_EOS : GST_FLOW_OK;
  }

  GstBuffer* buffer = GST_BUFFER_CAST(object);
  const Clock::duration waited = Clock::now() - finished.arrival;
  Stats& stats = st.stats;
  stats.latency_sum += waited;
  stats.latency_max = std::max(stats.latency_max, waited);
  ++stats.interval_frames;
  stats.interval_detected += finished.payload.faces.size();

  GstFlowReturn ret = GST_FLOW_OK;
  if (finish_frame(element, st, s, finished, buffer)) {
    ++stats.frames_out;
    ret = gst_pad_push(srcpad, buffer);
  } else {
    GST_LOG_OBJECT(element, "mode=drop: no good face at %" GST_TIME_FORMAT,
                   GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
    ++stats.dropped;
    if (s.drop_gaps && GST_BUFFER_PTS_IS_VALID(buffer)) {
      gst_pad_push_event(srcpad,
                         gst_event_new_gap(GST_BUFFER_PTS(buffer), GST_BUFFER_DURATION(buffer)));
    }
    gst_buffer_unref(buffer);
  }
  post_stats(element, st, s, false);
  return ret;
}

}  // namespace faceqan::gst
