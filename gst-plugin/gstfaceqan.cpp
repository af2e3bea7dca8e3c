/**
 * SECTION:element-faceqan
 * @title: faceqan
 *
 * Finds the faces in each video frame and rates each face's quality for face recognition with
 * FaceQAN (Babnik, Peer, Struc, ICPR 2022): how little adversarial noise moves the face's
 * embedding in a recognition network. Scores are in [0, 1]; higher is better.
 *
 * Faces come from a RetinaFace detector (every frame, or every detection-interval-th frame with
 * the boxes reused in between), or, with use-upstream-rois, from "face" region-of-interest metas
 * that another element put on the buffer. Each face is aligned to the ArcFace template and
 * scored on a worker thread that batches the faces of consecutive frames (up to batch-size
 * faces, or what is waiting once a face has waited max-latency milliseconds). Frames leave in
 * their original order with their original timestamps once their faces are scored; the delay is
 * reported in the LATENCY query.
 *
 * The models are loaded at READY->PAUSED: a missing file, or one that is not a model, fails that
 * state change with an error naming the file. Loaded models are kept per process for reuse (up to
 * 8 idle detectors and 8 idle recognition models): the next start with the same files gets them
 * without reading the files again, while a file rewritten or replaced in between (another size,
 * inode or modification time) is read anew.
 *
 * Several faceqan elements in one process (one per camera) share one recognition model and
 * scoring thread when they agree on recognizer-model, device, threads, epsilon, iterations,
 * samples, exponent, seed and precision (shared-scorer=true, the default): faces from all streams are
 * batched together, taken round-robin one face per stream so that no stream starves another,
 * and each element still releases its own frames in order. shared-scorer=false gives an element
 * its own model and thread.
 *
 * Each face gets a #GstVideoRegionOfInterestMeta of type "face" with two parameter structures:
 * "detection" (x_min, y_min, x_max, y_max normalised to [0, 1], confidence, label_id, label: the
 * layout DL Streamer's elements read) and "faceqan" (quality, mean-similarity, std-similarity,
 * symmetry, scored, track-id, landmarks, and with attach-embedding the embedding). docs/METADATA.md
 * describes every field.
 *
 * With message=true the element posts an element message named "faceqan" for every frame
 * that leaves it:
 *
 * * #GstClockTime `timestamp`: the frame's presentation timestamp.
 * * #GstClockTime `stream-time`: the stream time of the frame.
 * * #GstClockTime `running-time`: the running time of the frame.
 * * #GstClockTime `duration`: the duration of the frame.
 * * #GstValueList of #GstStructure named "face" `faces`: per face #guint `x`, `y`, `width`,
 *   `height` (the box in whole pixels, clipped to the frame as the region meta's), #gdouble
 *   `confidence` (the detector's), #gdouble `quality` (when not scored: the track's latest score,
 *   or 0), #gboolean `scored` (false when the budget spared the face, or the frame passed
 *   unscored because the queue was full with overload=skip), #guint `track-id`, and with
 *   calibration #gdouble `quality-100`.
 *
 * With stats-interval > 0 it posts "faceqan-stats" messages every stats-interval milliseconds
 * while frames flow, and a last one at EOS: #guint64 `frames-in`, `frames-out`, `skipped`,
 * `dropped`, `faces-detected`, `faces-scored` (totals), #gdouble `frames-per-second`,
 * `faces-detected-per-second`, `faces-scored-per-second` (over the interval), #guint
 * `queue-depth` (frames held now), #GstClockTime `latency` and `max-latency` (mean and
 * largest time a frame spent in the element during the interval), #guint `scorer-streams`
 * (elements sharing this element's scorer now, itself included).
 *
 * Faces are followed across frames (tracker.h): each gets a stable `track-id`, in the metadata,
 * the messages and the JSON export. With scoring=budget (the default) only the faces that can
 * change a track's best score get a FaceQAN pass: a track's first usable face, then faces whose
 * cheap signals (inter-eye distance, sharpness, detector confidence, pose) promise to beat the
 * track's best, at most once per budget-min-interval per track and budget-max-rate per second
 * overall. The other faces carry their track's latest score with scored=false. scoring=every-face
 * scores every face.
 *
 * With best-frames=true the element keeps, per track, the frame and aligned crop with the best
 * quality, and posts a "faceqan-best" element message when the track ends, at EOS (or when the
 * element stops), and every best-interval seconds for a long track whose best improved:
 *
 * * #guint `track-id`, #guint `person-id` and #gboolean `person-best` (see best-same-person),
 *   #gdouble `quality`, #GstClockTime `timestamp` (of the chosen frame),
 *   #guint `x`, `y`, `width`, `height` (the box in pixels, clipped to the frame),
 *   #GstValueArray `landmarks` (10 doubles), #gchararray `crop-location` and `frame-location`
 *   (the files written, "" if none).
 *
 * With calibration set to a file written by `faceqan eval --calibration` (for the recognition
 * model in use), every quality also gets a #gdouble `quality-100` in the metadata, the messages
 * and the JSON export: its percentile rank (0-100, monotone) among the calibration images, so
 * that "quality-100 >= 20" means "better than the worst fifth of the calibration set" whatever
 * the raw score range of the model (docs/EVALUATION.md).
 *
 * best-location (e.g. enroll/person-%05u.png: one integer conversion for the person id) saves
 * the crop, best-save-frame the whole frame beside it. A track is one continuous appearance and,
 * by default, a person of its own; with best-same-person the tracks of a person who leaves and
 * comes back (or is lost at a cut) are joined by their faces' embeddings into one person-id, and
 * one crop per person is kept. json-location writes a JSON-lines file in the layout of
 * gvametaconvert (docs/METADATA.md).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     faceqan iterations=2 samples=4 draw=true message=true ! videoconvert ! autovideosink
 * ]| Shows the video with each face's box, landmarks and quality, and prints the per-frame
 * messages.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! faceqan mode=drop overload=skip ! videoconvert ! \
 *     jpegenc ! multifilesink location=face-%05d.jpg
 * ]| Keeps only the camera frames that show a face of good quality.
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     faceqan best-frames=true best-same-person=0.6 best-location=enroll/person-%05u.png ! \
 *     fakesink
 * ]| Writes the best aligned crop of each person in the video.
 */

