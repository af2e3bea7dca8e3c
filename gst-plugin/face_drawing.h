// draw=true: each face's box, landmarks and quality drawn onto the frame itself.
#pragma once

#include <gst/video/video.h>

#include <vector>

#include "faceqan/quality.h"
#include "frame_faces.h"

namespace faceqan::gst {

// Draws on a frame mapped for writing. Packed RGB formats get colour (green: quality at or above
// the threshold, red: below, grey: no score at all; a score carried over from the face's track is
// marked '*'); YUV formats get white marks on the luma plane.
void draw_faces(GstVideoFrame* frame, const std::vector<FaceRecord>& faces,
                const std::vector<FaceResult>& results, double threshold);

}  // namespace faceqan::gst
