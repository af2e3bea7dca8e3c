// faceqan's track events for the stream (stream_events.h, kTrackEvent): "new" when a track first
// shows, "update" when its best face improves, "end" when it ends (lost, eos), gathered while a
// frame is finished and pushed downstream just before that frame, so that a consumer sees them
// in stream order. Used by the element's output (the src pad task) only.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "faceqan/stream/best_frames.h"
#include "frame_faces.h"

namespace faceqan::gst {

class TrackEventLog {
 public:
  // with_embedding: the best face's embedding goes into update and end events
  // (attach-embedding).
  void set_with_embedding(bool with_embedding) { with_embedding_ = with_embedding; }

  // A face of its track in a frame (timestamp in ns, UINT64_MAX if unknown): "new" the first time
  // the track shows. `result` gives the quality if the face has one.
  void saw(const FaceRecord& face, const FaceResult& result, int width, int height,
           std::uint64_t timestamp);
  // The track's best improved to `best` (before the selector takes it): "update".
  void improved(const BestFrame& best);
  // The track ended with this best face (nullptr: never scored): "end" with `reason`. A track
  // never announced is announced first.
  void ended(TrackId track, const BestFrame* best, const char* reason);
  // Ends every open track (EOS); their best faces, where they have one, come from `bests`.
  void end_all(const std::vector<BestFrame>& bests, const char* reason);

  // The events gathered since the last call, in order (the caller pushes them).
  std::vector<GstEvent*> take();
  // Forgets the open tracks and drops what was not taken (flush, stop).
  void reset();
  std::size_t open_tracks() const { return open_.size(); }
  ~TrackEventLog() { reset(); }

 private:
  struct Track {
    TrackId person = 0;
    std::optional<double> quality, quality_100;
    std::uint64_t timestamp = UINT64_MAX;
    cv::Rect box;
    bool has_box = false;
  };
  GstStructure* structure(const char* event, TrackId track, const Track& known,
                          const BestFrame* best) const;

  bool with_embedding_ = false;
  std::map<TrackId, Track> open_;
  std::vector<GstEvent*> pending_;
};

}  // namespace faceqan::gst
