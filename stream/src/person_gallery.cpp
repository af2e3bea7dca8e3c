#include "faceqan/stream/person_gallery.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace faceqan {

void TrackSpan::extend(std::uint64_t timestamp) {
  first = std::min(first, timestamp);
  last = std::max(last, timestamp);
}

bool TrackSpan::overlaps(const TrackSpan& other) const {
  return known() && other.known() && first <= other.last && other.first <= last;
}

double PersonGallery::cosine(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.empty() || a.size() != b.size()) return 0.0;
  double dot = 0, norm_a = 0, norm_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    norm_a += static_cast<double>(a[i]) * a[i];
    norm_b += static_cast<double>(b[i]) * b[i];
  }
  if (norm_a <= 0 || norm_b <= 0 || !std::isfinite(dot)) return 0.0;
  return dot / std::sqrt(norm_a * norm_b);
}

const TrackKey* PersonGallery::match(const TrackKey& track, const std::vector<float>& embedding,
                                     const TrackSpan& span) const {
  if (min_similarity_ <= 0 || embedding.empty()) return nullptr;
  const TrackKey* best_person = nullptr;
  double best_similarity = 0;
  for (const auto& [id, person] : persons_) {
    double similarity = -1;
    bool together = false;  // on screen with one of this person's tracks, on the same camera
    for (const auto& [key, entry] : person.tracks) {
      together = together || (key.camera == track.camera && span.overlaps(entry.span));
      similarity = std::max(similarity, cosine(embedding, entry.embedding));
    }
    // Ties go to the person with the smallest key (on one camera: the earlier person).
    if (!together && similarity >= min_similarity_ &&
        (best_person == nullptr || similarity > best_similarity)) {
      best_similarity = similarity;
      best_person = &id;
    }
  }
  return best_person;
}

PersonAssignment PersonGallery::assign(const TrackKey& track, const std::vector<float>& embedding,
                                       double quality, const TrackSpan& span) {
  static const std::vector<float> kUnusable;
  const std::vector<float>& usable = quality >= min_quality_ ? embedding : kUnusable;
  TrackKey id;
  if (const auto known = person_of_.find(track); known != person_of_.end()) {
    id = known->second;
  } else {
    const TrackKey* matched = match(track, usable, span);
    id = matched != nullptr ? *matched : track;  // else a person of its own, named after it
    person_of_[track] = id;
  }
  Person& person = persons_[id];
  person.tracks[track] = TrackEntry{usable, span, ++calls_};
  person.last_used = calls_;
  PersonAssignment assignment;
  assignment.person = id.track;
  assignment.person_camera = id.camera;
  assignment.person_best = !person.has_best || quality >= person.best_quality;
  if (assignment.person_best) {
    person.best_quality = quality;
    person.has_best = true;
  }
  enforce_bounds(id);
  return assignment;
}

void PersonGallery::restore(const TrackKey& person_key, const GalleryTrack& track,
                            double best_quality) {
  if (const auto known = person_of_.find(track.track);
      known != person_of_.end() && !(known->second == person_key)) {
    forget_track(track.track);  // saved twice: the later person wins
  }
  person_of_[track.track] = person_key;
  Person& person = persons_[person_key];
  person.tracks[track.track] = TrackEntry{track.embedding, track.span, ++calls_};
  person.last_used = calls_;
  person.best_quality = person.has_best ? std::max(person.best_quality, best_quality) : best_quality;
  person.has_best = true;
  enforce_bounds(person_key);
}

std::vector<GalleryTrack> PersonGallery::tracks_of(const TrackKey& person_key) const {
  std::vector<GalleryTrack> tracks;
  const auto person = persons_.find(person_key);
  if (person == persons_.end()) return tracks;
  std::vector<std::pair<unsigned long long, GalleryTrack>> by_age;
  for (const auto& [key, entry] : person->second.tracks) {
    by_age.push_back({entry.added, GalleryTrack{key, entry.embedding, entry.span}});
  }
  std::sort(by_age.begin(), by_age.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& entry : by_age) tracks.push_back(std::move(entry.second));
  return tracks;
}

void PersonGallery::forget_track(const TrackKey& track) {
  const auto known = person_of_.find(track);
  if (known == person_of_.end()) return;
  if (const auto person = persons_.find(known->second); person != persons_.end()) {
    person->second.tracks.erase(track);
  }
  person_of_.erase(known);
}

void PersonGallery::enforce_bounds(const TrackKey& id) {
  Person& person = persons_[id];
  while (person.tracks.size() > kMaxTracksPerPerson) {
    auto oldest = person.tracks.begin();
    for (auto it = person.tracks.begin(); it != person.tracks.end(); ++it) {
      if (it->second.added < oldest->second.added) oldest = it;
    }
    person_of_.erase(oldest->first);
    person.tracks.erase(oldest);
  }
  if (persons_.size() <= max_persons_) return;
  auto oldest = persons_.begin();
  for (auto it = persons_.begin(); it != persons_.end(); ++it) {
    if (it->second.last_used < oldest->second.last_used) oldest = it;
  }
  for (const auto& entry : oldest->second.tracks) person_of_.erase(entry.first);
  persons_.erase(oldest);
}

void PersonGallery::clear() {
  persons_.clear();
  person_of_.clear();
}

}  // namespace faceqan
