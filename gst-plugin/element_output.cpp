#include "element_output.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>

#include "face_drawing.h"
#include "face_meta.h"
#include "stream_events.h"

#define GST_CAT_DEFAULT gst_faceqan_debug

namespace faceqan::gst {
namespace {

// Posts a "faceqan-stats" message once stats-interval has passed since the last one (the final
// one at EOS regardless), and starts the next interval. The same structure goes downstream as a
// faceqan-stats event, in stream order, for faceqanpublish.
void post_stats(GstElement* element, GstPad* srcpad, State& st, const Settings& s,
                bool final_message) {
  StatsTotals& stats = st.shared->stats;
  StatsInterval& interval = st.output->interval;
  const Clock::time_point now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - interval.start).count();
  if (!final_message &&
      (s.output.stats_interval == 0 || seconds * 1000.0 < s.output.stats_interval)) {
    return;
  }
  auto rate = [seconds](guint64 count) { return seconds > 0 ? count / seconds : 0.0; };
  auto nanoseconds = [](Clock::duration d) {
    return static_cast<guint64>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  };
  const guint64 mean_latency =
      interval.frames > 0 ? nanoseconds(interval.latency_sum) / interval.frames : 0;
  GstStructure* structure = gst_structure_new(
      "faceqan-stats",
      "frames-in", G_TYPE_UINT64, stats.frames_in.load(),
      "frames-out", G_TYPE_UINT64, stats.frames_out.load(),
      "skipped", G_TYPE_UINT64, stats.skipped.load(),
      "dropped", G_TYPE_UINT64, stats.dropped.load(),
      "faces-detected", G_TYPE_UINT64, stats.faces_detected.load(),
      "faces-scored", G_TYPE_UINT64, stats.faces_scored.load(),
      "frames-per-second", G_TYPE_DOUBLE, rate(interval.frames),
      "faces-detected-per-second", G_TYPE_DOUBLE, rate(interval.detected),
      "faces-scored-per-second", G_TYPE_DOUBLE, rate(stats.interval_scored.exchange(0)),
      "queue-depth", G_TYPE_UINT, static_cast<guint>(st.queue.frames()),
      "latency", G_TYPE_UINT64, mean_latency,
      "max-latency", G_TYPE_UINT64, nanoseconds(interval.latency_max),
      "scorer-streams", G_TYPE_UINT, static_cast<guint>(st.models.scorer->clients()), nullptr);
  gst_pad_push_event(srcpad, make_stream_event(gst_structure_copy(structure)));
  gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), structure));
  interval = StatsInterval{now};
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
      result.embedding_norm = result.quality.embedding_norm;
      FaceQuality latest = result.quality;
      latest.embedding.clear();  // carried scores do not carry the embedding
      st.output->stream->latest_score[track] = std::move(latest);
      if (s.faces.scoring == Scoring::kBudget) {
        st.shared->budget->report(track, item.promise[i], result.quality.quality);
      }
    } else if (auto found = st.output->stream->latest_score.find(track); found != st.output->stream->latest_score.end()) {
      result.quality = found->second;
      result.has_quality = true;
    }
    if (result.has_quality && st.output->quality_scale) {
      result.quality_100 = st.output->quality_scale->to_100(result.quality.quality);
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
    candidate.embedding_norm = results[i].embedding_norm;
    candidate.timestamp = GST_BUFFER_PTS(buffer);
    candidate.box = face.box;
    candidate.frame_width = width;
    candidate.frame_height = height;
    candidate.landmarks = face.landmarks;
    candidate.crop = std::move(item.crops[i]);
    candidate.embedding = results[i].quality.embedding;
    const BestFrame offered = candidate;  // shares the crop's pixels
    const bool new_best = st.output->stream->best.offer(std::move(candidate));
    if (new_best) st.output->stream->track_events.improved(offered);
    GST_LOG("track %u: quality %.6f at %" GST_TIME_FORMAT "%s", face.track_id,
            results[i].quality.quality, GST_TIME_ARGS(GST_BUFFER_PTS(buffer)),
            new_best ? ": its best so far" : "");
    if (!new_best || !s.best.save_frame || s.best.location.empty()) continue;
    if (whole_frame.empty()) {
      GstVideoFrame frame;
      if (!gst_video_frame_map(&frame, &item.info, buffer, GST_MAP_READ)) {
        GST_WARNING("cannot map the frame of track %u's best face", face.track_id);
        continue;
      }
      try {
        faceqan::PixelFormat format;
        const cv::Mat image = st.output->best_imager.view(frame, &format);  // sets format: call it first
        whole_frame = bgr_copy(image, format);
      } catch (...) {
        gst_video_frame_unmap(&frame);
        throw;
      }
      gst_video_frame_unmap(&frame);
    }
    st.output->stream->best.set_frame(face.track_id, whole_frame);  // shared, never written: no copy needed
  }
}