#include "gstfaceqan.h"

#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "element_models.h"
#include "element_output.h"
#include "element_settings.h"
#include "element_state.h"
#include "face_meta.h"
#include "faceqan/face_detector.h"
#include "faceqan/model_paths.h"
#include "faceqan/quality.h"
#include "faceqan/quality_scale.h"
#include "frame_faces.h"
#include "location_pattern.h"
#include "scoring_budget.h"
#include "scoring_queue.h"
#include "shared_scorer.h"
#include "tracker.h"

// The one category of the element's parts (declared in element_state.h).
GST_DEBUG_CATEGORY(gst_faceqan_debug);
#define GST_CAT_DEFAULT gst_faceqan_debug

namespace {

using faceqan::gst::Admission;
using faceqan::gst::Clock;
using faceqan::gst::FaceRecord;
using faceqan::gst::ModelFiles;
using faceqan::gst::Models;
using faceqan::gst::PendingFace;
using faceqan::gst::Queue;
using faceqan::gst::QueuedItem;
using faceqan::gst::Scoring;
using faceqan::gst::Settings;
using faceqan::gst::SharedScorer;
using faceqan::gst::State;
using faceqan::gst::TrackId;
// The element's parts (element_settings.h, element_models.h, element_output.h).
using faceqan::gst::detector_pool;
using faceqan::gst::emit_all_best_frames;
using faceqan::gst::install_properties;
using faceqan::gst::load_models;
using faceqan::gst::push_finished;
using faceqan::gst::recognizer_pool;
using faceqan::gst::resolve_model_files;

// An event (or a GAP for a dropped frame), queued to keep its place among the frames.
QueuedItem queued_event(GstEvent* event) {
  QueuedItem item;
  item.object.reset(GST_MINI_OBJECT_CAST(event));
  return item;
}

}  // namespace

struct _GstFaceQan {
  GstElement parent;
  GstPad* sinkpad;
  GstPad* srcpad;
  State* state;  // C++ state; created in init, destroyed in finalize
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(FACEQAN_VIDEO_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(FACEQAN_VIDEO_FORMATS)));

