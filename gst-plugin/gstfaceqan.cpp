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
 * * #guint `track-id`, #gdouble `quality`, #GstClockTime `timestamp` (of the chosen frame),
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
 * best-location (e.g. enroll/person-%05u.png: one integer conversion for the track id) saves the
 * crop, best-save-frame the whole frame beside it. json-location writes a JSON-lines file in
 * the layout of gvametaconvert (docs/METADATA.md).
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
 *     faceqan best-frames=true best-location=enroll/person-%05u.png ! fakesink
 * ]| Writes the best aligned crop of each person in the video.
 */

#include "gstfaceqan.h"

#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "best_frames.h"
#include "face_drawing.h"
#include "face_meta.h"
#include "frame_faces.h"
#include "faceqan/face_detector.h"
#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#include "faceqan/quality.h"
#include "faceqan/quality_scale.h"
#include "json_export.h"
#include "location_pattern.h"
#include "model_pool.h"
#include "scoring_budget.h"
#include "scoring_queue.h"
#include "shared_scorer.h"
#include "tracker.h"

GST_DEBUG_CATEGORY_STATIC(gst_faceqan_debug);
#define GST_CAT_DEFAULT gst_faceqan_debug

namespace {

using faceqan::FaceQuality;
using faceqan::gst::Admission;
using faceqan::gst::BestFrame;
using faceqan::gst::FaceResult;
using faceqan::gst::TrackId;
using faceqan::gst::FaceRecord;
using faceqan::gst::OverloadPolicy;
using faceqan::gst::PendingFace;
using faceqan::gst::SharedScorer;
using Clock = std::chrono::steady_clock;

enum class Mode { kAnnotate, kDrop };
enum class Scoring { kEveryFace, kBudget };

enum {
  PROP_0,
  PROP_DETECTOR_MODEL,
  PROP_RECOGNIZER_MODEL,
  PROP_DEVICE,
  PROP_PRECISION,
  PROP_THREADS,
  PROP_EPSILON,
  PROP_ITERATIONS,
  PROP_SAMPLES,
  PROP_EXPONENT,
  PROP_SEED,
  PROP_BATCH_SIZE,
  PROP_MAX_LATENCY,
  PROP_QUEUE_SIZE,
  PROP_OVERLOAD,
  PROP_DETECTION_THRESHOLD,
  PROP_MIN_FACE_SIZE,
  PROP_MAX_FACES,
  PROP_DETECTION_INTERVAL,
  PROP_USE_UPSTREAM_ROIS,
  PROP_QUALITY_THRESHOLD,
  PROP_MODE,
  PROP_DROP_GAPS,
  PROP_ATTACH_EMBEDDING,
  PROP_DRAW,
  PROP_MESSAGE,
  PROP_STATS_INTERVAL,
  PROP_SCORING,
  PROP_BUDGET_MIN_INTERVAL,
  PROP_BUDGET_MAX_RATE,
  PROP_BUDGET_MARGIN,
  PROP_BUDGET_MIN_EYE_DISTANCE,
  PROP_TRACK_MAX_MISSED,
  PROP_TRACK_MIN_SIMILARITY,
  PROP_BEST_FRAMES,
  PROP_BEST_LOCATION,
  PROP_BEST_SAVE_FRAME,
  PROP_BEST_INTERVAL,
  PROP_JSON_LOCATION,
  PROP_CALIBRATION,
  PROP_SHARED_SCORER,
};

// Every property's default and range, in one place.
constexpr const char* kDefaultDevice = "auto";
constexpr faceqan::Precision kDefaultPrecision = faceqan::Precision::kFloat32;
constexpr guint kDefaultThreads = 0, kMaxThreads = 1024;
constexpr double kDefaultEpsilon = 0.001, kMinEpsilon = 1e-6, kMaxEpsilon = 0.5;
constexpr guint kDefaultIterations = 5, kMinIterations = 1, kMaxIterations = 100;
constexpr guint kDefaultSamples = 10, kMinSamples = 2, kMaxSamples = 256;
constexpr guint kDefaultExponent = 5, kMinExponent = 1, kMaxExponent = 100;
constexpr gint64 kDefaultSeed = faceqan::kDefaultSeed, kMinSeed = -1, kMaxSeed = G_MAXINT64;
constexpr guint kDefaultBatchSize = 8, kMinBatchSize = 1, kMaxBatchSize = 256;
constexpr guint kDefaultMaxLatency = 200, kMaxMaxLatency = 60000;  // milliseconds
constexpr guint kDefaultQueueSize = 16, kMinQueueSize = 1, kMaxQueueSize = 1024;
constexpr OverloadPolicy kDefaultOverload = OverloadPolicy::kBlock;
constexpr double kDefaultDetectionThreshold = 0.6;
constexpr guint kDefaultMinFaceSize = 0, kMaxMinFaceSize = 10000;
constexpr guint kDefaultMaxFaces = 0, kMaxMaxFaces = 1000;
constexpr guint kDefaultDetectionInterval = 1, kMinDetectionInterval = 1,
                kMaxDetectionInterval = 10000;
constexpr gboolean kDefaultUseUpstreamRois = FALSE;
// Measured with the default recognition model at the default FaceQAN settings (l=5, k=10, p=5):
// the four sharp faces of groups/bbt1.jpg score 0.67-0.79, the same faces blurred (Gaussian
// sigma 4 or 8) 0.19-0.42 (docs/METADATA.md). 0.5 sits between the two groups. Cheaper settings
// raise every score (l=2, k=2: 0.87-0.91 sharp, 0.50-0.82 blurred): choose it per setting.
constexpr double kDefaultQualityThreshold = 0.5;
constexpr Mode kDefaultMode = Mode::kAnnotate;
constexpr gboolean kDefaultDropGaps = FALSE;
constexpr gboolean kDefaultAttachEmbedding = FALSE;
constexpr gboolean kDefaultDraw = FALSE;
constexpr gboolean kDefaultMessage = FALSE;
constexpr guint kDefaultStatsInterval = 0, kMaxStatsInterval = 3600000;  // milliseconds
constexpr Scoring kDefaultScoring = Scoring::kBudget;
constexpr guint kDefaultBudgetMinInterval = 500, kMaxBudgetMinInterval = 3600000;  // milliseconds
constexpr double kDefaultBudgetMaxRate = 4.0, kMaxBudgetMaxRate = 10000.0;  // scorings per second
constexpr double kDefaultBudgetMargin = 0.1, kMaxBudgetMargin = 1.0;
constexpr double kDefaultBudgetMinEyeDistance = 8.0, kMaxBudgetMinEyeDistance = 10000.0;  // pixels
constexpr guint kDefaultTrackMaxMissed = 5, kMaxTrackMaxMissed = 10000;  // frames
constexpr double kDefaultTrackMinSimilarity = 0.3;
constexpr gboolean kDefaultBestFrames = FALSE;
constexpr gboolean kDefaultBestSaveFrame = FALSE;
constexpr guint kDefaultBestInterval = 0, kMaxBestInterval = 86400;  // seconds
constexpr gboolean kDefaultSharedScorer = TRUE;

// The property values, read and written under the object lock.
struct Settings {
  std::string detector_model;
  std::string recognizer_model;
  std::string device = kDefaultDevice;
  faceqan::Precision precision = kDefaultPrecision;
  guint threads = kDefaultThreads;
  double epsilon = kDefaultEpsilon;
  guint iterations = kDefaultIterations;
  guint samples = kDefaultSamples;
  guint exponent = kDefaultExponent;
  gint64 seed = kDefaultSeed;
  guint batch_size = kDefaultBatchSize;
  guint max_latency = kDefaultMaxLatency;
  guint queue_size = kDefaultQueueSize;
  OverloadPolicy overload = kDefaultOverload;
  double detection_threshold = kDefaultDetectionThreshold;
  guint min_face_size = kDefaultMinFaceSize;
  guint max_faces = kDefaultMaxFaces;
  guint detection_interval = kDefaultDetectionInterval;
  bool use_upstream_rois = kDefaultUseUpstreamRois;
  double quality_threshold = kDefaultQualityThreshold;
  Mode mode = kDefaultMode;
  bool drop_gaps = kDefaultDropGaps;
  bool attach_embedding = kDefaultAttachEmbedding;
  bool draw = kDefaultDraw;
  bool message = kDefaultMessage;
  guint stats_interval = kDefaultStatsInterval;
  Scoring scoring = kDefaultScoring;
  guint budget_min_interval = kDefaultBudgetMinInterval;
  double budget_max_rate = kDefaultBudgetMaxRate;
  double budget_margin = kDefaultBudgetMargin;
  double budget_min_eye_distance = kDefaultBudgetMinEyeDistance;
  guint track_max_missed = kDefaultTrackMaxMissed;
  double track_min_similarity = kDefaultTrackMinSimilarity;
  bool best_frames = kDefaultBestFrames;
  std::string best_location;
  bool best_save_frame = kDefaultBestSaveFrame;
  guint best_interval = kDefaultBestInterval;
  std::string json_location;
  std::string calibration;
  bool shared_scorer = kDefaultSharedScorer;

