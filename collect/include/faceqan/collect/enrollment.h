// Cross-camera enrollment: joins the tracks that end on any camera into persons (the element's
// person gallery, keyed by camera and track) and keeps each person's one best crop in a folder:
// DIR/<person-id>.png and DIR/index.json (docs/COLLECT.md). Restart-safe: the index is read back
// on start, and every file is replaced by writing a new one and renaming it, so a stop at any
// moment leaves the previous or the next consistent state.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <stdexcept>
#include <string>
#include <vector>

#include "faceqan/collect/track_message.h"
#include "faceqan/stream/person_gallery.h"

namespace faceqan::collect {

// The index cannot be read or written (a corrupt index is never overwritten).
class CollectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Person {
  std::string id;  // "person-<n>": n is the serial of its first track
  double best_quality = 0;
  std::string camera, time;  // of the best crop: its camera and wall time (RFC 3339)
  std::uint32_t track = 0;     // ... its track
  std::uint64_t timestamp = 0;  // ... and its stream time (ns)
  std::uint64_t tracks_seen = 0;
  TrackKey gallery_key;  // the person's key in the gallery: (camera, serial) of its first track
};

// What became of one message.
struct Outcome {
  enum class Kind { kIgnored, kRejected, kDuplicate, kNewPerson, kJoined } kind = Kind::kIgnored;
  std::string person;         // kNewPerson, kJoined
  bool crop_replaced = false;  // kJoined: a better crop than the person's earlier best
  std::string detail;          // kRejected: why
};

struct Counts {
  std::uint64_t end_events = 0, new_persons = 0, joined = 0, crops_replaced = 0, duplicates = 0;
  std::map<std::string, std::uint64_t> rejected;  // by rejection_name()
};

class Enrollment {
 public:
  // Reads DIR/index.json if there is one (created if not). `same_person`: the cosine a track's
  // embedding needs to an earlier person's to join it (<= 0: never join). Throws CollectError.
  Enrollment(std::string dir, double same_person);

  // One message of <topic>/<camera>/tracks. Never throws for bad input (counted instead);
  // throws CollectError only if the folder cannot be written.
  Outcome handle(const std::string& payload);

  const std::map<std::string, Person>& persons() const { return persons_; }
  const Counts& counts() const { return counts_; }
  std::string index_path() const { return dir_ + "/index.json"; }
  std::string crop_path(const std::string& person) const { return dir_ + "/" + person + ".png"; }

 private:
  // A track as the element numbers it (ids start again with each stream of a camera) and the
  // serial number collect gives each of its streams' tracks, unique over all cameras and
  // restarts: the gallery's key is (camera, serial).
  using ElementTrack = std::pair<std::string, std::uint32_t>;
  struct Seen {
    std::uint32_t serial = 0;
    std::int64_t started_ns = 0;  // its new event, or its end event if the new one was missed
    std::string ended_at;         // its end event's wall time; empty while open
  };

  void load();
  void save_index() const;
  Outcome end_track(const TrackMessage& message);
  std::string person_id(const TrackKey& person) const;
  // Starts a new serial for (camera, track id).
  Seen& start_track(const ElementTrack& track, std::int64_t started_ns);
  // Forgets ended tracks the gallery no longer holds (they can no longer be duplicated).
  void prune_seen();

  std::string dir_;
  double same_person_;
  PersonGallery gallery_;
  std::map<std::string, Person> persons_;  // by id
  // The latest stream's track of each (camera, track id): an end event with the same wall time
  // as the recorded one is a QoS 1 duplicate, with another one a new stream's track.
  std::map<ElementTrack, Seen> seen_;
  std::map<std::uint32_t, ElementTrack> element_track_;  // by serial, for the tracks in seen_
  std::uint32_t next_serial_ = 1;
  Counts counts_;
};

}  // namespace faceqan::collect