static void gst_faceqan_set_property(GObject* object, guint prop_id, const GValue* value,
                                     GParamSpec* pspec);
static void gst_faceqan_get_property(GObject* object, guint prop_id, GValue* value,
                                     GParamSpec* pspec);
static void gst_faceqan_finalize(GObject* object);
static GstStateChangeReturn gst_faceqan_change_state(GstElement* element,
                                                     GstStateChange transition);
static GstFlowReturn gst_faceqan_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer);
static gboolean gst_faceqan_sink_event(GstPad* pad, GstObject* parent, GstEvent* event);
static gboolean gst_faceqan_sink_query(GstPad* pad, GstObject* parent, GstQuery* query);
static gboolean gst_faceqan_src_query(GstPad* pad, GstObject* parent, GstQuery* query);
static gboolean gst_faceqan_src_activate_mode(GstPad* pad, GstObject* parent, GstPadMode mode,
                                              gboolean active);
static void gst_faceqan_loop(GstFaceQan* self);

G_DEFINE_TYPE_WITH_CODE(GstFaceQan, gst_faceqan, GST_TYPE_ELEMENT,
                        GST_DEBUG_CATEGORY_INIT(gst_faceqan_debug, "faceqan", 0,
                                                "FaceQAN face image quality"));
GST_ELEMENT_REGISTER_DEFINE(faceqan, "faceqan", GST_RANK_NONE, GST_TYPE_FACEQAN);

static void gst_faceqan_class_init(GstFaceQanClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->set_property = gst_faceqan_set_property;
  gobject_class->get_property = gst_faceqan_get_property;
  gobject_class->finalize = gst_faceqan_finalize;

  install_properties(gobject_class);

  gst_element_class_set_static_metadata(element_class, "FaceQAN face quality",
      "Filter/Analyzer/Video",
      "Detects faces and rates their quality for face recognition with FaceQAN; attaches "
      "region-of-interest metadata and can drop frames without a good face",
      "faceqan-gst developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_faceqan_change_state);
}

static void gst_faceqan_init(GstFaceQan* self) {
  self->state = new State();
  gst_segment_init(&self->state->segment, GST_FORMAT_TIME);

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_faceqan_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_faceqan_sink_event));
  gst_pad_set_query_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_faceqan_sink_query));
  // Frames pass unchanged in format: caps are whatever both neighbours accept.
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_activatemode_function(self->srcpad,
                                    GST_DEBUG_FUNCPTR(gst_faceqan_src_activate_mode));
  gst_pad_set_query_function(self->srcpad, GST_DEBUG_FUNCPTR(gst_faceqan_src_query));
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

static void gst_faceqan_finalize(GObject* object) {
  State* state = GST_FACEQAN(object)->state;
  state->client.reset();  // normally already closed at PAUSED->READY
  delete state;
  G_OBJECT_CLASS(gst_faceqan_parent_class)->finalize(object);
}

// Model and FaceQAN settings only take effect at the next start; say so instead of ignoring.
static bool settable_now(GstFaceQan* self, GParamSpec* pspec) {
  if (!(pspec->flags & GST_PARAM_MUTABLE_READY) || GST_STATE(self) <= GST_STATE_READY) return true;
  GST_WARNING_OBJECT(self, "%s can only be changed in the NULL or READY state; ignored",
                     pspec->name);
  return false;
}

static void gst_faceqan_set_property(GObject* object, guint prop_id, const GValue* value,
                                     GParamSpec* pspec) {
  GstFaceQan* self = GST_FACEQAN(object);
  GST_OBJECT_LOCK(self);
  if (!settable_now(self, pspec)) {
    GST_OBJECT_UNLOCK(self);
    return;
  }
  Settings& s = self->state->settings;
  const bool queue_changed = faceqan::gst::set_property(object, s, prop_id, value, pspec);
  const faceqan::gst::QueueLimits limits = s.queue_limits();
  GST_OBJECT_UNLOCK(self);
  if (queue_changed) self->state->queue.set_limits(limits);
}

static void gst_faceqan_get_property(GObject* object, guint prop_id, GValue* value,
                                     GParamSpec* pspec) {
  GstFaceQan* self = GST_FACEQAN(object);
  GST_OBJECT_LOCK(self);
  faceqan::gst::get_property(object, self->state->settings, prop_id, value, pspec);
  GST_OBJECT_UNLOCK(self);
}

