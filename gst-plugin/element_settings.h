// The faceqan element's properties: every default and range, the values an element holds
// (Settings) and the GObject plumbing that installs, sets and reads them. The element
// (gstfaceqan.cpp) keeps only what needs the element: the object lock and the state a property
// may change in.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <string>

#include "faceqan/face_detector.h"
#include "faceqan/quality.h"
#include "scoring_budget.h"
#include "scoring_queue.h"
#include "tracker.h"

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
constexpr gdouble kDefaultBestSamePerson = 0.0;  // cosine similarity; 0: off
constexpr gboolean kDefaultSharedScorer = TRUE;

// The property values, read and written under the object lock.
struct Settings {
  std::string detector_model;
  std::string recognizer_model;
  std::string device = kDefaultDevice;
  Precision precision = kDefaultPrecision;
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
  double best_same_person = kDefaultBestSamePerson;
  std::string json_location;
  std::string calibration;
  bool shared_scorer = kDefaultSharedScorer;

  BudgetSettings budget_settings() const {
    return {budget_min_eye_distance, budget_min_interval / 1000.0, budget_max_rate, budget_margin};
  }
  TrackerSettings tracker_settings() const {
    return {track_min_similarity, track_max_missed};
  }

  QueueLimits queue_limits() const {
    return {batch_size, std::chrono::milliseconds(max_latency), queue_size, overload};
  }
  DetectorSettings detector_settings() const {
    DetectorSettings s;
    s.confidence_threshold = static_cast<float>(detection_threshold);
    s.min_face_size = static_cast<float>(min_face_size);
    s.max_faces = static_cast<int>(max_faces);
    return s;
  }
  // What the loaded models depend on: a change reloads them at the next start.
  std::string model_key() const {
    return detector_model + '\n' + recognizer_model + '\n' + device + '\n' +
           precision_name(precision) + '\n' +
           std::to_string(threads) + '\n' + std::to_string(epsilon) + '\n' +
           std::to_string(iterations) + '\n' + std::to_string(samples) + '\n' +
           std::to_string(exponent) + '\n' + std::to_string(seed) + '\n' +
           std::to_string(shared_scorer);
  }
};

// Installs every property (and marks the enum types as plugin API for the documentation) on the
// element's class. The class's set_property and get_property must be set first: GObject refuses
// writable properties without them.
void install_properties(GObjectClass* klass);

// Sets one property of `s` from `value` (the caller holds the object lock and has checked that
// the property may change in the element's state); warns about an unknown id on `object`.
// Returns whether the scoring queue's limits (batch-size, max-latency, queue-size, overload)
// changed, to be handed to the queue after the lock is released.
bool set_property(GObject* object, Settings& s, guint prop_id, const GValue* value,
                  GParamSpec* pspec);

// Reads one property of `s` into `value` (the caller holds the object lock).
void get_property(GObject* object, const Settings& s, guint prop_id, GValue* value,
                  GParamSpec* pspec);

}  // namespace faceqan::gst