  faceqan::gst::BudgetSettings budget_settings() const {
    return {budget_min_eye_distance, budget_min_interval / 1000.0, budget_max_rate, budget_margin};
  }
  faceqan::gst::TrackerSettings tracker_settings() const {
    return {track_min_similarity, track_max_missed};
  }

  faceqan::gst::QueueLimits queue_limits() const {
    return {batch_size, std::chrono::milliseconds(max_latency), queue_size, overload};
  }
  faceqan::DetectorSettings detector_settings() const {
    faceqan::DetectorSettings s;
    s.confidence_threshold = static_cast<float>(detection_threshold);
    s.min_face_size = static_cast<float>(min_face_size);
    s.max_faces = static_cast<int>(max_faces);
    return s;
  }
  // What the loaded models depend on: a change reloads them at the next start.
  std::string model_key() const {
    return detector_model + '\n' + recognizer_model + '\n' + device + '\n' +
           faceqan::precision_name(precision) + '\n' +
           std::to_string(threads) + '\n' + std::to_string(epsilon) + '\n' +
           std::to_string(iterations) + '\n' + std::to_string(samples) + '\n' +
           std::to_string(exponent) + '\n' + std::to_string(seed) + '\n' +
           std::to_string(shared_scorer);
  }
};

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

// An event (or a GAP for a dropped frame), queued to keep its place among the frames.
QueuedItem queued_event(GstEvent* event) {
  QueuedItem item;
  item.object.reset(GST_MINI_OBJECT_CAST(event));
  return item;
}
using Queue = faceqan::gst::ScoringQueue<QueuedItem, FaceQuality>;

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

// The loaded models, built from the settings at READY->PAUSED. The detector comes from the
// process's pool (model_pool.h); the recognizer and FaceQAN scorer live in a SharedScorer, shared
// with the other elements of the process that have the same scorer key (shared-scorer=true) or
// private. Its recognizer also comes from a pool, so a restart does not read the file again.
struct Models {
  std::string key;  // the settings and the model files' identities they were loaded with
  std::shared_ptr<faceqan::RetinaFaceDetector> detector;
  std::shared_ptr<SharedScorer> scorer;
  cv::Size crop_size;
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
  faceqan::gst::FrameImager imager;
  std::vector<FaceRecord> last_detections;
  guint64 frames_seen = 0;
  faceqan::gst::FaceTracker tracker;

  // Both threads (internally locked): the streaming thread decides, the worker reports.
  faceqan::gst::ScoringBudget budget;

  // Worker only (and the state change once the worker has stopped).
  std::map<TrackId, FaceQuality> latest_score;  // per live track
  faceqan::gst::BestFrameSelector best;
  faceqan::gst::JsonLinesExport json;
  faceqan::gst::FrameImager best_imager;
  std::optional<faceqan::QualityScale> quality_scale;  // from calibration, read at start

  // Worker only.
  GstSegment segment{};
  // The longest scoring time so far (part of the latency we add) and what the last LATENCY
  // answer included, in nanoseconds; the worker writes, the query reads.
  std::atomic<gint64> worst_batch{0};
  std::atomic<gint64> reported_batch{0};
  gint64 latency_posted = 0;  // worker only: the worst_batch a LATENCY message was posted for
  Stats stats;
};

}  // namespace

struct _GstFaceQan {
  GstElement parent;
  GstPad* sinkpad;
  GstPad* srcpad;
  State* state;  // C++ state; created in init, destroyed in finalize
};

