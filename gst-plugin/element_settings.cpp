#include "element_settings.h"

#include <string>

namespace faceqan::gst {
namespace {

// The property ids, in installation order (gst-inspect lists them so).
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
  PROP_BEST_SAME_PERSON,
  PROP_JSON_LOCATION,
  PROP_CALIBRATION,
  PROP_SHARED_SCORER,
};

// The enum properties' types, registered with GObject once per process.
#define GST_TYPE_FACEQAN_OVERLOAD (gst_faceqan_overload_get_type())
GType gst_faceqan_overload_get_type() {
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
GType gst_faceqan_precision_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(Precision::kFloat32), "IEEE float32 (TF32 off on CUDA)", "fp32"},
      {static_cast<gint>(Precision::kTF32),
       "float32 with TF32 tensor-core convolutions and products on CUDA; fp32 on the CPU", "tf32"},
      {static_cast<gint>(Precision::kFloat16),
       "The network in half precision (CUDA; not on Debian's CPU LibTorch)", "fp16"},
      {static_cast<gint>(Precision::kBFloat16),
       "The network in bfloat16 (CUDA on Ampere or later; CPUs with oneDNN bfloat16 support)",
       "bf16"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    g_once_init_leave(&type, g_enum_register_static("GstFaceQanPrecision", values));
  }
  return type;
}

