/**
 * SECTION:element-faceqan
 * @title: faceqan
 *
 * Finds the faces in each video frame and rates each face's quality for face recognition with
 * FaceQAN (Babnik, Peer, Struc, ICPR 2022): how little adversarial noise moves the face's
 * embedding in a recognition network. Scores are in [0, 1]; higher is better.
 *
 * Faces come from a RetinaFace detector (every frame, or every detection-interval-th frame with
 * the boxes followed by optical flow in between), or, with use-upstream-rois, from "face" region-of-interest metas
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
 * symmetry, embedding-norm (the norm of the face's embedding before normalisation, a by-product
 * of FaceQAN's clean pass, only on a face scored on this frame), scored, track-id, landmarks,
 * label, model_name, confidence = the quality for gvametaconvert, and with attach-embedding the
 * embedding). A face whose track has no score yet
 * has no quality fields at all. docs/METADATA.md describes every field.
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
 *   `confidence` (the detector's), #gdouble `quality` (when not scored: the track's latest score;
 *   absent while the track has none), #gboolean `scored` (false when the budget spared the face, or the frame passed
 *   unscored because the queue was full with overload=skip), #guint `track-id`, #gdouble
 *   `embedding-norm` (a face scored on this frame), and with calibration #gdouble `quality-100`.
 *
 * With stats-interval > 0 it posts "faceqan-stats" messages every stats-interval milliseconds
 * while frames flow, and a last one at EOS: #guint64 `frames-in`, `frames-out`, `skipped`,
 * `dropped`, `faces-detected`, `faces-scored` (totals), #gdouble `frames-per-second`,
 * `faces-detected-per-second`, `faces-scored-per-second` (over the interval), #guint
 * `queue-depth` (frames held now), #GstClockTime `latency` and `max-latency` (mean and
 * largest time a frame spent in the element during the interval), #guint `scorer-streams`
 * (elements sharing this element's scorer now, itself included).
 *
 * Faces are followed across frames: each gets a stable `track-id`, in the metadata,
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
 * For the elements after it, in stream order: a sticky "faceqan-camera" event with camera-id
 * after stream-start, with best-frames a "faceqan-track" event (new, update, end) just before
 * the frame that caused it, and with stats-interval each "faceqan-stats" structure as an event
 * too. faceqanpublish sends them, with each frame's metas, to an MQTT broker.
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

#include <exception>
#include <filesystem>
#include <memory>
#include <string>

#include "element_input.h"
#include "element_models.h"
#include "element_output.h"
#include "element_settings.h"
#include "element_state.h"
#include "faceqan/quality.h"
#include "faceqan/face_detector.h"
#include "faceqan/model_paths.h"
#include "faceqan/quality_scale.h"
#include "frame_faces.h"
#include "faceqan/stream/location_pattern.h"

// The one category of the element's parts (declared in element_state.h).
GST_DEBUG_CATEGORY(gst_faceqan_debug);
#define GST_CAT_DEFAULT gst_faceqan_debug

namespace {

using faceqan::gst::InputState;
using faceqan::gst::Invalidates;
using faceqan::gst::ModelFiles;
using faceqan::gst::Models;
using faceqan::gst::OutputState;
using faceqan::QueueLimits;
using faceqan::SharedScorer;
using faceqan::gst::kAutoBatchSize;
using faceqan::gst::resolved_limits;
using faceqan::gst::QueuedItem;
using faceqan::gst::Settings;
using faceqan::gst::SharedState;
using faceqan::gst::State;
// The element's parts (element_settings.h, element_models.h, element_input.h, element_output.h).
using faceqan::gst::detector_pool;
using faceqan::gst::emit_all_best_frames;
using faceqan::gst::install_properties;
using faceqan::gst::load_models;
using faceqan::gst::process_frame;
using faceqan::gst::recognizer_pool;
using faceqan::gst::resolve_model_files;
using faceqan::gst::run_output_task;

// An event, queued to keep its place among the frames.
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
  const Invalidates invalidates = faceqan::gst::set_property(object, s, prop_id, value, pspec);
  const faceqan::QueueLimits limits = s.queue;
  GST_OBJECT_UNLOCK(self);
  if (invalidates == Invalidates::kQueueLimits) {
    self->state->queue.set_limits(resolved_limits(limits, self->state->auto_batch_size.load()));
  }
}

static void gst_faceqan_get_property(GObject* object, guint prop_id, GValue* value,
                                     GParamSpec* pspec) {
  GstFaceQan* self = GST_FACEQAN(object);
  GST_OBJECT_LOCK(self);
  faceqan::gst::get_property(object, self->state->settings, prop_id, value, pspec);
  GST_OBJECT_UNLOCK(self);
}

static Settings settings_snapshot(GstFaceQan* self) {
  GST_OBJECT_LOCK(self);
  Settings copy = self->state->settings;
  GST_OBJECT_UNLOCK(self);
  return copy;
}

// ---- Models: loaded at READY->PAUSED; every failure becomes one GST_ELEMENT_ERROR here. ----
// (Finding and loading them: element_models.cpp.)

static bool start_models(GstFaceQan* self, const Settings& s) {
  Models& models = self->state->models;
  try {
    const ModelFiles files = resolve_model_files(s);
    // Loaded with these settings from these very files (not rewritten since): nothing to do.
    if (models.scorer && models.key == files.key) return true;
    models = Models{};
    load_models(models, s, files);
    GST_INFO_OBJECT(self, "models ready: detector %s, %s%s (pools: %zu loaded, %zu reused)",
                    models.detector->model_path().c_str(),
                    models.scorer->info().description.c_str(),
                    s.models.shared_scorer ? " (shared)" : "",
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

// READY->PAUSED: checks the settings, loads the models and builds the element's state for a
// new run (element_state.h). Returns false after posting an error.
static bool start(GstFaceQan* self) {
  State& st = *self->state;
  const Settings s = settings_snapshot(self);
  // Checked before the (slow) model loading: a bad pattern fails the start at once.
  if (!s.best.location.empty()) {
    if (const auto error = faceqan::location_pattern_error(s.best.location)) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                        ("Invalid best-location \"%s\": %s", s.best.location.c_str(),
                         error->c_str()),
                        (nullptr));
      return false;
    }
  }
  auto output = std::make_unique<OutputState>();
  if (!s.output.calibration.empty()) {
    try {
      output->quality_scale = faceqan::read_quality_scale(s.output.calibration);
    } catch (const faceqan::Error& e) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Invalid calibration: %s", e.what()),
                        (nullptr));
      return false;
    }
  }
  if (!start_models(self, s)) return false;
  output->camera_id = s.output.camera_id;
  if (output->camera_id.empty()) {
    gchar* name = gst_element_get_name(GST_ELEMENT(self));
    output->camera_id = name;
    g_free(name);
  }
  try {
    output->model_name =
        std::filesystem::path(resolve_model_files(s).recognizer_path).filename().string();
  } catch (const std::exception&) {
    output->model_name = s.models.recognizer_model;  // found a moment ago; kept as given
  }
  if (!s.output.json_location.empty()) {
    try {
      output->json.open(s.output.json_location);
    } catch (const std::exception& e) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("%s", e.what()), (nullptr));
      return false;
    }
  }
  st.client.reset();  // a failed start may have left one; it calls into the old shared state
  st.shared = std::make_unique<SharedState>(s);
  st.input = std::make_unique<InputState>(s);
  st.output = std::move(output);
  const SharedScorer::Info& scorer_info = st.models.scorer->info();
  st.auto_batch_size = scorer_info.auto_batch_size;
  const QueueLimits limits = resolved_limits(s.queue, scorer_info.auto_batch_size);
  if (s.queue.batch_size == kAutoBatchSize) {
    GST_INFO_OBJECT(self, "batch-size %zu (%s)", limits.batch_size,
                    scorer_info.auto_batch_reason.c_str());
  }
  GST_INFO_OBJECT(self, "scorer: %s", scorer_info.description.c_str());
  st.queue.set_limits(limits);
  st.client = st.models.scorer->connect(limits.batch_size);
  return true;
}

static GstStateChangeReturn gst_faceqan_change_state(GstElement* element,
                                                     GstStateChange transition) {
  GstFaceQan* self = GST_FACEQAN(element);
  State& st = *self->state;
  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!start(self)) return GST_STATE_CHANGE_FAILURE;
      break;
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
    // The threads have stopped: best frames of tracks still open (no EOS came) are handed out
    // now, not lost; then the run's input and output go (the JSON file closes).
    if (st.output) emit_all_best_frames(element, st, settings_snapshot(self));
    st.output.reset();
    st.input.reset();
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL) {
    st.client.reset();  // a failed READY->PAUSED may have left it connected
    st.models = Models{};
  }
  return ret;
}

// ---- The sink pad: frames (element_input.cpp), events and queries. ----

static GstFlowReturn gst_faceqan_chain(GstPad* /*pad*/, GstObject* parent, GstBuffer* buffer) {
  GstFaceQan* self = GST_FACEQAN(parent);
  return process_frame(GST_ELEMENT(self), *self->state, settings_snapshot(self), buffer);
}