#define GST_TYPE_FACEQAN_OVERLOAD (gst_faceqan_overload_get_type())
static GType gst_faceqan_overload_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(OverloadPolicy::kBlock),
       "Wait for room: back-pressure upstream (files)", "block"},
      {static_cast<gint>(OverloadPolicy::kSkip),
       "Pass the frame with its detections but unscored faces (scored=false; live sources)",
       "skip"},
      {static_cast<gint>(OverloadPolicy::kDrop), "Drop the frame", "drop"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    g_once_init_leave(&type, g_enum_register_static("GstFaceQanOverload", values));
  }
  return type;
}

#define GST_TYPE_FACEQAN_PRECISION (gst_faceqan_precision_get_type())
static GType gst_faceqan_precision_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(faceqan::Precision::kFloat32), "IEEE float32 (TF32 off on CUDA)", "fp32"},
      {static_cast<gint>(faceqan::Precision::kTF32),
       "float32 with TF32 tensor-core convolutions and products on CUDA; fp32 on the CPU", "tf32"},
      {static_cast<gint>(faceqan::Precision::kFloat16),
       "The network in half precision (CUDA; not on Debian's CPU LibTorch)", "fp16"},
      {static_cast<gint>(faceqan::Precision::kBFloat16),
       "The network in bfloat16 (CUDA on Ampere or later; CPUs with oneDNN bfloat16 support)",
       "bf16"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    g_once_init_leave(&type, g_enum_register_static("GstFaceQanPrecision", values));
  }
  return type;
}

#define GST_TYPE_FACEQAN_MODE (gst_faceqan_mode_get_type())
static GType gst_faceqan_mode_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(Mode::kAnnotate), "Pass every frame with its metadata", "annotate"},
      {static_cast<gint>(Mode::kDrop),
       "Pass only frames with at least one face of quality >= quality-threshold", "drop"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    g_once_init_leave(&type, g_enum_register_static("GstFaceQanMode", values));
  }
  return type;
}

#define GST_TYPE_FACEQAN_SCORING (gst_faceqan_scoring_get_type())
static GType gst_faceqan_scoring_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(Scoring::kEveryFace), "Score every face of every frame", "every-face"},
      {static_cast<gint>(Scoring::kBudget),
       "Score a track's first usable face, then only faces that may beat its best (budget-* "
       "properties); the others carry the track's latest score with scored=false",
       "budget"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    g_once_init_leave(&type, g_enum_register_static("GstFaceQanScoring", values));
  }
  return type;
}

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
static void emit_best_frames(GstFaceQan* self, const Settings& s, std::vector<BestFrame> bests);

G_DEFINE_TYPE_WITH_CODE(GstFaceQan, gst_faceqan, GST_TYPE_ELEMENT,
                        GST_DEBUG_CATEGORY_INIT(gst_faceqan_debug, "faceqan", 0,
                                                "FaceQAN face image quality"));
GST_ELEMENT_REGISTER_DEFINE(faceqan, "faceqan", GST_RANK_NONE, GST_TYPE_FACEQAN);

