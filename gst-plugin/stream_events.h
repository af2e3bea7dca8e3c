// What faceqan tells the elements after it in stream order, besides the metas on each frame:
// custom serialized downstream events, so that a consumer such as faceqanpublish sees a track's
// events and the statistics exactly between the frames they belong to (a bus message would race
// the frames). docs/METADATA.md, "Events in the stream".
#pragma once

#include <gst/gst.h>

#include <string>

namespace faceqan::gst {

// Sticky: the camera id (faceqan's camera-id) for everything that follows. Field: "camera-id".
inline constexpr const char* kCameraEvent = "faceqan-camera";
// A track event: "event" new | update | end, "track-id", "person-id", "quality" (absent when the
// track has no score), "quality-100", "timestamp" (ns), "x", "y", "width", "height" (the best
// face's box), "reason" (end: lost | eos | source-error | stopped), "embedding" (with
// attach-embedding), "crop" (a GstBuffer of 8-bit BGR pixels, "crop-width" x "crop-height").
inline constexpr const char* kTrackEvent = "faceqan-track";
// The "faceqan-stats" message's structure, in the stream too.
inline constexpr const char* kStatsEvent = "faceqan-stats";
// Why the EOS that follows ends the stream: field "reason" (a string, "source-error"). Sent into
// faceqan's sink pad by whoever ends a stream for a reason other than its natural end (`faceqan
// run` when a camera drops, service/camera_runner.h); the tracks open at that EOS end with it.
inline constexpr const char* kEndReasonEvent = "faceqan-end-reason";
// The source's own counters, from whoever supervises it (`faceqan run`: "restarts",
// "reconnects", "outage-seconds"), sent before a run's first frame; faceqan passes it on and
// faceqanpublish reports the latest in its stats messages as "source".
inline constexpr const char* kSourceStatsEvent = "faceqan-source-stats";

GstEvent* make_camera_event(const std::string& camera_id);
// Takes the structure.
GstEvent* make_stream_event(GstStructure* structure);

// The camera id of a faceqan-camera event, or "" if the event is not one.
std::string camera_of(GstEvent* event);

}  // namespace faceqan::gst