// Publishes a frame's results; returns false if mode=drop rejects it.
bool finish_frame(GstElement* element, State& st, const Settings& s, Queue::Finished& finished,
                  GstBuffer* buffer) {
  QueuedItem& item = finished.payload;
  const std::vector<FaceResult> results = face_results(st, s, item, finished.results);
  // Before drawing: the saved frames are the video's own pixels.
  if (s.best.enabled) {
    // A track's first face announces it ("new"), before its first best ("update").
    TrackEventLog& events = st.output->stream->track_events;
    events.set_with_embedding(s.output.attach_embedding);
    for (std::size_t i = 0; i < item.faces.size(); ++i) {
      events.saw(item.faces[i], results[i], GST_VIDEO_INFO_WIDTH(&item.info),
                 GST_VIDEO_INFO_HEIGHT(&item.info), GST_BUFFER_PTS(buffer));
    }
    if (GST_BUFFER_PTS_IS_VALID(buffer)) {
      for (const FaceRecord& face : item.faces) {
        st.output->stream->track_spans[face.track_id].extend(GST_BUFFER_PTS(buffer));
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
    st.output->json.write_frame(GST_BUFFER_PTS(buffer), GST_VIDEO_INFO_WIDTH(&item.info),
                        GST_VIDEO_INFO_HEIGHT(&item.info), item.faces, results);
  } catch (const std::exception& e) {
    GST_ELEMENT_WARNING(element, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
  }
  attach_face_metas(buffer, item.info, item.faces, results, s.output.attach_embedding,
                    st.output->model_name);
  if (s.output.draw && !item.faces.empty()) {
    GstVideoFrame frame;
    GstVideoInfo info = item.info;
    if (gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE)) {
      draw_faces(&frame, item.faces, results, s.output.quality_threshold);
      gst_video_frame_unmap(&frame);
    }
  }
  if (s.output.message) {
    GstStructure* structure =
        frame_message_structure(buffer, item.info, st.output->stream->segment, item.faces, results);
    gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), structure));
  }
  // Every face of an ended track has left by now: its best frame is final.
  if (s.best.enabled) {
    emit_best_frames(element, st, s, st.output->stream->best.end_tracks(item.ended_tracks),
                     "lost");
    // Ended tracks never scored end too, without a quality.
    for (TrackId ended : item.ended_tracks) {
      st.output->stream->track_events.ended(ended, nullptr, "lost");
    }
    if (s.best.interval > 0 && GST_BUFFER_PTS_IS_VALID(buffer)) {
      emit_best_frames(element, st, s,
                       st.output->stream->best.take_due(static_cast<double>(GST_BUFFER_PTS(buffer)) / GST_SECOND,
                                        s.best.interval));
    }
  }
  for (TrackId ended : item.ended_tracks) {
    st.output->stream->latest_score.erase(ended);
    st.output->stream->track_spans.erase(ended);
  }

  if (s.output.mode != Mode::kDrop) return true;
  return std::any_of(results.begin(), results.end(), [&s](const FaceResult& r) {
    return r.has_quality && r.quality.quality >= s.output.quality_threshold;
  });
}

}  // namespace