static void set_scoring_error(State& st, const std::string& error) {
  std::lock_guard<std::mutex> lock(st.scoring_error_mutex);
  st.scoring_error = error;
}

static std::string scoring_error(State& st) {
  std::lock_guard<std::mutex> lock(st.scoring_error_mutex);
  return st.scoring_error;
}

static Settings settings_snapshot(GstFaceQan* self) {
  GST_OBJECT_LOCK(self);
  Settings copy = self->state->settings;
  GST_OBJECT_UNLOCK(self);
  return copy;
}

// ---- Models: loaded at READY->PAUSED; every failure becomes one GST_ELEMENT_ERROR here. ----
// (Finding and loading them: element_models.cpp.)

static bool start_models(GstFaceQan* self) {
  const Settings s = settings_snapshot(self);
  Models& models = self->state->models;
  try {
    const ModelFiles files = resolve_model_files(s);
    // Loaded with these settings from these very files (not rewritten since): nothing to do.
    if (models.scorer && models.key == files.key) return true;
    models = Models{};
    load_models(models, s, files);
    GST_INFO_OBJECT(self, "models ready: detector %s, %s%s (pools: %zu loaded, %zu reused)",
                    models.detector->model_path().c_str(),
                    models.scorer->info().description.c_str(), s.shared_scorer ? " (shared)" : "",
                    detector_pool().loaded() + recognizer_pool().loaded(),
                    detector_pool().reused() + recognizer_pool().reused());
    return true;
  } catch (const faceqan::ModelLookupError& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("Model not found: %s", e.what()), (nullptr));
  } catch (const faceqan::DetectorError& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Cannot load the face detector: %s", e.what()),
                      (nullptr));
  } catch (const faceqan::Error& e) {
    switch (e.code()) {
      case faceqan::ErrorCode::kModelNotFound:
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("Model not found: %s", e.what()), (nullptr));
        break;
      case faceqan::ErrorCode::kDeviceUnavailable:
      case faceqan::ErrorCode::kInvalidArgument:
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Cannot start FaceQAN: %s", e.what()),
                          (nullptr));
        break;
      default:
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                          ("Cannot load the recognition model: %s", e.what()), (nullptr));
        break;
    }
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Cannot load the models: %s", e.what()), (nullptr));
  }
  models = Models{};
  return false;
}

static GstStateChangeReturn gst_faceqan_change_state(GstElement* element,
                                                     GstStateChange transition) {
  GstFaceQan* self = GST_FACEQAN(element);
  State& st = *self->state;
  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      const Settings s = settings_snapshot(self);
      // Checked before the (slow) model loading: a bad pattern fails the start at once.
      if (!s.best_location.empty()) {
        if (const auto error = faceqan::gst::location_pattern_error(s.best_location)) {
          GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                            ("Invalid best-location \"%s\": %s", s.best_location.c_str(),
                             error->c_str()),
                            (nullptr));
          return GST_STATE_CHANGE_FAILURE;
        }
      }
      st.quality_scale.reset();
      if (!s.calibration.empty()) {
        try {
          st.quality_scale = faceqan::read_quality_scale(s.calibration);
        } catch (const faceqan::Error& e) {
          GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Invalid calibration: %s", e.what()),
                            (nullptr));
          return GST_STATE_CHANGE_FAILURE;
        }
      }
      if (!start_models(self)) return GST_STATE_CHANGE_FAILURE;
      if (!s.json_location.empty()) {
        try {
          st.json.open(s.json_location);
        } catch (const std::exception& e) {
          GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("%s", e.what()), (nullptr));
          return GST_STATE_CHANGE_FAILURE;
        }
      }
      st.tracker = faceqan::gst::FaceTracker(s.tracker_settings());
      st.budget.reset();
      st.latest_score.clear();
      st.best.take_all();
      st.persons.clear();
      st.track_spans.clear();
      st.have_info = false;
      st.last_detections.clear();
      st.frames_seen = 0;
      st.eos_received = false;
      st.worst_batch = 0;
      st.reported_batch = 0;
      st.stats.reset();
      gst_segment_init(&st.segment, GST_FORMAT_TIME);
      st.queue.set_limits(s.queue_limits());
      set_scoring_error(st, "");
      st.latency_posted = 0;
      st.client = st.models.scorer->connect(s.batch_size);
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      // Wake a chain() blocked on a full queue before the pads deactivate and wait for it.
      st.queue.set_flushing(true);
      break;
    default:
      break;
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_faceqan_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    // Our jobs still waiting in the scorer are dropped; the other streams sharing it go on.
    st.client.reset();
    // The worker has stopped: best frames of tracks still open (no EOS came) are handed out now,
    // not lost.
    emit_all_best_frames(GST_ELEMENT(self), st, settings_snapshot(self));
    st.json.close();
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL) {
    st.client.reset();  // a failed READY->PAUSED may have left it connected
    st.models = Models{};
  }
  return ret;
}

