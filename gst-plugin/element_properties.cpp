// The faceqan element's properties, each declared once in kProperties: its GParamSpec (name,
// blurb, range, default, the states it may change in), the Settings member it sets and what a
// change invalidates. Installing, setting, getting and the reload key all read the table.
#include <string>

#include "element_enums.h"
#include "element_settings.h"
#include "property_binding.h"

namespace faceqan::gst {
namespace {

constexpr auto kReadWrite = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
// Model, FaceQAN and output-file settings take effect at the next start.
constexpr auto kReady = static_cast<GParamFlags>(kReadWrite | GST_PARAM_MUTABLE_READY);
constexpr auto kPlaying = static_cast<GParamFlags>(kReadWrite | GST_PARAM_MUTABLE_PLAYING);

struct Property {
  GParamSpec* (*spec)(GParamFlags flags);
  GParamFlags flags;
  Invalidates invalidates;
  Binding binding;
};

// Every property, in installation order (gst-inspect lists them so); its id is its index + 1.
const Property kProperties[] = {
    {[](GParamFlags flags) {
       return g_param_spec_string("detector-model", "Detector model",
            "RetinaFace ONNX model: a file, or a name under the model path (FACEQAN_MODEL_PATH, then "
            "the build's or the installation's models folder). Empty: the default model, "
            "detection/retinaface_mnet025_640.onnx",
            "", flags);
     },
     kReady, Invalidates::kModels, field<&Settings::models, &ModelSettings::detector_model>()},
    {[](GParamFlags flags) {
       return g_param_spec_string("recognizer-model", "Recognizer model",
            "Face recognition model whose embeddings FaceQAN attacks (.onnx, or TorchScript .pt), "
            "a file or a name under the model path. Empty: the default model, "
            "recognition/mobilefacenet512_faceplugin.onnx. Scores are only comparable between runs "
            "with the same model",
            "", flags);
     },
     kReady, Invalidates::kModels, field<&Settings::models, &ModelSettings::recognizer_model>()},
    {[](GParamFlags flags) {
       return g_param_spec_string("device", "Device",
            "Where the recognition model runs: auto (a GPU if LibTorch has CUDA and sees one, else "
            "the CPU), cpu, cuda or cuda:N. Asking for cuda without one fails the start",
            kDefaultDevice, flags);
     },
     kReady, Invalidates::kModels, device_field()},
    {[](GParamFlags flags) {
       return g_param_spec_enum("precision", "Precision",
            "The recognition network's number format while scoring: fp32, tf32, fp16 or bf16. "
            "Similarities and scores stay float32/double. Lower precision is faster and ranks "
            "faces of mixed quality as fp32 does (bf16: Spearman 0.99 on the development set, "
            "docs/PERFORMANCE.md), but single scores move by a few hundredths, as between seeds; "
            "a precision the device cannot run fails the start",
            precision_enum_type(), static_cast<gint>(kDefaultPrecision), flags);
     },
     kReady, Invalidates::kModels, field<&Settings::faceqan, &FaceQanSettings::precision>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("threads", "Threads",
            "CPU threads LibTorch uses for scoring (process-wide); 0: all cores",
            0, kMaxThreads, kDefaultThreads, flags);
     },
     kReady, Invalidates::kModels, field<&Settings::models, &ModelSettings::threads>()},
    {[](GParamFlags flags) {
       return g_param_spec_double("epsilon", "Epsilon",
            "FaceQAN's noise amplitude and attack step, on the [0, 1] pixel scale (paper: 0.001)",
            kMinEpsilon, kMaxEpsilon, kDefaultEpsilon, flags);
     },
     kReady, Invalidates::kModels, field<&Settings::faceqan, &FaceQanSettings::epsilon>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("iterations", "Iterations",
            "FaceQAN's attack steps per face (l, paper: 5). Cost grows linearly; 2 keeps most of the "
            "ranking at less than half the cost",
            kMinIterations, kMaxIterations, kDefaultIterations, flags);
     },
     kReady, Invalidates::kModels, field<&Settings::faceqan, &FaceQanSettings::iterations>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("samples", "Samples",
            "FaceQAN's noisy copies per face (k, paper: 10). Cost grows linearly",
            kMinSamples, kMaxSamples, kDefaultSamples, flags);
     },
     kReady, Invalidates::kModels, field<&Settings::faceqan, &FaceQanSettings::samples>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("exponent", "Exponent",
            "FaceQAN's final power (p, paper: 5): spreads the scores apart without changing their "
            "order. Thresholds depend on it",
            kMinExponent, kMaxExponent, kDefaultExponent, flags);
     },
     kReady, Invalidates::kModels, field<&Settings::faceqan, &FaceQanSettings::exponent>()},
    {[](GParamFlags flags) {
       return g_param_spec_int64("seed", "Seed",
            "Seed of FaceQAN's noise; the same seed, faces and thread count give the same scores. "
            "-1: a random seed per start",
            kMinSeed, kMaxSeed, kDefaultSeed, flags);
     },
     kReady, Invalidates::kModels, field<&Settings::faceqan, &FaceQanSettings::seed>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("batch-size", "Batch size",
            "The most faces scored together (from consecutive frames). 0: auto, the fastest on "
            "the device in use (on a CPU the fewest faces whose noisy copies split evenly over "
            "the threads, 1 at samples=10 on 2 threads; on a GPU 32), logged at INFO when the "
            "element starts. Larger batches on a GPU use it better but make frames wait",
            kMinBatchSize, kMaxBatchSize, kDefaultBatchSize, flags);
     },
     kPlaying, Invalidates::kQueueLimits, field<&Settings::queue, &QueueLimits::batch_size>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("max-latency", "Maximum latency",
            "The longest a face waits for a fuller batch, in milliseconds; then whatever is waiting "
            "is scored. Reported in the LATENCY query, plus the longest scoring time seen",
            0, kMaxMaxLatency, kDefaultMaxLatency, flags);
     },
     kPlaying, Invalidates::kQueueLimits, field<&Settings::queue, &QueueLimits::max_latency>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("queue-size", "Queue size",
            "The most frames held waiting for scores (and behind them); when full, overload "
            "decides. Frames wait for their own faces' scores: with scoring=budget the budget "
            "keeps that to about budget-max-pending, and the queue must hold that much video",
            kMinQueueSize, kMaxQueueSize, kDefaultQueueSize, flags);
     },
     kPlaying, Invalidates::kQueueLimits, field<&Settings::queue, &QueueLimits::capacity>()},
    {[](GParamFlags flags) {
       return g_param_spec_enum("overload", "Overload",
            "What to do with a frame that arrives while the queue is full: block for files, skip "
            "or drop for live sources",
            overload_enum_type(), static_cast<gint>(kDefaultOverload), flags);
     },
     kPlaying, Invalidates::kQueueLimits, field<&Settings::queue, &QueueLimits::overload>()},
    {[](GParamFlags flags) {
       return g_param_spec_double("detection-threshold", "Detection threshold",
            "The detector's confidence below which a face is ignored",
            0.0, 1.0, kDefaultDetectionThreshold, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::detector, &DetectorSettings::confidence_threshold>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("min-face-size", "Minimum face size",
            "Faces whose box is narrower or shorter than this many pixels are ignored (0: keep "
            "all). Faces under about 40 pixels score low anyway and cost as much as large ones",
            0, kMaxMinFaceSize, kDefaultMinFaceSize, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::detector, &DetectorSettings::min_face_size>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("max-faces", "Maximum faces",
            "Keep at most this many of the detector's faces per frame, the largest ones: the others "
            "are neither published nor scored (0: no limit). Regions from use-upstream-rois are "
            "all kept",
            0, kMaxMaxFaces, kDefaultMaxFaces, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::detector, &DetectorSettings::max_faces>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("detection-interval", "Detection interval",
            "Run the detector on every N-th frame; on the frames in between its faces are "
            "followed by optical flow (boxes and landmarks move with the faces; a face that "
            "cannot be followed is dropped and the next frame detected), and a cut to another "
            "shot is detected at once. Faces are still aligned and scored on each frame. "
            "1: every frame",
            kMinDetectionInterval, kMaxDetectionInterval, kDefaultDetectionInterval, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::detection_interval>()},
    {[](GParamFlags flags) {
       return g_param_spec_boolean("use-upstream-rois", "Use upstream ROIs",
            "Score the \"face\" region-of-interest metas already on the buffer (from another "
            "detector) instead of running the detector. Landmarks come from a parameter with a "
            "\"landmarks\" field if there is one, else they are estimated from the box",
            kDefaultUseUpstreamRois, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::use_upstream_rois>()},
    {[](GParamFlags flags) {
       return g_param_spec_double("quality-threshold", "Quality threshold",
            "The quality a face needs to pass in mode=drop (and to be drawn green). 0.5: with the "
            "default model and FaceQAN settings, sharp faces measured 0.67-0.79 and the same faces "
            "blurred 0.19-0.42. Fewer iterations/samples raise all scores: choose it per model "
            "and settings",
            0.0, 1.0, kDefaultQualityThreshold, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::output, &OutputSettings::quality_threshold>()},
    {[](GParamFlags flags) {
       return g_param_spec_enum("mode", "Mode",
            "annotate: every frame passes with its metadata; drop: only frames with a face of "
            "quality >= quality-threshold pass",
            mode_enum_type(), static_cast<gint>(kDefaultMode), flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::output, &OutputSettings::mode>()},
    {[](GParamFlags flags) {
       return g_param_spec_boolean("drop-gaps", "Drop gaps",
            "Send a GAP event in place of each dropped frame, so that downstream (a muxer, a live "
            "sink) knows the time is covered",
            kDefaultDropGaps, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::output, &OutputSettings::drop_gaps>()},
    {[](GParamFlags flags) {
       return g_param_spec_boolean("attach-embedding", "Attach embedding",
            "Add each scored face's L2-normalised embedding to its \"faceqan\" parameter (an array "
            "of floats), e.g. for matching downstream",
            kDefaultAttachEmbedding, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::output, &OutputSettings::attach_embedding>()},
    {[](GParamFlags flags) {
       return g_param_spec_boolean("draw", "Draw",
            "Draw each face's box, landmarks and quality on the frame (green: at or above "
            "quality-threshold, red: below, grey: not scored; YUV frames: on the luma plane)",
            kDefaultDraw, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::output, &OutputSettings::draw>()},
    {[](GParamFlags flags) {
       return g_param_spec_boolean("message", "Message",
            "Post a \"faceqan\" element message on the bus for each frame (fields in the element's "
            "documentation and docs/METADATA.md)",
            kDefaultMessage, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::output, &OutputSettings::message>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("stats-interval", "Statistics interval",
            "Post a \"faceqan-stats\" message (frames in and out, faces per second, queue depth, "
            "skipped and dropped frames, latency) every this many milliseconds, and at EOS; 0: off",
            0, kMaxStatsInterval, kDefaultStatsInterval, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::output, &OutputSettings::stats_interval>()},
    {[](GParamFlags flags) {
       return g_param_spec_enum("scoring", "Scoring",
            "Which faces get a FaceQAN pass: every-face, or budget (a track's first usable face, "
            "then faces whose cheap signals say they may beat the track's best; budget-*)",
            scoring_enum_type(), static_cast<gint>(kDefaultScoring), flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::scoring>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("budget-min-interval", "Budget minimum interval",
            "scoring=budget: the least time between two scorings of one track, in milliseconds of "
            "stream time (frame timestamps)",
            0, kMaxBudgetMinInterval, kDefaultBudgetMinInterval, flags);
     },
     kPlaying, Invalidates::kNothing, budget_min_interval_field()},
    {[](GParamFlags flags) {
       return g_param_spec_double("budget-max-rate", "Budget maximum rate",
            "scoring=budget: the most faces scored per second of stream time, all tracks together "
            "(bursts of up to one second's worth); 0: no cap",
            0.0, kMaxBudgetMaxRate, kDefaultBudgetMaxRate, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::budget, &BudgetSettings::max_rate>()},
    {[](GParamFlags flags) {
       return g_param_spec_double("budget-max-pending", "Budget maximum pending",
            "scoring=budget: faces admitted and not yet scored may hold at most this many seconds "
            "of the scorer's work, as measured on the scores coming back (at least one face). "
            "The budget so adapts to the scorer's capacity: frames, which wait for their faces' "
            "scores, wait about this long at most, and the scorer never falls behind the video. "
            "0: no cap",
            0.0, kMaxBudgetMaxPending, kDefaultBudgetMaxPending, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::budget, &BudgetSettings::max_pending_seconds>()},
    {[](GParamFlags flags) {
       return g_param_spec_double("budget-margin", "Budget margin",
            "scoring=budget: the cheap signals only roughly predict FaceQAN, so a face whose "
            "promise is at most this fraction below that of the track's best-scored face may "
            "still beat it and is scored. 0: only faces that promise more; 1: every usable face",
            0.0, kMaxBudgetMargin, kDefaultBudgetMargin, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::budget, &BudgetSettings::margin>()},
    {[](GParamFlags flags) {
       return g_param_spec_double("budget-min-eye-distance", "Budget minimum eye distance",
            "scoring=budget: faces whose eyes are closer than this many pixels are not usable and "
            "never scored",
            0.0, kMaxBudgetMinEyeDistance, kDefaultBudgetMinEyeDistance, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::budget, &BudgetSettings::min_eye_distance>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("track-max-missed", "Track maximum missed",
            "Frames a track survives without a matching face before it ends",
            0, kMaxTrackMaxMissed, kDefaultTrackMaxMissed, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::tracker, &TrackerSettings::max_missed>()},
    {[](GParamFlags flags) {
       return g_param_spec_double("track-min-similarity", "Track minimum similarity",
            "How alike a face and a track's last face must be to continue the track: the mean of "
            "the boxes' intersection over union and the landmarks' closeness",
            0.0, 1.0, kDefaultTrackMinSimilarity, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::faces, &FaceSettings::tracker, &TrackerSettings::min_similarity>()},
    {[](GParamFlags flags) {
       return g_param_spec_boolean("best-frames", "Best frames",
            "Keep each track's best-quality frame and post a \"faceqan-best\" message when the "
            "track ends, at EOS and every best-interval seconds (frames flow on untouched)",
            kDefaultBestFrames, flags);
     },
     kReady, Invalidates::kNothing, field<&Settings::best, &BestFrameSettings::enabled>()},
    {[](GParamFlags flags) {
       return g_param_spec_string("best-location", "Best location",
            "With best-frames: save each track's best aligned crop to this path pattern, with one "
            "integer conversion for the track id, or the person id with best-same-person (e.g. "
            "enroll/person-%05u.png); any other conversion fails the start. Empty: save nothing",
            "", flags);
     },
     kReady, Invalidates::kNothing, field<&Settings::best, &BestFrameSettings::location>()},
    {[](GParamFlags flags) {
       return g_param_spec_boolean("best-save-frame", "Best save frame",
            "With best-location: also save the whole frame, with \"-frame\" before the extension",
            kDefaultBestSaveFrame, flags);
     },
     kReady, Invalidates::kNothing, field<&Settings::best, &BestFrameSettings::save_frame>()},
    {[](GParamFlags flags) {
       return g_param_spec_uint("best-interval", "Best interval",
            "With best-frames: also hand out a live track's best frame every this many seconds "
            "(stream time) if it improved; 0: only when the track ends",
            0, kMaxBestInterval, kDefaultBestInterval, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::best, &BestFrameSettings::interval>()},
    {[](GParamFlags flags) {
       return g_param_spec_double("best-same-person", "Best same person",
            "With best-frames: a new track whose best face's embedding (the recognition model's) "
            "has at least this cosine similarity to an earlier person's is that person again, "
            "unless the two were on screen together or either face is below quality-threshold: "
            "its messages carry that person-id, and best-location keeps one crop per person, "
            "replaced only by a better one. 0: off, every track is a person. The scale depends on "
            "the model: with the default one, photos of one person measured 0.35-0.82 and of "
            "different people at most 0.27, so 0.6 joins only clear matches (docs/METADATA.md)",
            0.0, 1.0, kDefaultBestSamePerson, flags);
     },
     kPlaying, Invalidates::kNothing, field<&Settings::best, &BestFrameSettings::same_person>()},
    {[](GParamFlags flags) {
       return g_param_spec_string("json-location", "JSON location",
            "Write a JSON-lines file: one line per frame with faces in gvametaconvert's layout, "
            "and one {\"event\": \"best\"} line per best frame (docs/METADATA.md). Empty: none",
            "", flags);
     },
     kReady, Invalidates::kNothing, field<&Settings::output, &OutputSettings::json_location>()},
    {[](GParamFlags flags) {
       return g_param_spec_string("calibration", "Calibration",
            "A calibration file written by `faceqan eval --calibration` for the recognition model "
            "in use. When set, every quality also gets quality-100: its percentile rank (0-100, "
            "monotone) among the calibration images (docs/EVALUATION.md). A missing or malformed "
            "file fails the start. Empty: no quality-100",
            "", flags);
     },
     kReady, Invalidates::kNothing, field<&Settings::output, &OutputSettings::calibration>()},
    {[](GParamFlags flags) {
       return g_param_spec_string("camera-id", "Camera id",
            "Names the stream in what leaves the element for publishing: a sticky faceqan-camera "
            "event after stream-start, which faceqanpublish puts in every message and topic "
            "(<topic>/<camera-id>/...). Empty: the element's name",
            "", flags);
     },
     kReady, Invalidates::kNothing, field<&Settings::output, &OutputSettings::camera_id>()},
    {[](GParamFlags flags) {
       return g_param_spec_boolean("shared-scorer", "Shared scorer",
            "Share one recognition model and scoring thread with the other faceqan elements of the "
            "process that have the same recognizer-model, device, threads, epsilon, iterations, "
            "samples, exponent, seed and precision: their faces are batched together, round-robin between "
            "streams, and each element still releases its own frames in order. false: this "
            "element loads and runs its own",
            kDefaultSharedScorer, flags);
     },
     kReady, Invalidates::kModels, field<&Settings::models, &ModelSettings::shared_scorer>()},
};
constexpr guint kPropertyCount = G_N_ELEMENTS(kProperties);

// The specs as installed (class_init), for the reload key.
GParamSpec* installed_specs[kPropertyCount] = {};

const Property* find(guint prop_id) {
  return prop_id >= 1 && prop_id <= kPropertyCount ? &kProperties[prop_id - 1] : nullptr;
}

}  // namespace

void install_properties(GObjectClass* klass) {
  for (guint i = 0; i < kPropertyCount; ++i) {
    installed_specs[i] = kProperties[i].spec(kProperties[i].flags);
    g_object_class_install_property(klass, i + 1, installed_specs[i]);
  }
  gst_type_mark_as_plugin_api(overload_enum_type(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(mode_enum_type(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(scoring_enum_type(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(precision_enum_type(), static_cast<GstPluginAPIFlags>(0));
}

Invalidates set_property(GObject* object, Settings& s, guint prop_id, const GValue* value,
                         GParamSpec* pspec) {
  const Property* property = find(prop_id);
  if (property == nullptr) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return Invalidates::kNothing;
  }
  property->binding.set(s, value);
  return property->invalidates;
}

void get_property(GObject* object, const Settings& s, guint prop_id, GValue* value,
                  GParamSpec* pspec) {
  const Property* property = find(prop_id);
  if (property == nullptr) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  property->binding.get(s, value);
}

std::string reload_key(const Settings& s) {
  std::string key;
  for (guint i = 0; i < kPropertyCount; ++i) {
    if (kProperties[i].invalidates != Invalidates::kModels) continue;
    GParamSpec* spec = installed_specs[i];
    GValue value = G_VALUE_INIT;
    g_value_init(&value, spec->value_type);
    kProperties[i].binding.get(s, &value);
    // gst_value_serialize writes doubles with g_ascii_dtostr: exact, locale-independent.
    gchar* text = gst_value_serialize(&value);
    key += std::string(spec->name) + '=' + (text != nullptr ? text : "") + '\n';
    g_free(text);
    g_value_unset(&value);
  }
  return key;
}

}  // namespace faceqan::gst
