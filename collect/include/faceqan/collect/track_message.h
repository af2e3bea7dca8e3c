// One message of faceqanpublish's tracks topic (docs/METADATA.md, "Publishing"), read for
// `faceqan collect`: what it needs of a track's end event (camera, track, quality, embedding and
// best crop), and the start of a track from its new event. Anything else is a rejection with a
// reason, never an exception: a broker carries whatever anyone publishes.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace faceqan::collect {

// The message layout this reader knows. faceqanpublish's messages carry no "schema" field: that
// is version 1; a message that names another version is rejected rather than misread.
inline constexpr int kSchemaVersion = 1;

// Why a message was not used. The names are the keys of index.json's "rejected" counts.
enum class Rejection {
  kNotJson,         // not a JSON object
  kUnknownSchema,   // "schema" present and not kSchemaVersion
  kBadFields,       // camera_id, track_id, wall_time or quality missing or of the wrong type
  kBadCameraId,     // not [A-Za-z0-9_-]+: it names files
  kNoEmbedding,     // an end event without "embedding" (faceqan attach-embedding=false)
  kNoCrop,          // an end event without "crop" (faceqanpublish attach-crop=false)
  kCorruptCrop,     // "crop" is not a base64 image OpenCV decodes
};
const char* rejection_name(Rejection rejection);

struct TrackMessage {
  enum class Kind { kStart, kEnd, kOther } kind = Kind::kOther;  // new | end | update, stats ...
  std::string camera;
  std::uint32_t track = 0;
  std::string wall_time;        // RFC 3339, when faceqanpublish queued it
  std::int64_t wall_ns = 0;     // the same, in nanoseconds since 1970
  std::uint64_t timestamp = 0;  // the best face's stream time (ns), 0 if absent
  double quality = 0;
  std::vector<float> embedding;
  cv::Mat crop;  // 8-bit BGR
};

struct ReadResult {
  std::optional<TrackMessage> message;  // set unless rejected
  std::optional<Rejection> rejection;
  std::string detail;  // what exactly was wrong, for the log
};

// Reads one payload. Only end events are checked for embedding and crop; new events need the
// camera, track and wall time only; other events are Kind::kOther.
ReadResult read_track_message(const std::string& payload);

// "2026-12-06T04:10:31.512Z" (or with a +hh:mm offset) as nanoseconds since 1970; nullopt if it
// is not RFC 3339.
std::optional<std::int64_t> parse_rfc3339(const std::string& text);

// RFC 4648 base64 (padding optional, no line breaks); nullopt on a character outside it.
std::optional<std::vector<unsigned char>> decode_base64(const std::string& text);

}  // namespace faceqan::collect