#define GST_TYPE_FACEQAN_MODE (gst_faceqan_mode_get_type())
GType gst_faceqan_mode_get_type() {
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
GType gst_faceqan_scoring_get_type() {
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

}  // namespace

void install_properties(GObjectClass* klass) {
  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const auto ready_flags = static_cast<GParamFlags>(flags | GST_PARAM_MUTABLE_READY);
  const auto playing_flags = static_cast<GParamFlags>(flags | GST_PARAM_MUTABLE_PLAYING);

  g_object_class_install_property(klass, PROP_DETECTOR_MODEL,
      g_param_spec_string("detector-model", "Detector model",
          "RetinaFace ONNX model: a file, or a name under the model path (FACEQAN_MODEL_PATH, then "
          "the build's or the installation's models folder). Empty: the default model, "
          "detection/retinaface_mnet025_640.onnx",
          "", ready_flags));
  g_object_class_install_property(klass, PROP_RECOGNIZER_MODEL,
      g_param_spec_string("recognizer-model", "Recognizer model",
          "Face recognition model whose embeddings FaceQAN attacks (.onnx, or TorchScript .pt), "
          "a file or a name under the model path. Empty: the default model, "
          "recognition/mobilefacenet512_faceplugin.onnx. Scores are only comparable between runs "
          "with the same model",
          "", ready_flags));
  g_object_class_install_property(klass, PROP_DEVICE,
      g_param_spec_string("device", "Device",
          "Where the recognition model runs: auto (a GPU if LibTorch has CUDA and sees one, else "
          "the CPU), cpu, cuda or cuda:N. Asking for cuda without one fails the start",
          kDefaultDevice, ready_flags));
  g_object_class_install_property(klass, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision",
          "The recognition network's number format while scoring: fp32, tf32, fp16 or bf16. "
          "Similarities and scores stay float32/double. Lower precision is faster and ranks "
          "faces of mixed quality as fp32 does (bf16: Spearman 0.99 on the development set, "
          "docs/PERFORMANCE.md), but single scores move by a few hundredths, as between seeds; "
          "a precision the device cannot run fails the start",
          GST_TYPE_FACEQAN_PRECISION, static_cast<gint>(kDefaultPrecision), ready_flags));
  g_object_class_install_property(klass, PROP_THREADS,
      g_param_spec_uint("threads", "Threads",
          "CPU threads LibTorch uses for scoring (process-wide); 0: all cores",
          0, kMaxThreads, kDefaultThreads, ready_flags));
  g_object_class_install_property(klass, PROP_EPSILON,
      g_param_spec_double("epsilon", "Epsilon",
          "FaceQAN's noise amplitude and attack step, on the [0, 1] pixel scale (paper: 0.001)",
          kMinEpsilon, kMaxEpsilon, kDefaultEpsilon, ready_flags));
  g_object_class_install_property(klass, PROP_ITERATIONS,
      g_param_spec_uint("iterations", "Iterations",
          "FaceQAN's attack steps per face (l, paper: 5). Cost grows linearly; 2 keeps most of the "
          "ranking at less than half the cost",
          kMinIterations, kMaxIterations, kDefaultIterations, ready_flags));
  g_object_class_install_property(klass, PROP_SAMPLES,
      g_param_spec_uint("samples", "Samples",
          "FaceQAN's noisy copies per face (k, paper: 10). Cost grows linearly",
          kMinSamples, kMaxSamples, kDefaultSamples, ready_flags));
  g_object_class_install_property(klass, PROP_EXPONENT,
      g_param_spec_uint("exponent", "Exponent",
          "FaceQAN's final power (p, paper: 5): spreads the scores apart without changing their "
          "order. Thresholds depend on it",
          kMinExponent, kMaxExponent, kDefaultExponent, ready_flags));
  g_object_class_install_property(klass, PROP_SEED,
      g_param_spec_int64("seed", "Seed",
          "Seed of FaceQAN's noise; the same seed, faces and thread count give the same scores. "
          "-1: a random seed per start",
          kMinSeed, kMaxSeed, kDefaultSeed, ready_flags));
  g_object_class_install_property(klass, PROP_BATCH_SIZE,
      g_param_spec_uint("batch-size", "Batch size",
          "The most faces scored together (from consecutive frames). Larger batches use the "
          "CPU/GPU better but make frames wait for each other",
          kMinBatchSize, kMaxBatchSize, kDefaultBatchSize, playing_flags));
  g_object_class_install_property(klass, PROP_MAX_LATENCY,
      g_param_spec_uint("max-latency", "Maximum latency",
          "The longest a face waits for a fuller batch, in milliseconds; then whatever is waiting "
          "is scored. Reported in the LATENCY query, plus the longest scoring time seen",
          0, kMaxMaxLatency, kDefaultMaxLatency, playing_flags));
  g_object_class_install_property(klass, PROP_QUEUE_SIZE,
      g_param_spec_uint("queue-size", "Queue size",
          "The most frames held waiting for scores (and behind them); when full, overload "
          "decides",
          kMinQueueSize, kMaxQueueSize, kDefaultQueueSize, playing_flags));
  g_object_class_install_property(klass, PROP_OVERLOAD,
      g_param_spec_enum("overload", "Overload",
          "What to do with a frame that arrives while the queue is full: block for files, skip "
          "or drop for live sources",
          GST_TYPE_FACEQAN_OVERLOAD, static_cast<gint>(kDefaultOverload), playing_flags));
  g_object_class_install_property(klass, PROP_DETECTION_THRESHOLD,
      g_param_spec_double("detection-threshold", "Detection threshold",
          "The detector's confidence below which a face is ignored",
          0.0, 1.0, kDefaultDetectionThreshold, playing_flags));
  g_object_class_install_property(klass, PROP_MIN_FACE_SIZE,
      g_param_spec_uint("min-face-size", "Minimum face size",
          "Faces whose box is narrower or shorter than this many pixels are ignored (0: keep "
          "all). Faces under about 40 pixels score low anyway and cost as much as large ones",
          0, kMaxMinFaceSize, kDefaultMinFaceSize, playing_flags));
  g_object_class_install_property(klass, PROP_MAX_FACES,
      g_param_spec_uint("max-faces", "Maximum faces",
          "Keep at most this many of the detector's faces per frame, the largest ones: the others "
          "are neither published nor scored (0: no limit). Regions from use-upstream-rois are "
          "all kept",
          0, kMaxMaxFaces, kDefaultMaxFaces, playing_flags));
  g_object_class_install_property(klass, PROP_DETECTION_INTERVAL,
      g_param_spec_uint("detection-interval", "Detection interval",
          "Run the detector on every N-th frame and reuse its faces on the frames in between "
          "(they are still aligned and scored on each frame); 1: every frame",
          kMinDetectionInterval, kMaxDetectionInterval, kDefaultDetectionInterval,
          playing_flags));
  g_object_class_install_property(klass, PROP_USE_UPSTREAM_ROIS,
      g_param_spec_boolean("use-upstream-rois", "Use upstream ROIs",
          "Score the \"face\" region-of-interest metas already on the buffer (from another "
          "detector) instead of running the detector. Landmarks come from a parameter with a "
          "\"landmarks\" field if there is one, else they are estimated from the box",
          kDefaultUseUpstreamRois, playing_flags));
  g_object_class_install_property(klass, PROP_QUALITY_THRESHOLD,
      g_param_spec_double("quality-threshold", "Quality threshold",
          "The quality a face needs to pass in mode=drop (and to be drawn green). 0.5: with the "
          "default model and FaceQAN settings, sharp faces measured 0.67-0.79 and the same faces "
          "blurred 0.19-0.42. Fewer iterations/samples raise all scores: choose it per model "
          "and settings",
          0.0, 1.0, kDefaultQualityThreshold, playing_flags));
  g_object_class_install_property(klass, PROP_MODE,
      g_param_spec_enum("mode", "Mode",
          "annotate: every frame passes with its metadata; drop: only frames with a face of "
          "quality >= quality-threshold pass",
          GST_TYPE_FACEQAN_MODE, static_cast<gint>(kDefaultMode), playing_flags));
  g_object_class_install_property(klass, PROP_DROP_GAPS,
      g_param_spec_boolean("drop-gaps", "Drop gaps",
          "Send a GAP event in place of each dropped frame, so that downstream (a muxer, a live "
          "sink) knows the time is covered",
          kDefaultDropGaps, playing_flags));
  g_object_class_install_property(klass, PROP_ATTACH_EMBEDDING,
      g_param_spec_boolean("attach-embedding", "Attach embedding",
          "Add each scored face's L2-normalised embedding to its \"faceqan\" parameter (an array "
          "of floats), e.g. for matching downstream",
          kDefaultAttachEmbedding, playing_flags));
  g_object_class_install_property(klass, PROP_DRAW,
      g_param_spec_boolean("draw", "Draw",
          "Draw each face's box, landmarks and quality on the frame (green: at or above "
          "quality-threshold, red: below, grey: not scored; YUV frames: on the luma plane)",
          kDefaultDraw, playing_flags));
  g_object_class_install_property(klass, PROP_MESSAGE,
      g_param_spec_boolean("message", "Message",
          "Post a \"faceqan\" element message on the bus for each frame (fields in the element's "
          "documentation and docs/METADATA.md)",
          kDefaultMessage, playing_flags));
  g_object_class_install_property(klass, PROP_STATS_INTERVAL,
      g_param_spec_uint("stats-interval", "Statistics interval",
          "Post a \"faceqan-stats\" message (frames in and out, faces per second, queue depth, "
          "skipped and dropped frames, latency) every this many milliseconds, and at EOS; 0: off",
          0, kMaxStatsInterval, kDefaultStatsInterval, playing_flags));

  g_object_class_install_property(klass, PROP_SCORING,
      g_param_spec_enum("scoring", "Scoring",
          "Which faces get a FaceQAN pass: every-face, or budget (a track's first usable face, "
          "then faces whose cheap signals say they may beat the track's best; budget-*)",
          GST_TYPE_FACEQAN_SCORING, static_cast<gint>(kDefaultScoring), playing_flags));
  g_object_class_install_property(klass, PROP_BUDGET_MIN_INTERVAL,
      g_param_spec_uint("budget-min-interval", "Budget minimum interval",
          "scoring=budget: the least time between two scorings of one track, in milliseconds of "
          "stream time (frame timestamps)",
          0, kMaxBudgetMinInterval, kDefaultBudgetMinInterval, playing_flags));
  g_object_class_install_property(klass, PROP_BUDGET_MAX_RATE,
      g_param_spec_double("budget-max-rate", "Budget maximum rate",
          "scoring=budget: the most faces scored per second of stream time, all tracks together "
          "(bursts of up to one second's worth); 0: no cap",
          0.0, kMaxBudgetMaxRate, kDefaultBudgetMaxRate, playing_flags));
  g_object_class_install_property(klass, PROP_BUDGET_MARGIN,
      g_param_spec_double("budget-margin", "Budget margin",
          "scoring=budget: the cheap signals only roughly predict FaceQAN, so a face whose "
          "promise is at most this fraction below that of the track's best-scored face may "
          "still beat it and is scored. 0: only faces that promise more; 1: every usable face",
          0.0, kMaxBudgetMargin, kDefaultBudgetMargin, playing_flags));
  g_object_class_install_property(klass, PROP_BUDGET_MIN_EYE_DISTANCE,
      g_param_spec_double("budget-min-eye-distance", "Budget minimum eye distance",
          "scoring=budget: faces whose eyes are closer than this many pixels are not usable and "
          "never scored",
          0.0, kMaxBudgetMinEyeDistance, kDefaultBudgetMinEyeDistance, playing_flags));
  g_object_class_install_property(klass, PROP_TRACK_MAX_MISSED,
      g_param_spec_uint("track-max-missed", "Track maximum missed",
          "Frames a track survives without a matching face before it ends",
          0, kMaxTrackMaxMissed, kDefaultTrackMaxMissed, playing_flags));
  g_object_class_install_property(klass, PROP_TRACK_MIN_SIMILARITY,
      g_param_spec_double("track-min-similarity", "Track minimum similarity",
          "How alike a face and a track's last face must be to continue the track: the mean of "
          "the boxes' intersection over union and the landmarks' closeness",
          0.0, 1.0, kDefaultTrackMinSimilarity, playing_flags));
  g_object_class_install_property(klass, PROP_BEST_FRAMES,
      g_param_spec_boolean("best-frames", "Best frames",
          "Keep each track's best-quality frame and post a \"faceqan-best\" message when the "
          "track ends, at EOS and every best-interval seconds (frames flow on untouched)",
          kDefaultBestFrames, ready_flags));
  g_object_class_install_property(klass, PROP_BEST_LOCATION,
      g_param_spec_string("best-location", "Best location",
          "With best-frames: save each track's best aligned crop to this path pattern, with one "
          "integer conversion for the track id, or the person id with best-same-person (e.g. "
          "enroll/person-%05u.png); any other conversion fails the start. Empty: save nothing",
          "", ready_flags));
  g_object_class_install_property(klass, PROP_BEST_SAVE_FRAME,
      g_param_spec_boolean("best-save-frame", "Best save frame",
          "With best-location: also save the whole frame, with \"-frame\" before the extension",
          kDefaultBestSaveFrame, ready_flags));
  g_object_class_install_property(klass, PROP_BEST_INTERVAL,
      g_param_spec_uint("best-interval", "Best interval",
          "With best-frames: also hand out a live track's best frame every this many seconds "
          "(stream time) if it improved; 0: only when the track ends",
          0, kMaxBestInterval, kDefaultBestInterval, playing_flags));
  g_object_class_install_property(klass, PROP_BEST_SAME_PERSON,
      g_param_spec_double("best-same-person", "Best same person",
          "With best-frames: a new track whose best face's embedding (the recognition model's) "
          "has at least this cosine similarity to an earlier person's is that person again, "
          "unless the two were on screen together or either face is below quality-threshold: "
          "its messages carry that person-id, and best-location keeps one crop per person, "
          "replaced only by a better one. 0: off, every track is a person. The scale depends on "
          "the model: with the default one, photos of one person measured 0.35-0.82 and of "
          "different people at most 0.27, so 0.6 joins only clear matches (docs/METADATA.md)",
          0.0, 1.0, kDefaultBestSamePerson, playing_flags));
  g_object_class_install_property(klass, PROP_JSON_LOCATION,
      g_param_spec_string("json-location", "JSON location",
          "Write a JSON-lines file: one line per frame with faces in gvametaconvert's layout, "
          "and one {\"event\": \"best\"} line per best frame (docs/METADATA.md). Empty: none",
          "", ready_flags));
  g_object_class_install_property(klass, PROP_CALIBRATION,
      g_param_spec_string("calibration", "Calibration",
          "A calibration file written by `faceqan eval --calibration` for the recognition model "
          "in use. When set, every quality also gets quality-100: its percentile rank (0-100, "
          "monotone) among the calibration images (docs/EVALUATION.md). A missing or malformed "
          "file fails the start. Empty: no quality-100",
          "", ready_flags));
  g_object_class_install_property(klass, PROP_SHARED_SCORER,
      g_param_spec_boolean("shared-scorer", "Shared scorer",
          "Share one recognition model and scoring thread with the other faceqan elements of the "
          "process that have the same recognizer-model, device, threads, epsilon, iterations, "
          "samples, exponent, seed and precision: their faces are batched together, round-robin between "
          "streams, and each element still releases its own frames in order. false: this "
          "element loads and runs its own",
          kDefaultSharedScorer, ready_flags));

  gst_type_mark_as_plugin_api(GST_TYPE_FACEQAN_OVERLOAD, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_FACEQAN_MODE, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_FACEQAN_SCORING, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_FACEQAN_PRECISION, static_cast<GstPluginAPIFlags>(0));
}

bool set_property(GObject* object, Settings& s, guint prop_id, const GValue* value,
                  GParamSpec* pspec) {
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
      s.precision = static_cast<Precision>(g_value_get_enum(value));
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
    case PROP_BEST_SAME_PERSON: s.best_same_person = g_value_get_double(value); break;
    case PROP_JSON_LOCATION: s.json_location = string_value(); break;
    case PROP_CALIBRATION: s.calibration = string_value(); break;
    case PROP_SHARED_SCORER: s.shared_scorer = g_value_get_boolean(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  return queue_changed;
}

void get_property(GObject* object, const Settings& s, guint prop_id, GValue* value,
                  GParamSpec* pspec) {
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
    case PROP_BEST_SAME_PERSON: g_value_set_double(value, s.best_same_person); break;
    case PROP_JSON_LOCATION: g_value_set_string(value, s.json_location.c_str()); break;
    case PROP_CALIBRATION: g_value_set_string(value, s.calibration.c_str()); break;
    case PROP_SHARED_SCORER: g_value_set_boolean(value, s.shared_scorer); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

}  // namespace faceqan::gst
