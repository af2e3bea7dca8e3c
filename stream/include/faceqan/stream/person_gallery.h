// best-same-person: joins tracks into persons by the recognition embeddings of their best faces,
// so that a person who leaves the picture (or is lost by the tracker at a cut) and comes back
// keeps one identity and one enrollment crop instead of one per appearance.
//
// Plain C++ (no GStreamer) so that the matching rules have their own unit test. Used from the
// element's worker thread, and from the state change once the worker has stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "faceqan/stream/tracker.h"

namespace faceqan {

// When a track was on screen, in stream nanoseconds (its first and last frame). Two tracks on
// screen at the same time are two people. Default: unknown (never overlaps anything).
struct TrackSpan {
  std::uint64_t first = UINT64_MAX, last = 0;
  bool known() const { return first <= last; }
  void extend(std::uint64_t timestamp);
  bool overlaps(const TrackSpan& other) const;
};

// What the gallery says of one best frame handed out.
struct PersonAssignment {
  TrackId person = 0;        // the id of the person's first track
  bool person_best = false;  // at least as good as every earlier best frame of this person
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
  // tracks was on screen at the same time; otherwise it starts a person with its own id. The
  // embedding (L2-normalised or not; empty, or below the minimum quality: it never matches) and
  // the span become the track's entry in its person's gallery.
  PersonAssignment assign(TrackId track, const std::vector<float>& embedding, double quality,
                          const TrackSpan& span = {});

  // Bounds that keep a stream of weeks in constant memory and time (an embedding is a few KB):
  // a person keeps the entries of its latest tracks only, and the gallery forgets the person
  // handed out least recently once it is full. A forgotten person's next track starts a new
  // person.
  static constexpr std::size_t kMaxTracksPerPerson = 8;
  static constexpr std::size_t kMaxPersons = 1024;

  // Forgets every person (a new stream).
  void clear();

  std::size_t persons() const { return persons_.size(); }

  // Cosine similarity of two embeddings (0 when either is empty, zero or their sizes differ).
  static double cosine(const std::vector<float>& a, const std::vector<float>& b);

 private:
  struct TrackEntry {
    std::vector<float> embedding;  // the track's latest best face
    TrackSpan span;
  };
  struct Person {
    double best_quality = 0;
    bool has_best = false;
    unsigned long long last_used = 0;  // the assign() call that last handed this person out
    // By track id (increasing with time). A person is as similar to a face as its most similar
    // track: appearances differ in pose and light.
    std::map<TrackId, TrackEntry> tracks;
  };

  // The person most similar to the new track at or above the minimum, among those it may be;
  // 0 if none.
  TrackId match(const std::vector<float>& embedding, const TrackSpan& span) const;
  // Drops the oldest tracks of a person beyond kMaxTracksPerPerson, and the least recently used
  // person beyond kMaxPersons.
  void enforce_bounds(TrackId id);

  double min_similarity_ = 0;
  double min_quality_ = 0;
  unsigned long long calls_ = 0;
  std::map<TrackId, Person> persons_;     // by person id
  std::map<TrackId, TrackId> person_of_;  // track -> person
};

}  // namespace faceqan
