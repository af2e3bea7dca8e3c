#include "faceqan/stream/scoring_budget.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace faceqan {
namespace {

// Inter-eye distance of the ArcFace template at 112x112 (about 38 px): larger faces are
// downscaled for the recognition network and gain nothing.
constexpr double kFullResolutionEyeDistance = 38.0;
// Laplacian variance at which sharpness counts half; sharp aligned faces measure several hundred,
// blurred ones tens.
constexpr double kHalfSharpness = 100.0;

}  // namespace

CheapSignals measure_face(const float* rgb, cv::Size crop_size, const FaceLandmarks& landmarks,
                          double confidence) {
  CheapSignals s;
  const cv::Point2f eyes = landmarks[kRightEye] - landmarks[kLeftEye];
  s.eye_distance = std::hypot(eyes.x, eyes.y);
  s.confidence = confidence;

  const cv::Mat crop(crop_size, CV_32FC3, const_cast<float*>(rgb));
  cv::Mat grey, laplacian;
  cv::cvtColor(crop, grey, cv::COLOR_RGB2GRAY);
  cv::Laplacian(grey * 255.0, laplacian, CV_32F);
  cv::Scalar mean, deviation;
  cv::meanStdDev(laplacian, mean, deviation);
  s.sharpness = deviation[0] * deviation[0];

  // Yaw: the nose's sideways offset from the eyes' midpoint, in eye distances; roll: the eye
  // line's tilt. Both 0 for a frontal, level face.
  if (s.eye_distance > 0) {
    const cv::Point2f middle = 0.5f * (landmarks[kLeftEye] + landmarks[kRightEye]);
    const double yaw = std::abs(landmarks[kNose].x - middle.x) / s.eye_distance;
    const double roll = std::abs(std::atan2(eyes.y, eyes.x));
    s.frontal = std::clamp(1.0 - 1.5 * yaw, 0.0, 1.0) * std::clamp(1.0 - roll, 0.0, 1.0);
  }

  const double size = std::min(1.0, s.eye_distance / kFullResolutionEyeDistance);
  const double sharp = s.sharpness / (s.sharpness + kHalfSharpness);
  s.promise = size * sharp * std::clamp(confidence, 0.0, 1.0) * (0.25 + 0.75 * s.frontal);
  return s;
}

void ScoringBudget::set_settings(const BudgetSettings& settings) {
  std::lock_guard<std::mutex> lock(mutex_);
  settings_ = settings;
}

bool ScoringBudget::take_token(double time, double reserve) {
  if (settings_.max_rate <= 0) return true;
  // A burst of up to one second's worth, so that the faces of a new scene get scored promptly.
  const double burst = std::max(1.0, settings_.max_rate);
  if (!have_token_time_ || time < token_time_) {  // first frame, or time went back (a seek)
    tokens_ = burst;
    have_token_time_ = true;
  } else {
    tokens_ = std::min(burst, tokens_ + (time - token_time_) * settings_.max_rate);
  }
  token_time_ = time;
  if (tokens_ < 1.0 + reserve) return false;
  tokens_ -= 1.0;
  return true;
}

bool ScoringBudget::decide(TrackId track, const CheapSignals& signals, double time) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (signals.eye_distance < settings_.min_eye_distance) return false;
  TrackBudget& t = tracks_[track];
  if (t.scored_once) {
    if (time >= t.last_scored_time && time - t.last_scored_time < settings_.min_interval) {
      return false;
    }
    const double reference = std::max(t.best_promise, t.in_flight ? t.in_flight_promise : 0.0);
    if (signals.promise < reference * (1.0 - settings_.margin)) return false;
  }
  // Re-scorings leave one scoring of the burst for a person who may appear next: a new track's
  // first score matters more than a better score for someone already scored.
  const double reserve = t.scored_once && settings_.max_rate >= 2.0 ? 1.0 : 0.0;
  if (!take_token(time, reserve)) return false;
  t.scored_once = true;
  t.last_scored_time = time;
  t.in_flight_promise = t.in_flight ? std::max(t.in_flight_promise, signals.promise)
                                    : signals.promise;
  ++t.in_flight;
  return true;
}

void ScoringBudget::report(TrackId track, double promise, double quality) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = tracks_.find(track);
  if (found == tracks_.end()) return;
  TrackBudget& t = found->second;
  if (t.in_flight > 0) --t.in_flight;
  if (quality > t.best_quality) {
    t.best_quality = quality;
    t.best_promise = promise;
  }
}

bool ScoringBudget::is_new(TrackId track) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = tracks_.find(track);
  return found == tracks_.end() || !found->second.scored_once;
}

void ScoringBudget::forget(TrackId track) {
  std::lock_guard<std::mutex> lock(mutex_);
  tracks_.erase(track);
}

void ScoringBudget::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  tracks_.clear();
  have_token_time_ = false;
}

}  // namespace faceqan
