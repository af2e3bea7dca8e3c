// The faceqan element's settings: the values its properties hold, made of the libraries' own
// settings structs (FaceQanSettings, DetectorSettings, QueueLimits, TrackerSettings,
// BudgetSettings) plus what only the element has. Each property is declared once, in the table in
// element_properties.cpp (name, spec, member, what a change invalidates); this header has the
// defaults the table and the members share.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <string>

#include "faceqan/face_detector.h"
#include "faceqan/quality.h"
#include "faceqan/stream/scoring_budget.h"
#include "faceqan/stream/scoring_queue.h"
#include "faceqan/stream/tracker.h"

namespace faceqan::gst {

enum class Mode { kAnnotate, kDrop };
enum class Scoring { kEveryFace, kBudget };

// Every property's default and range, in one place.
constexpr const char* kDefaultDevice = "auto";
constexpr Precision kDefaultPrecision = Precision::kFloat32;
constexpr guint kDefaultThreads = 0, kMaxThreads = 1024;
constexpr double kDefaultEpsilon = 0.001, kMinEpsilon = 1e-6, kMaxEpsilon = 0.5;
constexpr guint kDefaultIterations = 5, kMinIterations = 1, kMaxIterations = 100;
constexpr guint kDefaultSamples = 10, kMinSamples = 2, kMaxSamples = 256;
constexpr guint kDefaultExponent = 5, kMinExponent = 1, kMaxExponent = 100;
constexpr gint64 kDefaultSeed = faceqan::kDefaultSeed, kMinSeed = -1, kMaxSeed = G_MAXINT64;
// batch-size 0 is auto: faceqan::auto_batch_size for the device in use (resolved at start).
constexpr guint kAutoBatchSize = 0;
constexpr guint kDefaultBatchSize = kAutoBatchSize, kMinBatchSize = 0, kMaxBatchSize = 256;
constexpr guint kDefaultMaxLatency = 200, kMaxMaxLatency = 60000;  // milliseconds
// Frames wait in the element for their own faces' scores: the queue must hold about one
// scoring's time of video (0.6-1.3 s at the paper's settings on 2 cores, plus max-latency) so
// that it never blocks a live stream; 64 frames is 2.1 s at 30 frames/s.
constexpr guint kDefaultQueueSize = 64, kMinQueueSize = 1, kMaxQueueSize = 1024;
constexpr OverloadPolicy kDefaultOverload = OverloadPolicy::kBlock;
constexpr double kDefaultDetectionThreshold = 0.6;
constexpr guint kDefaultMinFaceSize = 0, kMaxMinFaceSize = 10000;
constexpr guint kDefaultMaxFaces = 0, kMaxMaxFaces = 1000;
// Detecting every frame costs about one of two cores at 30 frames/s; between detections the
// faces are followed by optical flow (face_follower.h), and a cut detects at once. 2 keeps
// 97.4% of the every-frame detections of hamilton_clip.mp4 at IoU >= 0.5, 3 only 94.8%.
constexpr guint kDefaultDetectionInterval = 2, kMinDetectionInterval = 1,
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
constexpr double kDefaultBudgetMaxPending = 1.0, kMaxBudgetMaxPending = 3600.0;  // seconds
constexpr double kDefaultBudgetMinEyeDistance = 8.0, kMaxBudgetMinEyeDistance = 10000.0;  // pixels
constexpr guint kDefaultTrackMaxMissed = 5, kMaxTrackMaxMissed = 10000;  // frames
constexpr double kDefaultTrackMinSimilarity = 0.3;
constexpr gboolean kDefaultBestFrames = FALSE;
constexpr gboolean kDefaultBestSaveFrame = FALSE;
constexpr guint kDefaultBestInterval = 0, kMaxBestInterval = 86400;  // seconds
constexpr gdouble kDefaultBestSamePerson = 0.0;  // cosine similarity; 0: off
constexpr gboolean kDefaultSharedScorer = TRUE;

// Which model files, where they run and whether the scorer is shared.
struct ModelSettings {
  std::string detector_model;    // empty: the default model
  std::string recognizer_model;  // empty: the default model
  std::string device = kDefaultDevice;
  guint threads = kDefaultThreads;
  bool shared_scorer = kDefaultSharedScorer;
};

// Which faces the chain thread hands to the scorer.
struct FaceSettings {
  DetectorSettings detector = [] {
    DetectorSettings s;
    s.confidence_threshold = static_cast<float>(kDefaultDetectionThreshold);
    s.min_face_size = kDefaultMinFaceSize;
    s.max_faces = kDefaultMaxFaces;
    return s;
  }();
  guint detection_interval = kDefaultDetectionInterval;
  bool use_upstream_rois = kDefaultUseUpstreamRois;
  TrackerSettings tracker{kDefaultTrackMinSimilarity, kDefaultTrackMaxMissed};
  Scoring scoring = kDefaultScoring;
  BudgetSettings budget{kDefaultBudgetMinEyeDistance, kDefaultBudgetMinInterval / 1000.0,
                        kDefaultBudgetMaxRate, kDefaultBudgetMargin, kDefaultBudgetMaxPending};
};

// What the src pad's task does with a scored frame.
struct OutputSettings {
  double quality_threshold = kDefaultQualityThreshold;
  Mode mode = kDefaultMode;
  bool drop_gaps = kDefaultDropGaps;
  bool attach_embedding = kDefaultAttachEmbedding;
  bool draw = kDefaultDraw;
  bool message = kDefaultMessage;
  guint stats_interval = kDefaultStatsInterval;  // milliseconds
  std::string json_location;
  std::string calibration;
  std::string camera_id;  // empty: the element's name
};

// best-frames and what it keeps.
struct BestFrameSettings {
  bool enabled = kDefaultBestFrames;
  std::string location;
  bool save_frame = kDefaultBestSaveFrame;
  guint interval = kDefaultBestInterval;  // seconds
  double same_person = kDefaultBestSamePerson;
};

// The property values, read and written under the object lock.
struct Settings {
  ModelSettings models;
  FaceQanSettings faceqan = [] {
    FaceQanSettings s;
    s.epsilon = kDefaultEpsilon;
    s.iterations = kDefaultIterations;
    s.samples = kDefaultSamples;
    s.exponent = kDefaultExponent;
    s.seed = kDefaultSeed;
    s.precision = kDefaultPrecision;
    return s;
  }();
  QueueLimits queue{kDefaultBatchSize, std::chrono::milliseconds(kDefaultMaxLatency),
                    kDefaultQueueSize, kDefaultOverload};
  FaceSettings faces;
  OutputSettings output;
  BestFrameSettings best;
};

// What changing a property invalidates.
enum class Invalidates {
  kNothing,      // read where it is used, frame by frame
  kQueueLimits,  // handed to the scoring queue at once
  kModels,       // part of the reload key: the models are loaded anew at the next start
};

// Installs every property of the table (and marks the enum types as plugin API for the
// documentation) on the element's class. The class's set_property and get_property must be set
// first: GObject refuses writable properties without them.
void install_properties(GObjectClass* klass);

// Sets one property of `s` from `value` (the caller holds the object lock and has checked that
// the property may change in the element's state); warns about an unknown id on `object`.
// Returns what the change invalidates.
Invalidates set_property(GObject* object, Settings& s, guint prop_id, const GValue* value,
                         GParamSpec* pspec);

// Reads one property of `s` into `value` (the caller holds the object lock).
void get_property(GObject* object, const Settings& s, guint prop_id, GValue* value,
                  GParamSpec* pspec);

// What the loaded models depend on, derived from every property marked Invalidates::kModels,
// each value written exactly (doubles to the last bit): a change reloads them at the next start.
std::string reload_key(const Settings& s);

}  // namespace faceqan::gst
