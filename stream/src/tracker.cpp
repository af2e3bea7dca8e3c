#include "faceqan/stream/tracker.h"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace faceqan {
namespace {

double intersection_over_union(const cv::Rect2f& a, const cv::Rect2f& b) {
  const double intersection = (a & b).area();
  const double united = static_cast<double>(a.area()) + b.area() - intersection;
  return united > 0 ? intersection / united : 0.0;
}

// 1 when the landmarks coincide, falling linearly to 0 at a mean distance of half the faces'
// width: boxes of neighbours in a crowd overlap, their eyes and mouths do not.
double landmark_closeness(const TrackInput& a, const TrackInput& b) {
  double distance = 0;
  for (std::size_t i = 0; i < a.landmarks.size(); ++i) {
    const cv::Point2f d = a.landmarks[i] - b.landmarks[i];
    distance += std::hypot(d.x, d.y);
  }
  distance /= static_cast<double>(a.landmarks.size());
  const double scale = 0.5 * std::max(1.0f, 0.5f * (a.box.width + b.box.width));
  return std::max(0.0, 1.0 - distance / scale);
}

}  // namespace

double FaceTracker::similarity(const TrackInput& a, const TrackInput& b) {
  return 0.5 * (intersection_over_union(a.box, b.box) + landmark_closeness(a, b));
}

std::vector<TrackId> FaceTracker::update(const std::vector<TrackInput>& faces,
                                         std::vector<TrackId>* ended) {
  // Greedy matching, most alike pair first: with a handful of faces per frame this gives the
  // optimal assignment in practice, at a fraction of the Hungarian method's code.
  std::vector<std::tuple<double, std::size_t, std::size_t>> pairs;  // (similarity, track, face)
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    for (std::size_t f = 0; f < faces.size(); ++f) {
      const double s = similarity(tracks_[t].last, faces[f]);
      if (s >= settings_.min_similarity) pairs.emplace_back(s, t, f);
    }
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });

  std::vector<TrackId> ids(faces.size(), 0);
  std::vector<bool> track_taken(tracks_.size(), false);
  for (const auto& [s, t, f] : pairs) {
    if (track_taken[t] || ids[f] != 0) continue;
    track_taken[t] = true;
    ids[f] = tracks_[t].id;
    tracks_[t].last = faces[f];
    tracks_[t].missed = 0;
  }

  // Tracks without a face this frame age; those past max_missed end.
  std::vector<Track> kept;
  kept.reserve(tracks_.size() + faces.size());
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    Track& track = tracks_[t];
    if (!track_taken[t] && ++track.missed > settings_.max_missed) {
      if (ended != nullptr) ended->push_back(track.id);
      continue;
    }
    kept.push_back(track);
  }
  for (std::size_t f = 0; f < faces.size(); ++f) {
    if (ids[f] != 0) continue;
    ids[f] = next_id_++;
    kept.push_back(Track{ids[f], faces[f], 0});
  }
  tracks_ = std::move(kept);
  return ids;
}

void FaceTracker::end_all(std::vector<TrackId>* ended) {
  if (ended != nullptr) {
    for (const Track& track : tracks_) ended->push_back(track.id);
  }
  tracks_.clear();
}

}  // namespace faceqan
