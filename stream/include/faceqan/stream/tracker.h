// Follows faces across frames: each detection is matched to a track by the overlap of its box
// and the closeness of its landmarks to the track's last face, and gets the track's stable id.
//
// Plain C++ (OpenCV's geometry types only, no GStreamer) so that the association rules have
// their own unit test. Used from the element's streaming thread only.
#pragma once

#include <cstdint>
#include <vector>

#include "faceqan/detector_types.h"

namespace faceqan {

using TrackId = std::uint32_t;  // 0 is never a track: it means "no track"

struct TrackerSettings {
  // How alike a detection and a track's last face must be to continue the track, in [0, 1]:
  // the mean of the boxes' intersection over union and a landmark closeness (1 when the five
  // points coincide, 0 when they are on average half a face width apart).
  double min_similarity = 0.3;
  // Frames a track survives without a matching detection (a blink of the detector, an
  // occlusion) before it ends.
  unsigned max_missed = 5;
};

// One face to associate: the detector's box and landmarks, in frame pixels.
struct TrackInput {
  cv::Rect2f box;
  FaceLandmarks landmarks{};
};

class FaceTracker {
 public:
  // first_id: the id of the first new track (a tracker that takes over from another after a
  // flush starts at the other's next_id(), so that ids never repeat within a run).
  explicit FaceTracker(TrackerSettings settings = {}, TrackId first_id = 1)
      : settings_(settings), next_id_(first_id) {}

  void set_settings(const TrackerSettings& settings) { settings_ = settings; }
  const TrackerSettings& settings() const { return settings_; }

  // Associates one frame's faces; returns one track id per face (a new id for a face that
  // continues no track). Tracks that have now missed more than max_missed frames end: their ids
  // are appended to `ended`.
  std::vector<TrackId> update(const std::vector<TrackInput>& faces, std::vector<TrackId>* ended);

  // Ends every live track (end of stream, flush): their ids are appended to `ended`. Ids keep
  // increasing, so a later track never reuses an ended one's id.
  void end_all(std::vector<TrackId>* ended);

  std::size_t live_tracks() const { return tracks_.size(); }
  TrackId next_id() const { return next_id_; }

  // The similarity update() uses, exposed for tests.
  static double similarity(const TrackInput& a, const TrackInput& b);

 private:
  struct Track {
    TrackId id = 0;
    TrackInput last;
    unsigned missed = 0;
  };

  TrackerSettings settings_;
  std::vector<Track> tracks_;
  TrackId next_id_ = 1;
};

}  // namespace faceqan
