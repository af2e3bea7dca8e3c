// best-frames=true: per track, the best-quality frame seen so far and its aligned crop, handed out
// when the track ends, at the end of the stream, and (best-interval) now and then for long
// tracks. The frames themselves flow on untouched; this keeps copies of the few that win.
//
// No GStreamer. Used from the element's worker thread, and from the state change once the worker
// has stopped; the lock makes either safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "faceqan/detector_types.h"
#include "faceqan/stream/tracker.h"

namespace faceqan {

// A track's best face and where it was.
struct BestFrame {
  TrackId track = 0;
  double quality = 0;
  std::optional<double> quality_100;  // with a calibration file
  std::optional<double> embedding_norm;  // the best face's own embedding norm
  std::uint64_t timestamp = UINT64_MAX;  // the frame's PTS in nanoseconds; UINT64_MAX: unknown
  cv::Rect2f box;               // in frame pixels
  int frame_width = 0, frame_height = 0;
  FaceLandmarks landmarks{};
  cv::Mat crop;   // the aligned crop, 8-bit BGR
  cv::Mat frame;  // the whole frame, 8-bit BGR; empty unless asked for
  std::string crop_path, frame_path;  // where save_best_frame() wrote them; empty if not saved
  std::vector<float> embedding;  // the face's recognition embedding (best-same-person)
  // The person the track belongs to (best-same-person; otherwise the track itself), and whether
  // this face is that person's best so far (only then is it saved).
  TrackId person = 0;
  bool person_best = true;

  // The person's id as published: the track's own until the gallery has named a person.
  TrackId person_id() const { return person != 0 ? person : track; }
};

class BestFrameSelector {
 public:
  // Offers a scored face. Returns true if it beats the track's best so far (ties keep the
  // earlier face); then the caller may add the whole frame with set_frame().
  bool offer(BestFrame candidate);
  void set_frame(TrackId track, cv::Mat frame);

  // The best frames of these tracks, which have ended (tracks never scored give none).
  std::vector<BestFrame> end_tracks(const std::vector<TrackId>& tracks);

  // The best frames of live tracks whose best changed and was last handed out (or first seen)
  // at least `interval` seconds before `now` (stream seconds). They stay live.
  std::vector<BestFrame> take_due(double now, double interval);

  // Every pending best frame (end of stream, stop); the selector is empty afterwards.
  std::vector<BestFrame> take_all();

  std::size_t tracks() const;

 private:
  struct Entry {
    BestFrame best;
    bool changed = false;       // a best not yet handed out
    double since = 0;           // when the track was first scored or last handed out, in seconds
  };

  mutable std::mutex mutex_;
  std::map<TrackId, Entry> entries_;
};

// Writes the best frame's crop to format_location(pattern, person) (the track when no person is
// set) and, with save_frame, the whole
// frame beside it with "-frame" before the extension, creating missing folders. Fills crop_path
// and frame_path. Throws std::runtime_error when a file cannot be written.
void save_best_frame(BestFrame* best, const std::string& pattern, bool save_frame);

}  // namespace faceqan