static void gst_faceqan_class_init(GstFaceQanClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const auto ready_flags = static_cast<GParamFlags>(flags | GST_PARAM_MUTABLE_READY);
  const auto playing_flags = static_cast<GParamFlags>(flags | GST_PARAM_MUTABLE_PLAYING);

  gobject_class->set_property = gst_faceqan_set_property;
  gobject_class->get_property = gst_faceqan_get_property;
  gobject_class->finalize = gst_faceqan_finalize;

  g_object_class_install_property(gobject_class, PROP_DETECTOR_MODEL,
      g_param_spec_string("detector-model", "Detector model",
          "RetinaFace ONNX model: a file, or a name under the model path (FACEQAN_MODEL_PATH, then "
          "the build's or the installation's models folder). Empty: the default model, "
          "detection/retinaface_mnet025_640.onnx",
          "", ready_flags));
  g_object_class_install_property(gobject_class, PROP_RECOGNIZER_MODEL,
      g_param_spec_string("recognizer-model", "Recognizer model",
          "Face recognition model whose embeddings FaceQAN attacks (.onnx, or TorchScript .pt), "
          "a file or a name under the model path. Empty: the default model, "
          "recognition/mobilefacenet512_faceplugin.onnx. Scores are only comparable between runs "
          "with the same model",
          "", ready_flags));
  g_object_class_install_property(gobject_class, PROP_DEVICE,
      g_param_spec_string("device", "Device",
          "Where the recognition model runs: auto (a GPU if LibTorch has CUDA and sees one, else "
          "the CPU), cpu, cuda or cuda:N. Asking for cuda without one fails the start",
          kDefaultDevice, ready_flags));
  g_object_class_install_property(gobject_class, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision",
          "The recognition network's number format while scoring: fp32, tf32, fp16 or bf16. "
          "Similarities and scores stay float32/double. Lower precision is faster on GPUs and "
          "ranks faces as fp32 does (Spearman >= 0.99, docs/PERFORMANCE.md) but scores differ a "
          "little; a precision the device cannot run fails the start",
          GST_TYPE_FACEQAN_PRECISION, static_cast<gint>(kDefaultPrecision), ready_flags));
  g_object_class_install_property(gobject_class, PROP_THREADS,
      g_param_spec_uint("threads", "Threads",
          "CPU threads LibTorch uses for scoring (process-wide); 0: all cores",
          0, kMaxThreads, kDefaultThreads, ready_flags));
  g_object_class_install_property(gobject_class, PROP_EPSILON,
      g_param_spec_double("epsilon", "Epsilon",
          "FaceQAN's noise amplitude and attack step, on the [0, 1] pixel scale (paper: 0.001)",
          kMinEpsilon, kMaxEpsilon, kDefaultEpsilon, ready_flags));
  g_object_class_install_property(gobject_class, PROP_ITERATIONS,
      g_param_spec_uint("iterations", "Iterations",
          "FaceQAN's attack steps per face (l, paper: 5). Cost grows linearly; 2 keeps most of the "
          "ranking at less than half the cost",
          kMinIterations, kMaxIterations, kDefaultIterations, ready_flags));
  g_object_class_install_property(gobject_class, PROP_SAMPLES,
      g_param_spec_uint("samples", "Samples",
          "FaceQAN's noisy copies per face (k, paper: 10). Cost grows linearly",
          kMinSamples, kMaxSamples, kDefaultSamples, ready_flags));
  g_object_class_install_property(gobject_class, PROP_EXPONENT,
      g_param_spec_uint("exponent", "Exponent",
          "FaceQAN's final power (p, paper: 5): spreads the scores apart without changing their "
          "order. Thresholds depend on it",
          kMinExponent, kMaxExponent, kDefaultExponent, ready_flags));
  g_object_class_install_property(gobject_class, PROP_SEED,
      g_param_spec_int64("seed", "Seed",
          "Seed of FaceQAN's noise; the same seed, faces and thread count give the same scores. "
          "-1: a random seed per start",
          kMinSeed, kMaxSeed, kDefaultSeed, ready_flags));
  g_object_class_install_property(gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint("batch-size", "Batch size",
          "The most faces scored together (from consecutive frames). Larger batches use the "
          "CPU/GPU better but make frames wait for each other",
          kMinBatchSize, kMaxBatchSize, kDefaultBatchSize, playing_flags));
  g_object_class_install_property(gobject_class, PROP_MAX_LATENCY,
      g_param_spec_uint("max-latency", "Maximum latency",
          "The longest a face waits for a fuller batch, in milliseconds; then whatever is waiting "
          "is scored. Reported in the LATENCY query, plus the longest scoring time seen",
          0, kMaxMaxLatency, kDefaultMaxLatency, playing_flags));
  g_object_class_install_property(gobject_class, PROP_QUEUE_SIZE,
      g_param_spec_uint("queue-size", "Queue size",
          "The most frames held waiting for scores (and behind them); when full, overload "
          "decides",
          kMinQueueSize, kMaxQueueSize, kDefaultQueueSize, playing_flags));
  g_object_class_install_property(gobject_class, PROP_OVERLOAD,
      g_param_spec_enum("overload", "Overload",
          "What to do with a frame that arrives while the queue is full: block for files, skip "
          "or drop for live sources",
          GST_TYPE_FACEQAN_OVERLOAD, static_cast<gint>(kDefaultOverload), playing_flags));
  g_object_class_install_property(gobject_class, PROP_DETECTION_THRESHOLD,
      g_param_spec_double("detection-threshold", "Detection threshold",
          "The detector's confidence below which a face is ignored",
          0.0, 1.0, kDefaultDetectionThreshold, playing_flags));
  g_object_class_install_property(gobject_class, PROP_MIN_FACE_SIZE,
      g_param_spec_uint("min-face-size", "Minimum face size",
          "Faces whose box is narrower or shorter than this many pixels are ignored (0: keep "
          "all). Faces under about 40 pixels score low anyway and cost as much as large ones",
          0, kMaxMinFaceSize, kDefaultMinFaceSize, playing_flags));
  g_object_class_install_property(gobject_class, PROP_MAX_FACES,
      g_param_spec_uint("max-faces", "Maximum faces",
          "Keep at most this many of the detector's faces per frame, the largest ones: the others "
          "are neither published nor scored (0: no limit). Regions from use-upstream-rois are "
          "all kept",
          0, kMaxMaxFaces, kDefaultMaxFaces, playing_flags));
  g_object_class_install_property(gobject_class, PROP_DETECTION_INTERVAL,
      g_param_spec_uint("detection-interval", "Detection interval",
          "Run the detector on every N-th frame and reuse its faces on the frames in between "
          "(they are still aligned and scored on each frame); 1: every frame",
          kMinDetectionInterval, kMaxDetectionInterval, kDefaultDetectionInterval,
          playing_flags));
  g_object_class_install_property(gobject_class, PROP_USE_UPSTREAM_ROIS,
      g_param_spec_boolean("use-upstream-rois", "Use upstream ROIs",
          "Score the \"face\" region-of-interest metas already on the buffer (from another "
          "detector) instead of running the detector. Landmarks come from a parameter with a "
          "\"landmarks\" field if there is one, else they are estimated from the box",
          kDefaultUseUpstreamRois, playing_flags));
  g_object_class_install_property(gobject_class, PROP_QUALITY_THRESHOLD,
      g_param_spec_double("quality-threshold", "Quality threshold",
          "The quality a face needs to pass in mode=drop (and to be drawn green). 0.5: with the "
          "default model and FaceQAN settings, sharp faces measured 0.67-0.79 and the same faces "
          "blurred 0.19-0.42. Fewer iterations/samples raise all scores: choose it per model "
          "and settings",
          0.0, 1.0, kDefaultQualityThreshold, playing_flags));
  g_object_class_install_property(gobject_class, PROP_MODE,
      g_param_spec_enum("mode", "Mode",
          "annotate: every frame passes with its metadata; drop: only frames with a face of "
          "quality >= quality-threshold pass",
          GST_TYPE_FACEQAN_MODE, static_cast<gint>(kDefaultMode), playing_flags));
  g_object_class_install_property(gobject_class, PROP_DROP_GAPS,
      g_param_spec_boolean("drop-gaps", "Drop gaps",
          "Send a GAP event in place of each dropped frame, so that downstream (a muxer, a live "
          "sink) knows the time is covered",
          kDefaultDropGaps, playing_flags));
  g_object_class_install_property(gobject_class, PROP_ATTACH_EMBEDDING,
      g_param_spec_boolean("attach-embedding", "Attach embedding",
          "Add each scored face's L2-normalised embedding to its \"faceqan\" parameter (an array "
          "of floats), e.g. for matching downstream",
          kDefaultAttachEmbedding, playing_flags));
  g_object_class_install_property(gobject_class, PROP_DRAW,
      g_param_spec_boolean("draw", "Draw",
          "Draw each face's box, landmarks and quality on the frame (green: at or above "
          "quality-threshold, red: below, grey: not scored; YUV frames: on the luma plane)",
          kDefaultDraw, playing_flags));
  g_object_class_install_property(gobject_class, PROP_MESSAGE,
      g_param_spec_boolean("message", "Message",
          "Post a \"faceqan\" element message on the bus for each frame (fields in the element's "
          "documentation and docs/METADATA.md)",
          kDefaultMessage, playing_flags));
  g_object_class_install_property(gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint("stats-interval", "Statistics interval",
          "Post a \"faceqan-stats\" message (frames in and out, faces per second, queue depth, "
          "skipped and dropped frames, latency) every this many milliseconds, and at EOS; 0: off",
          0, kMaxStatsInterval, kDefaultStatsInterval, playing_flags));

  g_object_class_install_property(gobject_class, PROP_SCORING,
      g_param_spec_enum("scoring", "Scoring",
          "Which faces get a FaceQAN pass: every-face, or budget (a track's first usable face, "
          "then faces whose cheap signals say they may beat the track's best; budget-*)",
          GST_TYPE_FACEQAN_SCORING, static_cast<gint>(kDefaultScoring), playing_flags));
  g_object_class_install_property(gobject_class, PROP_BUDGET_MIN_INTERVAL,
      g_param_spec_uint("budget-min-interval", "Budget minimum interval",
          "scoring=budget: the least time between two scorings of one track, in milliseconds of "
          "stream time (frame timestamps)",
          0, kMaxBudgetMinInterval, kDefaultBudgetMinInterval, playing_flags));
  g_object_class_install_property(gobject_class, PROP_BUDGET_MAX_RATE,
      g_param_spec_double("budget-max-rate", "Budget maximum rate",
          "scoring=budget: the most faces scored per second of stream time, all tracks together "
          "(bursts of up to one second's worth); 0: no cap",
          0.0, kMaxBudgetMaxRate, kDefaultBudgetMaxRate, playing_flags));
  g_object_class_install_property(gobject_class, PROP_BUDGET_MARGIN,
      g_param_spec_double("budget-margin", "Budget margin",
          "scoring=budget: the cheap signals only roughly predict FaceQAN, so a face whose "
          "promise is at most this fraction below that of the track's best-scored face may "
          "still beat it and is scored. 0: only faces that promise more; 1: every usable face",
          0.0, kMaxBudgetMargin, kDefaultBudgetMargin, playing_flags));
  g_object_class_install_property(gobject_class, PROP_BUDGET_MIN_EYE_DISTANCE,
      g_param_spec_double("budget-min-eye-distance", "Budget minimum eye distance",
          "scoring=budget: faces whose eyes are closer than this many pixels are not usable and "
          "never scored",
          0.0, kMaxBudgetMinEyeDistance, kDefaultBudgetMinEyeDistance, playing_flags));
  g_object_class_install_property(gobject_class, PROP_TRACK_MAX_MISSED,
      g_param_spec_uint("track-max-missed", "Track maximum missed",
          "Frames a track survives without a matching face before it ends",
          0, kMaxTrackMaxMissed, kDefaultTrackMaxMissed, playing_flags));
  g_object_class_install_property(gobject_class, PROP_TRACK_MIN_SIMILARITY,
      g_param_spec_double("track-min-similarity", "Track minimum similarity",
          "How alike a face and a track's last face must be to continue the track: the mean of "
          "the boxes' intersection over union and the landmarks' closeness",
          0.0, 1.0, kDefaultTrackMinSimilarity, playing_flags));
  g_object_class_install_property(gobject_class, PROP_BEST_FRAMES,
      g_param_spec_boolean("best-frames", "Best frames",
          "Keep each track's best-quality frame and post a \"faceqan-best\" message when the "
          "track ends, at EOS and every best-interval seconds (frames flow on untouched)",
          kDefaultBestFrames, ready_flags));
  g_object_class_install_property(gobject_class, PROP_BEST_LOCATION,
      g_param_spec_string("best-location", "Best location",
          "With best-frames: save each track's best aligned crop to this path pattern, with one "
          "integer conversion for the track id (e.g. enroll/person-%05u.png); any other "
          "conversion fails the start. Empty: save nothing",
          "", ready_flags));
  g_object_class_install_property(gobject_class, PROP_BEST_SAVE_FRAME,
      g_param_spec_boolean("best-save-frame", "Best save frame",
          "With best-location: also save the whole frame, with \"-frame\" before the extension",
          kDefaultBestSaveFrame, ready_flags));
  g_object_class_install_property(gobject_class, PROP_BEST_INTERVAL,
      g_param_spec_uint("best-interval", "Best interval",
          "With best-frames: also hand out a live track's best frame every this many seconds "
          "(stream time) if it improved; 0: only when the track ends",
          0, kMaxBestInterval, kDefaultBestInterval, playing_flags));
  g_object_class_install_property(gobject_class, PROP_JSON_LOCATION,
      g_param_spec_string("json-location", "JSON location",
          "Write a JSON-lines file: one line per frame with faces in gvametaconvert's layout, "
          "and one {\"event\": \"best\"} line per best frame (docs/METADATA.md). Empty: none",
          "", ready_flags));
  g_object_class_install_property(gobject_class, PROP_CALIBRATION,
      g_param_spec_string("calibration", "Calibration",
          "A calibration file written by `faceqan eval --calibration` for the recognition model "
          "in use. When set, every quality also gets quality-100: its percentile rank (0-100, "
          "monotone) among the calibration images (docs/EVALUATION.md). A missing or malformed "
          "file fails the start. Empty: no quality-100",
          "", ready_flags));
  g_object_class_install_property(gobject_class, PROP_SHARED_SCORER,
      g_param_spec_boolean("shared-scorer", "Shared scorer",
          "Share one recognition model and scoring thread with the other faceqan elements of the "
          "process that have the same recognizer-model, device, threads, epsilon, iterations, "
          "samples, exponent, seed and precision: their faces are batched together, round-robin between "
          "streams, and each element still releases its own frames in order. false: this "
          "element loads and runs its own",
          kDefaultSharedScorer, ready_flags));

  gst_element_class_set_static_metadata(element_class, "FaceQAN face quality",
      "Filter/Analyzer/Video",
      "Detects faces and rates their quality for face recognition with FaceQAN; attaches "
      "region-of-interest metadata and can drop frames without a good face",
      "faceqan-gst developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_faceqan_change_state);

  gst_type_mark_as_plugin_api(GST_TYPE_FACEQAN_OVERLOAD, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_FACEQAN_MODE, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_FACEQAN_SCORING, static_cast<GstPluginAPIFlags>(0));
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
  auto string_value = [value] {
    const gchar* text = g_value_get_string(value);
    return std::string(text != nullptr ? text : "");
  };
  bool queue_changed = false;
  switch (prop_id) {
    case PROP_DETECTOR_MODEL: s.detector_model = string_value(); break;
    case PROP_RECOGNIZER_MODEL: s.recognizer_model = string_value(); break;
    case PROP_DEVICE: s.device = string_value().empty() ? kDefaultDevice : string_value(); break;
    case PROP_PRECISION:
      s.precision = static_cast<faceqan::Precision>(g_value_get_enum(value));
      break;
    case PROP_THREADS: s.threads = g_value_get_uint(value); break;
    case PROP_EPSILON: s.epsilon = g_value_get_double(value); break;
    case PROP_ITERATIONS: s.iterations = g_value_get_uint(value); break;
    case PROP_SAMPLES: s.samples = g_value_get_uint(value); break;
    case PROP_EXPONENT: s.exponent = g_value_get_uint(value); break;
    case PROP_SEED: s.seed = g_value_get_int64(value); break;
    case PROP_BATCH_SIZE: s.batch_size = g_value_get_uint(value); queue_changed = true; break;
    case PROP_MAX_LATENCY: s.max_latency = g_value_get_uint(value); queue_changed = true; break;
    case PROP_QUEUE_SIZE: s.queue_size = g_value_get_uint(value); queue_changed = true; break;
    case PROP_OVERLOAD:
      s.overload = static_cast<OverloadPolicy>(g_value_get_enum(value));
      queue_changed = true;
      break;
    case PROP_DETECTION_THRESHOLD: s.detection_threshold = g_value_get_double(value); break;
    case PROP_MIN_FACE_SIZE: s.min_face_size = g_value_get_uint(value); break;
    case PROP_MAX_FACES: s.max_faces = g_value_get_uint(value); break;
    case PROP_DETECTION_INTERVAL: s.detection_interval = g_value_get_uint(value); break;
    case PROP_USE_UPSTREAM_ROIS: s.use_upstream_rois = g_value_get_boolean(value); break;
    case PROP_QUALITY_THRESHOLD: s.quality_threshold = g_value_get_double(value); break;
    case PROP_MODE: s.mode = static_cast<Mode>(g_value_get_enum(value)); break;
    case PROP_DROP_GAPS: s.drop_gaps = g_value_get_boolean(value); break;
    case PROP_ATTACH_EMBEDDING: s.attach_embedding = g_value_get_boolean(value); break;
    case PROP_DRAW: s.draw = g_value_get_boolean(value); break;
    case PROP_MESSAGE: s.message = g_value_get_boolean(value); break;
    case PROP_STATS_INTERVAL: s.stats_interval = g_value_get_uint(value); break;
    case PROP_SCORING: s.scoring = static_cast<Scoring>(g_value_get_enum(value)); break;
    case PROP_BUDGET_MIN_INTERVAL: s.budget_min_interval = g_value_get_uint(value); break;
    case PROP_BUDGET_MAX_RATE: s.budget_max_rate = g_value_get_double(value); break;
    case PROP_BUDGET_MARGIN: s.budget_margin = g_value_get_double(value); break;
    case PROP_BUDGET_MIN_EYE_DISTANCE: s.budget_min_eye_distance = g_value_get_double(value); break;
    case PROP_TRACK_MAX_MISSED: s.track_max_missed = g_value_get_uint(value); break;
    case PROP_TRACK_MIN_SIMILARITY: s.track_min_similarity = g_value_get_double(value); break;
    case PROP_BEST_FRAMES: s.best_frames = g_value_get_boolean(value); break;
    case PROP_BEST_LOCATION: s.best_location = string_value(); break;
    case PROP_BEST_SAVE_FRAME: s.best_save_frame = g_value_get_boolean(value); break;
    case PROP_BEST_INTERVAL: s.best_interval = g_value_get_uint(value); break;
    case PROP_JSON_LOCATION: s.json_location = string_value(); break;
    case PROP_CALIBRATION: s.calibration = string_value(); break;
    case PROP_SHARED_SCORER: s.shared_scorer = g_value_get_boolean(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  const faceqan::gst::QueueLimits limits = s.queue_limits();
  GST_OBJECT_UNLOCK(self);
  if (queue_changed) self->state->queue.set_limits(limits);
}

static void gst_faceqan_get_property(GObject* object, guint prop_id, GValue* value,
                                     GParamSpec* pspec) {
  GstFaceQan* self = GST_FACEQAN(object);
  GST_OBJECT_LOCK(self);
  const Settings& s = self->state->settings;
  switch (prop_id) {
    case PROP_DETECTOR_MODEL: g_value_set_string(value, s.detector_model.c_str()); break;
    case PROP_RECOGNIZER_MODEL: g_value_set_string(value, s.recognizer_model.c_str()); break;
    case PROP_DEVICE: g_value_set_string(value, s.device.c_str()); break;
    case PROP_PRECISION: g_value_set_enum(value, static_cast<gint>(s.precision)); break;
    case PROP_THREADS: g_value_set_uint(value, s.threads); break;
    case PROP_EPSILON: g_value_set_double(value, s.epsilon); break;
    case PROP_ITERATIONS: g_value_set_uint(value, s.iterations); break;
    case PROP_SAMPLES: g_value_set_uint(value, s.samples); break;
    case PROP_EXPONENT: g_value_set_uint(value, s.exponent); break;
    case PROP_SEED: g_value_set_int64(value, s.seed); break;
    case PROP_BATCH_SIZE: g_value_set_uint(value, s.batch_size); break;
    case PROP_MAX_LATENCY: g_value_set_uint(value, s.max_latency); break;
    case PROP_QUEUE_SIZE: g_value_set_uint(value, s.queue_size); break;
    case PROP_OVERLOAD: g_value_set_enum(value, static_cast<gint>(s.overload)); break;
    case PROP_DETECTION_THRESHOLD: g_value_set_double(value, s.detection_threshold); break;
    case PROP_MIN_FACE_SIZE: g_value_set_uint(value, s.min_face_size); break;
    case PROP_MAX_FACES: g_value_set_uint(value, s.max_faces); break;
    case PROP_DETECTION_INTERVAL: g_value_set_uint(value, s.detection_interval); break;
    case PROP_USE_UPSTREAM_ROIS: g_value_set_boolean(value, s.use_upstream_rois); break;
    case PROP_QUALITY_THRESHOLD: g_value_set_double(value, s.quality_threshold); break;
    case PROP_MODE: g_value_set_enum(value, static_cast<gint>(s.mode)); break;
    case PROP_DROP_GAPS: g_value_set_boolean(value, s.drop_gaps); break;
    case PROP_ATTACH_EMBEDDING: g_value_set_boolean(value, s.attach_embedding); break;
    case PROP_DRAW: g_value_set_boolean(value, s.draw); break;
    case PROP_MESSAGE: g_value_set_boolean(value, s.message); break;
    case PROP_STATS_INTERVAL: g_value_set_uint(value, s.stats_interval); break;
    case PROP_SCORING: g_value_set_enum(value, static_cast<gint>(s.scoring)); break;
    case PROP_BUDGET_MIN_INTERVAL: g_value_set_uint(value, s.budget_min_interval); break;
    case PROP_BUDGET_MAX_RATE: g_value_set_double(value, s.budget_max_rate); break;
    case PROP_BUDGET_MARGIN: g_value_set_double(value, s.budget_margin); break;
    case PROP_BUDGET_MIN_EYE_DISTANCE: g_value_set_double(value, s.budget_min_eye_distance); break;
    case PROP_TRACK_MAX_MISSED: g_value_set_uint(value, s.track_max_missed); break;
    case PROP_TRACK_MIN_SIMILARITY: g_value_set_double(value, s.track_min_similarity); break;
    case PROP_BEST_FRAMES: g_value_set_boolean(value, s.best_frames); break;
    case PROP_BEST_LOCATION: g_value_set_string(value, s.best_location.c_str()); break;
    case PROP_BEST_SAVE_FRAME: g_value_set_boolean(value, s.best_save_frame); break;
    case PROP_BEST_INTERVAL: g_value_set_uint(value, s.best_interval); break;
    case PROP_JSON_LOCATION: g_value_set_string(value, s.json_location.c_str()); break;
    case PROP_CALIBRATION: g_value_set_string(value, s.calibration.c_str()); break;
    case PROP_SHARED_SCORER: g_value_set_boolean(value, s.shared_scorer); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
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

// Idle models kept per process for the next start (model_pool.h): enough for a few elements
// restarting together. Never destroyed: a model may be given back while the process exits.
constexpr std::size_t kIdleModels = 8;
faceqan::gst::ModelPool<faceqan::RetinaFaceDetector>& detector_pool() {
  static auto* pool = new faceqan::gst::ModelPool<faceqan::RetinaFaceDetector>(kIdleModels);
  return *pool;
}
faceqan::gst::ModelPool<faceqan::RecognitionModel>& recognizer_pool() {
  static auto* pool = new faceqan::gst::ModelPool<faceqan::RecognitionModel>(kIdleModels);
  return *pool;
}

// The model files the settings name, and what identifies their contents now.
struct ModelFiles {
  std::string detector_path, recognizer_path;
  std::string detector_key, recognizer_key;  // pool keys
  std::string key;                           // Models::key
};

static ModelFiles resolve_model_files(const Settings& s) {
  using faceqan::gst::file_identity;
  ModelFiles files;
  files.detector_path = faceqan::find_model(
      s.detector_model.empty() ? faceqan::kDefaultDetectionModel : s.detector_model);
  files.recognizer_path = faceqan::find_model(
      s.recognizer_model.empty() ? faceqan::kDefaultRecognitionModel : s.recognizer_model);
  // Each model with the description file it reads beside it.
  files.detector_key =
      file_identity(files.detector_path) + '\n' +
      file_identity(std::filesystem::path(files.detector_path).replace_extension(".json").string());
  const std::string description = faceqan::find_model_description(files.recognizer_path);
  files.recognizer_key = file_identity(files.recognizer_path) + '\n' +
                         (description.empty() ? "" : file_identity(description)) + '\n' +
                         s.device;
  files.key = s.model_key() + '\n' + files.detector_key + '\n' + files.recognizer_key;
  return files;
}

// What elements must agree on to share a scorer: the recognition model file (resolved), the
// device it runs on (auto resolved), the CPU threads and every FaceQAN setting that changes a
// score (epsilon, iterations, samples, exponent, seed, precision). Batching settings (batch-size,
// max-latency, queue-size, overload) and everything about detection, tracking and the budget
// stay per element.
static std::string shared_scorer_key(const ModelFiles& files, const Settings& s) {
  // The file by its contents' identity: a model replaced on disk is not shared with its old self.
  std::error_code ignored;
  std::string path = std::filesystem::weakly_canonical(files.recognizer_path, ignored).string();
  if (path.empty()) path = files.recognizer_path;
  path += '\n' + files.recognizer_key;
  std::string device = s.device;
  if (device == "auto") device = faceqan::cuda_available() ? "cuda:0" : "cpu";
  if (device == "cuda") device = "cuda:0";
  char epsilon[32];
  g_ascii_dtostr(epsilon, sizeof epsilon, s.epsilon);  // exact, locale-independent
  return path + '\n' + device + '\n' + std::to_string(s.threads) + '\n' + epsilon + '\n' +
         std::to_string(s.iterations) + '\n' + std::to_string(s.samples) + '\n' +
         std::to_string(s.exponent) + '\n' + std::to_string(s.seed) + '\n' +
         faceqan::precision_name(s.precision);
}

// Loads the recognizer and builds the FaceQAN scorer behind a SharedScorer.
static std::shared_ptr<SharedScorer> make_scorer(const ModelFiles& files, const Settings& s) {
  std::shared_ptr<faceqan::RecognitionModel> recognizer =
      recognizer_pool().take(files.recognizer_key, [&] {
        return faceqan::load_recognition_model(files.recognizer_path, s.device);
      });
  faceqan::FaceQanSettings scoring;
  scoring.epsilon = s.epsilon;
  scoring.iterations = static_cast<int>(s.iterations);
  scoring.samples = static_cast<int>(s.samples);
  scoring.exponent = static_cast<int>(s.exponent);
  scoring.seed = s.seed;
  scoring.precision = s.precision;
  scoring.validate();
  auto scorer = std::make_shared<faceqan::FaceQanScorer>(recognizer, scoring);
  const faceqan::ModelContract& contract = recognizer->contract();
  const cv::Size size(contract.input_width, contract.input_height);
  SharedScorer::Info info;
  info.input_width = size.width;
  info.input_height = size.height;
  info.description = "recognizer " + recognizer->source() + " on " + recognizer->device() +
                     ", seed " + std::to_string(scorer->seed());
  // Only the scorer's worker thread calls this.
  return std::make_shared<SharedScorer>(
      [scorer, size](const std::vector<PendingFace>& faces) {
        std::vector<faceqan::FaceImage> images;
        images.reserve(faces.size());
        for (const PendingFace& face : faces) {
          images.push_back({face.pixels.data(), size.width, size.height, face.key});
        }
        std::vector<faceqan::FaceQuality> qualities = scorer->score(images);
        // The pass's tensors are freed by now; without this the allocator's per-thread arenas
        // keep their pages and the element's resident size creeps up for thousands of frames.
        faceqan::release_free_memory();
        return qualities;
      },
      std::move(info));
}

static void load_models(Models& models, const Settings& s, const ModelFiles& files) {
  faceqan::set_cpu_threads(static_cast<int>(s.threads));
  Models loaded;
  loaded.key = files.key;
  loaded.detector = detector_pool().take(files.detector_key, [&] {
    return std::make_shared<faceqan::RetinaFaceDetector>(files.detector_path,
                                                         s.detector_settings());
  });
  loaded.detector->set_settings(s.detector_settings());  // a reused one has its last user's
  loaded.scorer = s.shared_scorer
                      ? SharedScorer::acquire(shared_scorer_key(files, s),
                                              [&] { return make_scorer(files, s); })
                      : make_scorer(files, s);
  const SharedScorer::Info& info = loaded.scorer->info();
  loaded.crop_size = cv::Size(info.input_width, info.input_height);
  models = std::move(loaded);
}

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
    emit_best_frames(self, settings_snapshot(self), st.best.take_all());
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
      emit_best_frames(self, settings_snapshot(self), st.best.take_all());
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

static void post_stats(GstFaceQan* self, const Settings& s, bool final_message) {
  State& st = *self->state;
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
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_element(GST_OBJECT(self), structure));
  stats.interval_start = now;
  stats.interval_frames = stats.interval_detected = 0;
  stats.latency_sum = stats.latency_max = {};
}

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

// Posts, saves and exports best frames handed out by the selector.
static void emit_best_frames(GstFaceQan* self, const Settings& s, std::vector<BestFrame> bests) {
  State& st = *self->state;
  for (BestFrame& best : bests) {
    if (!s.best_location.empty()) {
      try {
        faceqan::gst::save_best_frame(&best, s.best_location, s.best_save_frame);
      } catch (const std::exception& e) {
        // A full disk should not stop the video: warn, and still post the message.
        GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("Cannot save a best frame: %s", e.what()),
                            (nullptr));
      }
    }
    gst_element_post_message(
        GST_ELEMENT(self),
        gst_message_new_element(GST_OBJECT(self), faceqan::gst::best_message_structure(best)));
    try {
      st.json.write_best(best);
    } catch (const std::exception& e) {
      GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
    }
  }
}

// Each face's published result: its score, or its track's latest one (scored=false). Scores
// also go back to the budget and become their track's latest.
static std::vector<FaceResult> face_results(State& st, const Settings& s, const QueuedItem& item,
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
static void offer_best_frames(State& st, const Settings& s, QueuedItem& item,
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
        whole_frame = faceqan::gst::bgr_copy(image, format);
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
static bool finish_frame(GstFaceQan* self, const Settings& s, Queue::Finished& finished,
                         GstBuffer* buffer) {
  State& st = *self->state;
  QueuedItem& item = finished.payload;
  const std::vector<FaceResult> results = face_results(st, s, item, finished.results);
  // Before drawing: the saved frames are the video's own pixels.
  if (s.best_frames) {
    try {
      offer_best_frames(st, s, item, results, buffer);
    } catch (const std::exception& e) {
      GST_ELEMENT_WARNING(self, STREAM, FAILED, ("Cannot keep a best frame: %s", e.what()),
                          (nullptr));
    }
  }
  try {
    st.json.write_frame(GST_BUFFER_PTS(buffer), GST_VIDEO_INFO_WIDTH(&item.info),
                        GST_VIDEO_INFO_HEIGHT(&item.info), item.faces, results);
  } catch (const std::exception& e) {
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
  }
  faceqan::gst::attach_face_metas(buffer, item.info, item.faces, results, s.attach_embedding);
  if (s.draw && !item.faces.empty()) {
    GstVideoFrame frame;
    GstVideoInfo info = item.info;
    if (gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE)) {
      faceqan::gst::draw_faces(&frame, item.faces, results, s.quality_threshold);
      gst_video_frame_unmap(&frame);
    }
  }
  if (s.message) {
    GstStructure* structure =
        faceqan::gst::frame_message_structure(buffer, item.info, st.segment, item.faces, results);
    gst_element_post_message(GST_ELEMENT(self),
                             gst_message_new_element(GST_OBJECT(self), structure));
  }
  // Every face of an ended track has left by now: its best frame is final.
  if (s.best_frames) {
    emit_best_frames(self, s, st.best.end_tracks(item.ended_tracks));
    if (s.best_interval > 0 && GST_BUFFER_PTS_IS_VALID(buffer)) {
      emit_best_frames(self, s,
                       st.best.take_due(static_cast<double>(GST_BUFFER_PTS(buffer)) / GST_SECOND,
                                        s.best_interval));
    }
  }
  for (TrackId ended : item.ended_tracks) st.latest_score.erase(ended);

  if (s.mode != Mode::kDrop) return true;
  return std::any_of(results.begin(), results.end(), [&s](const FaceResult& r) {
    return r.has_quality && r.quality.quality >= s.quality_threshold;
  });
}

static GstFlowReturn push_finished(GstFaceQan* self, Queue::Finished& finished) {
  State& st = *self->state;
  const Settings s = settings_snapshot(self);
  GstMiniObject* object = finished.payload.object.release();

  if (GST_IS_EVENT(object)) {
    GstEvent* event = GST_EVENT_CAST(object);
    if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) gst_event_copy_segment(event, &st.segment);
    const bool eos = GST_EVENT_TYPE(event) == GST_EVENT_EOS;
    // Every frame has left: the open tracks' best frames are final.
    if (eos && s.best_frames) emit_best_frames(self, s, st.best.take_all());
    if (eos && s.stats_interval > 0) post_stats(self, s, true);
    gst_pad_push_event(self->srcpad, event);
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
  if (finish_frame(self, s, finished, buffer)) {
    ++stats.frames_out;
    ret = gst_pad_push(self->srcpad, buffer);
  } else {
    GST_LOG_OBJECT(self, "mode=drop: no good face at %" GST_TIME_FORMAT,
                   GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
    ++stats.dropped;
    if (s.drop_gaps && GST_BUFFER_PTS_IS_VALID(buffer)) {
      gst_pad_push_event(self->srcpad,
                         gst_event_new_gap(GST_BUFFER_PTS(buffer), GST_BUFFER_DURATION(buffer)));
    }
    gst_buffer_unref(buffer);
  }
  post_stats(self, s, false);
  return ret;
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
      ret = push_finished(self, *work.finished);
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