// ---- Streaming thread: find and align faces, queue the frame. ----

// The faces of one frame: the detector's (or the reused ones), or the upstream metas'.
static std::vector<FaceRecord> find_faces(State& st, const Settings& s, GstBuffer* buffer,
                                          const cv::Mat& image, faceqan::PixelFormat format) {
  if (s.use_upstream_rois) return faceqan::gst::read_upstream_faces(buffer);
  const bool detect_now = st.frames_seen % s.detection_interval == 0;
  if (detect_now) {
    faceqan::RetinaFaceDetector& detector = *st.models.detector;
    const faceqan::DetectorSettings wanted = s.detector_settings();
    const faceqan::DetectorSettings& current = detector.settings();
    if (wanted.confidence_threshold != current.confidence_threshold ||
        wanted.min_face_size != current.min_face_size || wanted.max_faces != current.max_faces) {
      detector.set_settings(wanted);
    }
    st.last_detections.clear();
    for (const faceqan::DetectedFace& detected : detector.detect(image, format)) {
      st.last_detections.push_back(
          FaceRecord{detected.box, detected.confidence, detected.landmarks, std::nullopt});
    }
  }
  return st.last_detections;
}

// Gives each face its track id; tracks that ended are noted on the frame so that the worker hands
// out their best frames once everything before has left.
static void track_faces(State& st, const Settings& s, QueuedItem& item) {
  st.tracker.set_settings(s.tracker_settings());
  std::vector<faceqan::gst::TrackInput> inputs;
  inputs.reserve(item.faces.size());
  for (const FaceRecord& face : item.faces) inputs.push_back({face.box, face.landmarks});
  const std::vector<TrackId> ids = st.tracker.update(inputs, &item.ended_tracks);
  for (std::size_t i = 0; i < ids.size(); ++i) item.faces[i].track_id = ids[i];
  for (TrackId ended : item.ended_tracks) st.budget.forget(ended);
}

// Aligns the frame's faces and picks those to score (all of them, or the budget's choice).
// Fills the item's per-face bookkeeping; returns the faces to queue.
static std::vector<PendingFace> select_faces(State& st, const Settings& s, const cv::Mat& image,
                                             faceqan::PixelFormat format, GstClockTime pts,
                                             QueuedItem& item) {
  const cv::Size crop_size = st.models.crop_size;
  std::vector<PendingFace> aligned =
      faceqan::gst::align_faces(image, format, item.faces, crop_size);
  const std::size_t count = item.faces.size();
  item.queued.assign(count, -1);
  item.promise.assign(count, 0.0);
  if (s.best_frames) item.crops.resize(count);
  const bool budget = s.scoring == Scoring::kBudget;
  if (budget) st.budget.set_settings(s.budget_settings());
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
      return st.budget.is_new(item.faces[i].track_id);
    });
  }
  std::vector<PendingFace> chosen;
  for (const std::size_t i : order) {
    if (budget) {
      const faceqan::gst::CheapSignals signals = faceqan::gst::measure_face(
          aligned[i].pixels.data(), crop_size, item.faces[i].landmarks, item.faces[i].confidence);
      item.promise[i] = signals.promise;
      const bool score = st.budget.decide(item.faces[i].track_id, signals, time);
      GST_LOG("track %u at %.3f s: eyes %.1f px, sharpness %.0f, confidence %.2f, frontal %.2f,"
              " promise %.3f: %s", item.faces[i].track_id, time, signals.eye_distance,
              signals.sharpness, signals.confidence, signals.frontal, signals.promise,
              score ? "score" : "skip");
      if (!score) continue;
    }
    item.queued[i] = static_cast<int>(chosen.size());
    if (s.best_frames) item.crops[i] = faceqan::gst::crop_to_bgr(aligned[i].pixels, crop_size);
    chosen.push_back(std::move(aligned[i]));
  }
  return chosen;
}

