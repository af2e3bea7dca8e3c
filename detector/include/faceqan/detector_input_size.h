// Which fixed network input a frame is detected at, when a RetinaFace export comes in several
// input sizes (models/prepare.sh derives them: 640x384, 640x480, 320x192, ...). OpenCV 4.6 dnn
// runs only fixed shapes, and a 640x360 frame letterboxed into 640x640 spends 44% of the
// network's work on padding; an input shaped like the frame spends none of it.
#pragma once

#include <opencv2/core.hpp>

#include <vector>

namespace faceqan {

// The coarsest stride of the network: inputs are multiples of it, and padding below it is the
// least any input can have for a frame whose scaled sides are not multiples of it.
constexpr int kLargestInputStride = 32;

// Smallest face, in network-input pixels, that the detector is trusted to find (its smallest
// anchor). A smaller input is used only when min_face_size, scaled to it, is at least this.
constexpr float kSmallestFaceAtInput = 16.0f;

// Picks, among `available` inputs, the one to detect `frame` at:
// - the scale must be at least that of `reference` (the detector's full-size input, 640x640 for
//   the shipped model), so faces are as large in the network as they would be there; when
//   min_face_size > 0 a smaller scale is allowed down to kSmallestFaceAtInput / min_face_size;
// - the frame, scaled to fit, must leave less than kLargestInputStride of padding on each side;
// - of those, the smallest input (fewest pixels), then the larger scale.
// Returns `reference` when no input qualifies (it letterboxes any frame, as before).
cv::Size choose_input_size(const std::vector<cv::Size>& available, cv::Size frame,
                           cv::Size reference, float min_face_size);

}  // namespace faceqan
