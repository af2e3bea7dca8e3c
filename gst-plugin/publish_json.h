// The JSON bodies faceqanpublish sends (docs/METADATA.md, "Publishing"): a frame's faces read
// from its region metas in the layout of json-location's frame lines (gvametaconvert), a track
// event and the statistics from faceqan's stream events. The publisher adds camera_id, sequence
// and wall_time.
#pragma once

#include <gst/video/video.h>

#include <nlohmann/json.hpp>

namespace faceqan::gst {

// {"timestamp", "resolution": {"width", "height"}, "objects": [...]} from the "face" region
// metas; `objects` is empty for a frame without faces. width/height 0: unknown (no video caps).
nlohmann::ordered_json frame_body(GstBuffer* buffer, int width, int height);
int count_faces(GstBuffer* buffer);

// A faceqan-track event's structure as {"event", "track_id", "person_id", "quality", ...};
// with `with_crop`, the crop as a base64 JPEG in "crop".
nlohmann::ordered_json track_body(const GstStructure* track, bool with_crop);

// Any structure's fields with hyphens turned into underscores (numbers, booleans, strings,
// arrays and lists of them, nested structures).
nlohmann::ordered_json structure_json(const GstStructure* structure);

// Base64 (RFC 4648, with padding).
std::string base64(const unsigned char* data, std::size_t size);

}  // namespace faceqan::gst
