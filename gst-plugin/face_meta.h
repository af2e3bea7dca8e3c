// What the element publishes about a frame's faces: region-of-interest metas with "detection" and
// "faceqan" parameters (docs/METADATA.md), and the "faceqan" bus message's structure. Also reads
// faces that another element put on the buffer.
#pragma once

#include <gst/video/video.h>

#include <vector>

#include "faceqan/stream/best_frames.h"
#include "faceqan/quality.h"
#include "frame_faces.h"

namespace faceqan::gst {

// The region type the element writes and, with use-upstream-rois, reads.
inline constexpr const char* kFaceRoiType = "face";

// Faces from "face" region-of-interest metas on the buffer: the box from the meta, the
// confidence from a "detection" parameter (1 if none), the landmarks from a parameter with a
// "landmarks" field of ten numbers (estimated from the box if none).
std::vector<FaceRecord> read_upstream_faces(GstBuffer* buffer);

// Publishes the faces on a writable buffer, one result per face. Faces that came from an upstream meta get their parameters added to
// that meta; the others get a new meta.
void attach_face_metas(GstBuffer* buffer, const GstVideoInfo& info,
                       const std::vector<FaceRecord>& faces,
                       const std::vector<FaceResult>& results, bool with_embedding);

// The "faceqan" element message's structure for one frame (fields listed in gstfaceqan.cpp); boxes
// are clipped to the frame `info` describes.
GstStructure* frame_message_structure(GstBuffer* buffer, const GstVideoInfo& info,
                                      const GstSegment& segment,
                                      const std::vector<FaceRecord>& faces,
                                      const std::vector<FaceResult>& results);

// The "faceqan-best" element message's structure for one track's best frame (fields listed in
// gstfaceqan.cpp and docs/METADATA.md).
GstStructure* best_message_structure(const BestFrame& best);

}  // namespace faceqan::gst
