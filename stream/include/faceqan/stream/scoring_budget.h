// scoring=budget: which faces get a full (expensive) FaceQAN pass. Every face gets cheap signals
// (size, sharpness, detector confidence, pose); a track's first usable face is scored, then only
// faces whose cheap signals say they may beat the face behind the track's best score (a promise
// no more than `margin` below that face's), no more often than min_interval per track and
// max_rate scorings per second overall.
//
// No GStreamer. Thread-safe: the streaming thread decides, the worker reports scores back.
#pragma once

#include <map>
#include <mutex>

#include "faceqan/detector_types.h"
#include "faceqan/stream/tracker.h"

namespace faceqan {

// Signals computed for every face, at a small fraction of FaceQAN's cost.
struct CheapSignals {
  double eye_distance = 0;  // between the eye landmarks, in frame pixels
  double sharpness = 0;     // variance of the Laplacian of the aligned crop's grey (0-255) levels
  double confidence = 0;    // the detector's
  double frontal = 0;       // 1: nose centred between the eyes and eyes level; towards 0: turned
  // The signals folded into one number in [0, 1] (higher: likely better quality); compared only
  // between faces of the same track.
  double promise = 0;
};

// Measures one face; `rgb` is the aligned crop as FaceQAN gets it (interleaved RGB floats in
// [0, 1], crop_size).
CheapSignals measure_face(const float* rgb, cv::Size crop_size, const FaceLandmarks& landmarks,
                          double confidence);

struct BudgetSettings {
  double min_eye_distance = 8.0;  // pixels; smaller faces are not usable and never scored
  double min_interval = 0.5;      // seconds (of stream time) between two scorings of one track
  double max_rate = 4.0;          // scorings per second of stream time, all tracks; 0: no cap
  // The cheap signals only roughly predict FaceQAN: a face whose promise is at least
  // (1 - margin) times that of the track's best-scored face may still beat it and is scored.
  double margin = 0.1;
};

class ScoringBudget {
 public:
  explicit ScoringBudget(BudgetSettings settings = {}) : settings_(settings) {}

  void set_settings(const BudgetSettings& settings);

  // Whether to score this face of `track`, seen at `time` seconds. A yes is remembered as a
  // scoring in flight whose promise counts as the track's best until report() says otherwise.
  bool decide(TrackId track, const CheapSignals& signals, double time);

  // The worker's result for a face decide() admitted.
  void report(TrackId track, double promise, double quality);

  // Whether the track has had a face admitted yet. The element asks for such tracks' faces
  // first, so that a new person is not starved by re-scorings of people already scored.
  bool is_new(TrackId track) const;

  // The track ended: forget it.
  void forget(TrackId track);

  // Forget everything (a new stream, a flush).
  void reset();

 private:
  struct TrackBudget {
    bool scored_once = false;
    double best_quality = -1;
    double best_promise = 0;       // promise of the face behind best_quality
    double in_flight_promise = 0;  // highest promise among scorings not reported yet
    unsigned in_flight = 0;
    double last_scored_time = 0;
  };

  // Takes one scoring from the global cap if at least 1 + reserve are available.
  bool take_token(double time, double reserve);

  mutable std::mutex mutex_;
  BudgetSettings settings_;
  std::map<TrackId, TrackBudget> tracks_;
  double tokens_ = 0;
  double token_time_ = 0;
  bool have_token_time_ = false;
};

}  // namespace faceqan
