// json-location: a JSON-lines file in the layout of DL Streamer's gvametaconvert, one line per
// frame with faces and one per best-frame event (docs/METADATA.md).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "faceqan/stream/best_frames.h"
#include "frame_faces.h"

namespace faceqan::gst {

class JsonLinesExport {
 public:
  // Creates (truncates) the file; throws std::runtime_error if it cannot.
  void open(const std::string& path);
  void close();
  bool is_open() const { return out_.is_open(); }

  // One frame's faces (nothing is written for a frame without faces). timestamp: nanoseconds,
  // UINT64_MAX when unknown (written as null).
  void write_frame(std::uint64_t timestamp, int width, int height,
                   const std::vector<FaceRecord>& faces, const std::vector<FaceResult>& results);

  // One {"event": "best", ...} line.
  void write_best(const BestFrame& best);

 private:
  void write_line(const std::string& line);
  std::ofstream out_;
  std::string path_;
};

}  // namespace faceqan::gst