static GstFlowReturn gst_faceqan_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  GstFaceQan* self = GST_FACEQAN(parent);
  State& st = *self->state;
  (void)pad;

  if (GstFlowReturn ret = st.src_result; ret != GST_FLOW_OK) {
    gst_buffer_unref(buffer);
    return ret;
  }
  if (!st.have_info) {
    gst_buffer_unref(buffer);
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (nullptr), ("a buffer arrived before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  const Settings s = settings_snapshot(self);
  ++st.stats.frames_in;

  const Admission admission = st.queue.admit_frame();
  if (admission == Admission::kFlushing) {
    gst_buffer_unref(buffer);
    const GstFlowReturn ret = st.src_result;  // EOS or an error from downstream, if any
    return ret != GST_FLOW_OK ? ret : GST_FLOW_FLUSHING;
  }
  if (admission == Admission::kDrop) {
    GST_LOG_OBJECT(self, "queue full: dropping frame %" GST_TIME_FORMAT,
                   GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
    ++st.stats.dropped;
    if (s.drop_gaps && GST_BUFFER_PTS_IS_VALID(buffer)) {
      GstEvent* gap = gst_event_new_gap(GST_BUFFER_PTS(buffer), GST_BUFFER_DURATION(buffer));
      st.queue.push_item(queued_event(gap));
    }
    gst_buffer_unref(buffer);
    ++st.frames_seen;
    return GST_FLOW_OK;
  }

  // Metas are added (and with draw=true pixels changed) later: own the buffer now.
  buffer = gst_buffer_make_writable(buffer);
  QueuedItem item;
  item.object.reset(GST_MINI_OBJECT_CAST(buffer));
  item.info = st.info;
  std::vector<PendingFace> aligned;
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &st.info, buffer, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, (nullptr), ("cannot map the video frame"));
    return GST_FLOW_ERROR;
  }
  try {
    faceqan::PixelFormat format;
    const cv::Mat image = st.imager.view(frame, &format);
    item.faces = find_faces(st, s, buffer, image, format);
    track_faces(st, s, item);
    if (admission == Admission::kScore) {
      aligned = select_faces(st, s, image, format, GST_BUFFER_PTS(buffer), item);
    } else {
      item.scored = false;
      ++st.stats.skipped;
    }
  } catch (const std::exception& e) {
    gst_video_frame_unmap(&frame);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Face detection failed"), ("%s", e.what()));
    return GST_FLOW_ERROR;
  }
  gst_video_frame_unmap(&frame);
  ++st.frames_seen;
  st.stats.faces_detected += item.faces.size();

  if (!st.queue.push_frame(std::move(item), std::move(aligned))) {
    const GstFlowReturn ret = st.src_result;
    return ret != GST_FLOW_OK ? ret : GST_FLOW_FLUSHING;
  }
  return st.src_result;
}

