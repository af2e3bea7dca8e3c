// Internal: which interleaved source channel feeds each channel of a wanted output order.
#pragma once

#include "faceqan/detector_types.h"

#include <array>
#include <string>

namespace faceqan::detail {

// Indices into a source pixel of `format` giving, in order, R, G, B (want_rgb) or B, G, R.
// Greyscale repeats its single channel.
std::array<int, 3> source_channels(PixelFormat format, bool want_rgb);

// Throws DetectorError unless `image` is a non-empty 8-bit image with `format`'s channel count.
// `what` names the operation for the message.
void require_8bit_image(const cv::Mat& image, PixelFormat format, const char* what);

}  // namespace faceqan::detail