static void start_output_task(GstFaceQan* self);

static gboolean gst_faceqan_sink_event(GstPad* /*pad*/, GstObject* parent, GstEvent* event) {
  GstFaceQan* self = GST_FACEQAN(parent);
  State& st = *self->state;
  SharedState& shared = *st.shared;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_START: {
      // Not serialized: reaches us while chain() may be blocked on a full queue.
      const gboolean ret = gst_pad_push_event(self->srcpad, event);
      st.queue.set_flushing(true);
      shared.src_result = GST_FLOW_FLUSHING;
      gst_pad_pause_task(self->srcpad);
      // Our faces waiting in the (shared) scorer are dropped; a batch being scored goes on for
      // the other streams, and its results for us are discarded.
      if (st.client) st.client->cancel();
      // The task is paused: the tracks' best frames so far are handed out, not flushed away.
      emit_all_best_frames(GST_ELEMENT(self), st, settings_snapshot(self));
      return ret;
    }
    case GST_EVENT_FLUSH_STOP: {
      const gboolean ret = gst_pad_push_event(self->srcpad, event);
      st.queue.set_flushing(false);
      shared.src_result = GST_FLOW_OK;
      shared.eos_received = false;
      shared.set_scoring_error("");
      // After a flush (a seek) the faces start anew: new tracks, no reused detections, a fresh
      // budget, no carried scores, a new segment. The task is paused: replacing is safe.
      const Settings s = settings_snapshot(self);
      st.input->start_stream(s);
      st.output->start_stream();
      shared.budget = std::make_unique<faceqan::ScoringBudget>(s.faces.budget);
      start_output_task(self);
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
      InputState& input = *st.input;
      // A new frame size makes the last detections meaningless: with detection-interval > 1
      // they would be reused, in the old frame's coordinates, on the new frames. Detect anew.
      if (input.have_info && (GST_VIDEO_INFO_WIDTH(&info) != GST_VIDEO_INFO_WIDTH(&input.info) ||
                              GST_VIDEO_INFO_HEIGHT(&info) != GST_VIDEO_INFO_HEIGHT(&input.info))) {
        input.stream->detections = {};
      }
      input.info = info;
      input.have_info = true;
      // The detector input for this frame size (a variant shaped like the frame) is loaded now,
      // not on the first frame, which a live pipeline would then drop; a broken one fails here.
      const Settings s = settings_snapshot(self);
      if (!s.faces.use_upstream_rois && st.models.detector) {
        try {
          st.models.detector->set_settings(s.faces.detector);
          const cv::Size detector_input = st.models.detector->prepare(
              cv::Size(GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info)));
          GST_INFO_OBJECT(self, "detecting %dx%d frames at a %dx%d input",
                          GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info),
                          detector_input.width, detector_input.height);
        } catch (const std::exception& e) {
          GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                            ("Cannot load the face detector: %s", e.what()), (nullptr));
          gst_event_unref(event);
          return FALSE;
        }
      }
      break;
    }
    case GST_EVENT_EOS:
      shared.eos_received = true;
      break;
    default:
      break;
  }
  if (!GST_EVENT_IS_SERIALIZED(event)) return gst_pad_push_event(self->srcpad, event);
  // Serialized events keep their place among the frames. After a flow error (or EOS) the task
  // is paused and nothing queued would leave.
  if (shared.src_result != GST_FLOW_OK) {
    GST_DEBUG_OBJECT(self, "refusing %" GST_PTR_FORMAT ": %s", event,
                     gst_flow_get_name(shared.src_result));
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

// ---- The src pad: its task (element_output.cpp) and queries. ----

static void gst_faceqan_loop(GstFaceQan* self) {
  run_output_task(GST_ELEMENT(self), self->srcpad, *self->state, settings_snapshot(self));
}

static void start_output_task(GstFaceQan* self) {
  gst_pad_start_task(self->srcpad, reinterpret_cast<GstTaskFunction>(gst_faceqan_loop), self,
                     nullptr);
}

static gboolean gst_faceqan_src_activate_mode(GstPad* pad, GstObject* parent, GstPadMode mode,
                                              gboolean active) {
  GstFaceQan* self = GST_FACEQAN(parent);
  State& st = *self->state;
  if (mode != GST_PAD_MODE_PUSH) return FALSE;
  if (active) {
    st.queue.set_flushing(false);
    st.shared->src_result = GST_FLOW_OK;
    return gst_pad_start_task(pad, reinterpret_cast<GstTaskFunction>(gst_faceqan_loop), self,
                              nullptr);
  }
  st.queue.set_flushing(true);
  st.shared->src_result = GST_FLOW_FLUSHING;
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
  gint64 batch = 0;
  if (SharedState* shared = self->state->shared.get()) {
    batch = shared->worst_batch.load();
    shared->reported_batch = batch;
  }
  const GstClockTime ours =
      static_cast<GstClockTime>(settings_snapshot(self).queue.max_latency.count()) * GST_MSECOND +
      static_cast<GstClockTime>(batch);
  GST_DEBUG_OBJECT(self, "adding %" GST_TIME_FORMAT " of latency", GST_TIME_ARGS(ours));
  min += ours;
  if (GST_CLOCK_TIME_IS_VALID(max)) max += ours;
  gst_query_set_latency(query, live, min, max);
  return TRUE;
}