static gboolean gst_faceqan_sink_event(GstPad* /*pad*/, GstObject* parent, GstEvent* event) {
  GstFaceQan* self = GST_FACEQAN(parent);
  State& st = *self->state;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_START: {
      // Not serialized: reaches us while chain() may be blocked on a full queue.
      const gboolean ret = gst_pad_push_event(self->srcpad, event);
      st.queue.set_flushing(true);
      st.src_result = GST_FLOW_FLUSHING;
      gst_pad_pause_task(self->srcpad);
      // Our faces waiting in the (shared) scorer are dropped; a batch being scored goes on for
      // the other streams, and its results for us are discarded.
      if (st.client) st.client->cancel();
      // The worker is paused: the tracks' best frames so far are handed out, not flushed away.
      emit_all_best_frames(GST_ELEMENT(self), st, settings_snapshot(self));
      return ret;
    }
    case GST_EVENT_FLUSH_STOP: {
      const gboolean ret = gst_pad_push_event(self->srcpad, event);
      st.queue.set_flushing(false);
      st.src_result = GST_FLOW_OK;
      st.eos_received = false;
      set_scoring_error(st, "");
      gst_segment_init(&st.segment, GST_FORMAT_TIME);  // the worker is paused: safe
      // After a flush (a seek) the faces start anew: new tracks, a fresh budget.
      st.tracker.end_all(nullptr);
      st.budget.reset();
      st.latest_score.clear();
      gst_pad_start_task(self->srcpad, reinterpret_cast<GstTaskFunction>(gst_faceqan_loop), self,
                         nullptr);
      return ret;
    }
    case GST_EVENT_CAPS: {
      GstCaps* caps;
      gst_event_parse_caps(event, &caps);
      GstVideoInfo info;
      if (!gst_video_info_from_caps(&info, caps)) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (nullptr),
                          ("cannot parse caps %" GST_PTR_FORMAT, caps));
        gst_event_unref(event);
        return FALSE;
      }
      // A new frame size makes the last detections meaningless: with detection-interval > 1
      // they would be reused, in the old frame's coordinates, on the new frames. Detect anew.
      if (st.have_info && (GST_VIDEO_INFO_WIDTH(&info) != GST_VIDEO_INFO_WIDTH(&st.info) ||
                           GST_VIDEO_INFO_HEIGHT(&info) != GST_VIDEO_INFO_HEIGHT(&st.info))) {
        st.last_detections.clear();
        st.frames_seen = 0;
      }
      st.info = info;
      st.have_info = true;
      break;
    }
    case GST_EVENT_EOS:
      st.eos_received = true;
      break;
    default:
      break;
  }
  if (!GST_EVENT_IS_SERIALIZED(event)) return gst_pad_push_event(self->srcpad, event);
  // Serialized events keep their place among the frames. After a flow error (or EOS) the task
  // is paused and nothing queued would leave.
  if (st.src_result != GST_FLOW_OK) {
    GST_DEBUG_OBJECT(self, "refusing %" GST_PTR_FORMAT ": %s", event,
                     gst_flow_get_name(st.src_result));
    gst_event_unref(event);
    return FALSE;
  }
  // push_item() releases the event itself if flushing started meanwhile.
  return st.queue.push_item(queued_event(event));
}

static gboolean gst_faceqan_sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  GstFaceQan* self = GST_FACEQAN(parent);
  // Serialized queries (allocation, drain) must not overtake the frames still queued.
  if (GST_QUERY_IS_SERIALIZED(query) && GST_QUERY_TYPE(query) != GST_QUERY_CAPS &&
      GST_QUERY_TYPE(query) != GST_QUERY_ACCEPT_CAPS) {
    if (!self->state->queue.drain()) return FALSE;
  }
  return gst_pad_query_default(pad, parent, query);
}

// ---- The src pad's task: score batches, finish and push frames and events in order. ----
// (Finishing and pushing a frame: element_output.cpp.)

// Hands a batch of this stream's faces to the (shared) scorer. The results come back on the
// scorer's thread into the queue, where this task finds the frames finished.
static void submit_batch(GstFaceQan* self, Queue::Batch& batch) {
  State& st = *self->state;
  Queue::Batch owners;  // what complete() needs; the pixels go to the scorer
  owners.generation = batch.generation;
  owners.owners = std::move(batch.owners);
  const std::size_t count = batch.faces.size();
  st.client->set_batch_size(settings_snapshot(self).batch_size);
  auto done = [self, owners = std::move(owners), count](SharedScorer::Outcome outcome) {
    State& st = *self->state;
    if (!outcome.error.empty()) {
      // Stops the task (next() returns kStop), which reports the error.
      set_scoring_error(st, outcome.error);
      st.queue.set_flushing(true);
      return;
    }
    GST_DEBUG_OBJECT(self, "scored %zu faces (batch took %.3f s)", count,
                     std::chrono::duration<double>(outcome.took).count());
    st.stats.faces_scored += count;
    st.stats.interval_scored += count;
    // Scoring time is part of the delay we add (the task posts a LATENCY message if it grows).
    const gint64 took_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(outcome.took).count();
    gint64 worst = st.worst_batch;
    while (took_ns > worst && !st.worst_batch.compare_exchange_weak(worst, took_ns)) {
    }
    st.queue.complete(owners, std::move(outcome.results));
  };
  if (!st.client->submit(std::move(batch.faces), std::move(done))) {
    GST_DEBUG_OBJECT(self, "scorer connection closed: batch dropped");
  }
}