void emit_best_frames(GstElement* element, State& st, const Settings& s,
                      std::vector<BestFrame> bests, const char* end_reason) {
  st.output->persons.set_min_similarity(s.best.same_person);
  st.output->persons.set_min_quality(s.output.quality_threshold);
  for (BestFrame& best : bests) {
    const auto span = st.output->stream->track_spans.find(best.track);
    const PersonAssignment assignment =
        st.output->persons.assign(best.track, best.embedding, best.quality,
                          span != st.output->stream->track_spans.end() ? span->second : TrackSpan{});
    best.person = assignment.person;
    best.person_best = assignment.person_best;
    // A person's earlier, better crop stays where it is.
    if (!s.best.location.empty() && best.person_best) {
      try {
        save_best_frame(&best, s.best.location, s.best.save_frame);
      } catch (const std::exception& e) {
        // A full disk should not stop the video: warn, and still post the message.
        GST_ELEMENT_WARNING(element, RESOURCE, WRITE, ("Cannot save a best frame: %s", e.what()),
                            (nullptr));
      }
    }
    gst_element_post_message(
        element, gst_message_new_element(GST_OBJECT(element), best_message_structure(best)));
    // With its person now known: the track's end event carries the same best as the message.
    if (end_reason != nullptr) st.output->stream->track_events.ended(best.track, &best, end_reason);
    try {
      st.output->json.write_best(best);
    } catch (const std::exception& e) {
      GST_ELEMENT_WARNING(element, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
    }
  }
}

void emit_all_best_frames(GstElement* element, State& st, const Settings& s,
                          const char* end_reason) {
  emit_best_frames(element, st, s, st.output->stream->best.take_all(), end_reason);
  st.output->stream->track_events.end_all({}, end_reason);  // the tracks never scored
  // Every track has now been handed out, and the tracker starts anew.
  st.output->stream->track_spans.clear();
}

namespace {

// The track events gathered while finishing, downstream in the order they happened.
void push_track_events(GstPad* srcpad, OutputState& out) {
  for (GstEvent* event : out.stream->track_events.take()) gst_pad_push_event(srcpad, event);
}

// Publishes a finished item and pushes it: a frame with its results (or, when mode=drop
// rejects it, a GAP with drop-gaps or nothing), an event as it is. Returns the flow return to
// act on (GST_FLOW_EOS after EOS).
GstFlowReturn push_finished(GstElement* element, GstPad* srcpad, State& st, const Settings& s,
                            Queue::Finished& finished) {
  GstMiniObject* object = finished.payload.object.release();
  OutputState& out = *st.output;

  if (GST_IS_EVENT(object)) {
    GstEvent* event = GST_EVENT_CAST(object);
    if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
      gst_event_copy_segment(event, &out.stream->segment);
    }
    const bool eos = GST_EVENT_TYPE(event) == GST_EVENT_EOS;
    if (GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_DOWNSTREAM) {
      const GstStructure* structure = gst_event_get_structure(event);
      const char* reason = structure && gst_structure_has_name(structure, kEndReasonEvent)
                               ? gst_structure_get_string(structure, "reason")
                               : nullptr;
      if (reason) out.stream->end_reason = reason;
    }
    // Every frame has left: the open tracks' best frames are final.
    if (eos && s.best.enabled) emit_all_best_frames(element, st, s, out.stream->end_reason.c_str());
    push_track_events(srcpad, out);
    if (eos && s.output.stats_interval > 0) post_stats(element, srcpad, st, s, true);
    const bool stream_start = GST_EVENT_TYPE(event) == GST_EVENT_STREAM_START;
    gst_pad_push_event(srcpad, event);
    // The camera's name for everything after (sticky: a consumer linked later gets it too).
    if (stream_start) gst_pad_push_event(srcpad, make_camera_event(out.camera_id));
    return eos ? GST_FLOW_EOS : GST_FLOW_OK;
  }

  GstBuffer* buffer = GST_BUFFER_CAST(object);
  const Clock::duration waited = Clock::now() - finished.arrival;
  StatsInterval& interval = out.interval;
  interval.latency_sum += waited;
  interval.latency_max = std::max(interval.latency_max, waited);
  ++interval.frames;
  interval.detected += finished.payload.faces.size();

  StatsTotals& stats = st.shared->stats;
  GstFlowReturn ret = GST_FLOW_OK;
  const bool keep = finish_frame(element, st, s, finished, buffer);
  push_track_events(srcpad, out);  // just before the frame (or its GAP) they belong to
  if (keep) {
    ++stats.frames_out;
    ret = gst_pad_push(srcpad, buffer);
  } else {
    GST_LOG_OBJECT(element, "mode=drop: no good face at %" GST_TIME_FORMAT,
                   GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
    ++stats.dropped;
    if (s.output.drop_gaps && GST_BUFFER_PTS_IS_VALID(buffer)) {
      gst_pad_push_event(srcpad,
                         gst_event_new_gap(GST_BUFFER_PTS(buffer), GST_BUFFER_DURATION(buffer)));
    }
    gst_buffer_unref(buffer);
  }
  post_stats(element, srcpad, st, s, false);
  return ret;
}

// Hands a batch of this stream's faces to the (shared) scorer. The results come back on the
// scorer's thread into the queue, where this task finds the frames finished.
void submit_batch(GstElement* element, State& st, const Settings& s, Queue::Batch& batch) {
  Queue::Batch owners;  // what complete() needs; the pixels go to the scorer
  owners.generation = batch.generation;
  owners.owners = std::move(batch.owners);
  const std::size_t count = batch.faces.size();
  st.client->set_batch_size(resolved_limits(s.queue, st.auto_batch_size.load()).batch_size);
  // The client closes (no more calls of this) before the queue and the shared state go.
  auto done = [element, &st, owners = std::move(owners), count](SharedScorer::Outcome outcome) {
    SharedState& shared = *st.shared;
    if (!outcome.error.empty()) {
      // Stops the task (next() returns kStop), which reports the error.
      shared.set_scoring_error(outcome.error);
      st.queue.set_flushing(true);
      return;
    }
    GST_DEBUG_OBJECT(element, "scored %zu faces (batch took %.3f s)", count,
                     std::chrono::duration<double>(outcome.took).count());
    shared.stats.faces_scored += count;
    shared.stats.interval_scored += count;
    // The budget admits no more than the scorer can finish soon (scoring_budget.h).
    shared.budget->observe_scoring(count, std::chrono::duration<double>(outcome.took).count());
    // Scoring time is part of the delay we add (the task posts a LATENCY message if it grows).
    const gint64 took_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(outcome.took).count();
    gint64 worst = shared.worst_batch;
    while (took_ns > worst && !shared.worst_batch.compare_exchange_weak(worst, took_ns)) {
    }
    st.queue.complete(owners, std::move(outcome.results));
  };
  if (!st.client->submit(std::move(batch.faces), std::move(done))) {
    GST_DEBUG_OBJECT(element, "scorer connection closed: batch dropped");
  }
}

// Tells the pipeline when the scoring time (part of the latency we add) grew noticeably.
void maybe_post_latency(GstElement* element, State& st) {
  const gint64 worst = st.shared->worst_batch;
  const gint64 reported = st.shared->reported_batch;
  gint64& posted = st.output->latency_posted;
  if (worst == posted) return;
  if (worst > reported + reported / 4 + 5 * GST_MSECOND) {
    posted = worst;
    gst_element_post_message(element, gst_message_new_latency(GST_OBJECT(element)));
  }
}

}  // namespace

void run_output_task(GstElement* element, GstPad* srcpad, State& st, const Settings& s) {
  SharedState& shared = *st.shared;
  Queue::Work work = st.queue.next();
  GstFlowReturn ret = GST_FLOW_OK;
  switch (work.kind) {
    case Queue::Work::Kind::kStop:
      ret = GST_FLOW_FLUSHING;
      if (const std::string error = shared.scoring_error(); !error.empty()) {
        GST_ELEMENT_ERROR(element, STREAM, FAILED, ("FaceQAN scoring failed"),
                          ("%s", error.c_str()));
        ret = GST_FLOW_ERROR;
      }
      break;
    case Queue::Work::Kind::kScore:
      submit_batch(element, st, s, work.batch);
      break;
    case Queue::Work::Kind::kPush:
      ret = push_finished(element, srcpad, st, s, *work.finished);
      break;
  }
  maybe_post_latency(element, st);
  if (ret == GST_FLOW_OK) return;

  GST_DEBUG_OBJECT(element, "pausing task: %s", gst_flow_get_name(ret));
  shared.src_result = ret;
  // Nothing queued can leave any more: wake a chain() blocked on the full queue (it returns
  // src_result) and a draining query, until a flush or a restart.
  st.queue.set_flushing(true);
  st.client->cancel();  // our faces still waiting in the scorer are not wanted
  gst_pad_pause_task(srcpad);
  // As queue does: once upstream has sent EOS nobody else will see a fatal flow return.
  if (ret != GST_FLOW_EOS && ret != GST_FLOW_FLUSHING && shared.eos_received) {
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
      GST_ELEMENT_FLOW_ERROR(element, ret);
      gst_pad_push_event(srcpad, gst_event_new_eos());
    }
  }
}

}  // namespace faceqan::gst
