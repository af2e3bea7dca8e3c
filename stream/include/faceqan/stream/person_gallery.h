// best-same-person: joins tracks into persons by the recognition embeddings of their best faces,
// so that a person who leaves the picture (or is lost by the tracker at a cut) and comes back
// keeps one identity and one enrollment crop instead of one per appearance.
//
// Plain C++ (no GStreamer) so that the matching rules have their own unit test, and so that
// `faceqan collect` joins the tracks of many cameras with the same rules.
// Used from the element's worker thread, and from the state change once the worker has stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "faceqan/stream/tracker.h"

namespace faceqan {

// When a track was on screen (its first and last frame): stream nanoseconds in the element,
// wall-clock nanoseconds in `faceqan collect`. Two tracks of one camera on screen at the same time
// are two people. Default: unknown (never overlaps anything).
struct TrackSpan {
  std::uint64_t first = UINT64_MAX, last = 0;
  bool known() const { return first <= last; }
  void extend(std::uint64_t timestamp);
  bool overlaps(const TrackSpan& other) const;
};

// A track: its camera and its id within that camera. The element has one camera ("").
struct TrackKey {
  std::string camera;
  TrackId track = 0;
  bool operator<(const TrackKey& other) const {
    return std::tie(camera, track) < std::tie(other.camera, other.track);
  }
  bool operator==(const TrackKey& other) const {
    return camera == other.camera && track == other.track;
  }
};

// What the gallery says of one best frame handed out.
struct PersonAssignment {
  TrackId person = 0;          // the id of the person's first track
  std::string person_camera;   // ... and the camera of that track
  bool person_best = false;    // at least as good as every earlier best frame of this person
  TrackKey person_key() const { return TrackKey{person_camera, person}; }
};

// One track's entry in a person's gallery, as read back for saving it (`faceqan collect`).
struct GalleryTrack {
  TrackKey track;
  std::vector<float> embedding;  // empty: unusable, never matches
  TrackSpan span;
};

class PersonGallery {
 public:
  // Cosine similarity a track's best face needs to an earlier person's to join that person;
  // 0 (or less): never join, every track is a person of its own.
  void set_min_similarity(double min_similarity) { min_similarity_ = min_similarity; }
  // The quality a best face needs to join a person or to be joined: the embeddings of unusable
  // faces (dark, blurred, turned away) look alike whoever they show.
  void set_min_quality(double min_quality) { min_quality_ = min_quality; }

  // Called for each best frame handed out, in order. A track keeps the person it was first
  // given (a track is one person by construction). A new track whose quality reaches the
  // minimum joins the most similar person whose similarity reaches the minimum and none of whose
  // tracks of the same camera was on screen at the same time (other cameras see other places: a
  // person may be on two of them at once); otherwise it starts a person with its own id. The
  // embedding (L2-normalised or not; empty, or below the minimum quality: it never matches) and
  // the span become the track's entry in its person's gallery.
  PersonAssignment assign(const TrackKey& track, const std::vector<float>& embedding,
                          double quality, const TrackSpan& span = {});
  // One camera (the element).
  PersonAssignment assign(TrackId track, const std::vector<float>& embedding, double quality,
                          const TrackSpan& span = {}) {
    return assign(TrackKey{{}, track}, embedding, quality, span);
  }

  // Puts back a person's track saved earlier (a restarted `faceqan collect`), as assign() left
  // it: `track` belongs to `person`, whose best quality so far is `best_quality`.
  void restore(const TrackKey& person, const GalleryTrack& track, double best_quality);
  // The tracks a person keeps (oldest first); empty for an unknown person.
  std::vector<GalleryTrack> tracks_of(const TrackKey& person) const;
  // Forgets one track (its id is used again by a new stream of its camera); its person stays.
  void forget_track(const TrackKey& track);

  // Bounds that keep a stream of weeks in constant memory and time (an embedding is a few KB):
  // a person keeps the entries of its latest tracks only, and the gallery forgets the person
  // handed out least recently once it is full. A forgotten person's next track starts a new
  // person.
  static constexpr std::size_t kMaxTracksPerPerson = 8;
  static constexpr std::size_t kMaxPersons = 1024;
  // `faceqan collect` keeps more persons than a stream does (at least 1).
  void set_max_persons(std::size_t max_persons) { max_persons_ = max_persons > 0 ? max_persons : 1; }

  // Forgets every person (a new stream).
  void clear();

  std::size_t persons() const { return persons_.size(); }

  // Cosine similarity of two embeddings (0 when either is empty, zero or their sizes differ).
  static double cosine(const std::vector<float>& a, const std::vector<float>& b);

 private:
  struct TrackEntry {
    std::vector<float> embedding;  // the track's latest best face
    TrackSpan span;
    unsigned long long added = 0;  // the call that added the track: oldest first
  };
  struct Person {
    double best_quality = 0;
    bool has_best = false;
    unsigned long long last_used = 0;  // the assign() call that last handed this person out
    // A person is as similar to a face as its most similar track: appearances differ in pose
    // and light.
    std::map<TrackKey, TrackEntry> tracks;
  };

  // The person most similar to the new track at or above the minimum, among those it may be;
  // 0 if none.
  const TrackKey* match(const TrackKey& track, const std::vector<float>& embedding,
                        const TrackSpan& span) const;
  // Drops the oldest tracks of a person beyond kMaxTracksPerPerson, and the least recently used
  // person beyond kMaxPersons.
  void enforce_bounds(const TrackKey& id);

  double min_similarity_ = 0;
  double min_quality_ = 0;
  std::size_t max_persons_ = kMaxPersons;
  unsigned long long calls_ = 0;
  std::map<TrackKey, Person> persons_;      // by person id (its first track)
  std::map<TrackKey, TrackKey> person_of_;  // track -> person
};

}  // namespace faceqan