// Tells the pipeline when the scoring time (part of the latency we add) grew noticeably.
static void maybe_post_latency(GstFaceQan* self) {
  State& st = *self->state;
  const gint64 worst = st.worst_batch;
  if (worst == st.latency_posted) return;
  if (worst > st.reported_batch + st.reported_batch / 4 + 5 * GST_MSECOND) {
    st.latency_posted = worst;
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
  }
}

static void gst_faceqan_loop(GstFaceQan* self) {
  State& st = *self->state;
  Queue::Work work = st.queue.next();
  GstFlowReturn ret = GST_FLOW_OK;
  switch (work.kind) {
    case Queue::Work::Kind::kStop:
      ret = GST_FLOW_FLUSHING;
      if (const std::string error = scoring_error(st); !error.empty()) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED, ("FaceQAN scoring failed"), ("%s", error.c_str()));
        ret = GST_FLOW_ERROR;
      }
      break;
    case Queue::Work::Kind::kScore:
      submit_batch(self, work.batch);
      break;
    case Queue::Work::Kind::kPush:
      ret = push_finished(GST_ELEMENT(self), self->srcpad, st, settings_snapshot(self),
                          *work.finished);
      break;
  }
  maybe_post_latency(self);
  if (ret == GST_FLOW_OK) return;

  GST_DEBUG_OBJECT(self, "pausing task: %s", gst_flow_get_name(ret));
  st.src_result = ret;
  // Nothing queued can leave any more: wake a chain() blocked on the full queue (it returns
  // src_result) and a draining query, until a flush or a restart.
  st.queue.set_flushing(true);
  st.client->cancel();  // our faces still waiting in the scorer are not wanted
  gst_pad_pause_task(self->srcpad);
  // As queue does: once upstream has sent EOS nobody else will see a fatal flow return.
  if (ret != GST_FLOW_EOS && ret != GST_FLOW_FLUSHING && st.eos_received) {
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
      GST_ELEMENT_FLOW_ERROR(self, ret);
      gst_pad_push_event(self->srcpad, gst_event_new_eos());
    }
  }
}

static gboolean gst_faceqan_src_activate_mode(GstPad* pad, GstObject* parent, GstPadMode mode,
                                              gboolean active) {
  GstFaceQan* self = GST_FACEQAN(parent);
  State& st = *self->state;
  if (mode != GST_PAD_MODE_PUSH) return FALSE;
  if (active) {
    st.queue.set_flushing(false);
    st.src_result = GST_FLOW_OK;
    return gst_pad_start_task(pad, reinterpret_cast<GstTaskFunction>(gst_faceqan_loop), self,
                              nullptr);
  }
  st.queue.set_flushing(true);
  st.src_result = GST_FLOW_FLUSHING;
  const gboolean stopped = gst_pad_stop_task(pad);
  if (st.client) st.client->cancel();  // the task has stopped: it submits nothing more
  return stopped;
}

static gboolean gst_faceqan_src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  GstFaceQan* self = GST_FACEQAN(parent);
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY) return gst_pad_query_default(pad, parent, query);

  if (!gst_pad_peer_query(self->sinkpad, query)) return FALSE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(query, &live, &min, &max);
  // Frames wait up to max-latency for a batch, then for the batch to be scored.
  State& st = *self->state;
  st.reported_batch = st.worst_batch.load();
  const GstClockTime ours = settings_snapshot(self).max_latency * GST_MSECOND +
                           static_cast<GstClockTime>(st.reported_batch.load());
  GST_DEBUG_OBJECT(self, "adding %" GST_TIME_FORMAT " of latency", GST_TIME_ARGS(ours));
  min += ours;
  if (GST_CLOCK_TIME_IS_VALID(max)) max += ours;
  gst_query_set_latency(query, live, min, max);
  return TRUE;
}
