#include "faceqan/stream/person_gallery.h"

#include <algorithm>
#include <cmath>

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

TrackId PersonGallery::match(const std::vector<float>& embedding, const TrackSpan& span) const {
  if (min_similarity_ <= 0 || embedding.empty()) return 0;
  TrackId best_person = 0;
  double best_similarity = 0;
  for (const auto& [id, person] : persons_) {
    double similarity = -1;
    bool together = false;  // on screen with one of this person's tracks
    for (const auto& [track, entry] : person.tracks) {
      together = together || span.overlaps(entry.span);
      similarity = std::max(similarity, cosine(embedding, entry.embedding));
    }
    // Ties go to the earlier person (ids increase with time).
    if (!together && similarity >= min_similarity_ &&
        (best_person == 0 || similarity > best_similarity)) {
      best_similarity = similarity;
      best_person = id;
    }
  }
  return best_person;
}

PersonAssignment PersonGallery::assign(TrackId track, const std::vector<float>& embedding,
                                       double quality, const TrackSpan& span) {
  static const std::vector<float> kUnusable;
  const std::vector<float>& usable = quality >= min_quality_ ? embedding : kUnusable;
  TrackId id = 0;
  if (const auto known = person_of_.find(track); known != person_of_.end()) {
    id = known->second;
  } else {
    id = match(usable, span);
    if (id == 0) id = track;  // a person of its own, named after its first track
    person_of_[track] = id;
  }
  Person& person = persons_[id];
  person.tracks[track] = TrackEntry{usable, span};
  person.last_used = ++calls_;
  PersonAssignment assignment;
  assignment.person = id;
  assignment.person_best = !person.has_best || quality >= person.best_quality;
  if (assignment.person_best) {
    person.best_quality = quality;
    person.has_best = true;
  }
  enforce_bounds(id);
  return assignment;
}

void PersonGallery::enforce_bounds(TrackId id) {
  Person& person = persons_[id];
  while (person.tracks.size() > kMaxTracksPerPerson) {
    person_of_.erase(person.tracks.begin()->first);  // the person's oldest track
    person.tracks.erase(person.tracks.begin());
  }
  if (persons_.size() <= kMaxPersons) return;
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
