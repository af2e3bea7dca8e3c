// Internal: fitting an image of any size into the fixed network input.
#pragma once

#include "faceqan/retinaface_description.h"

namespace faceqan::detail {

// How an image was placed into the network input: scaled (aspect kept) to `scaled_size` and put
// at the top-left corner. The per-axis factors are the exact ones the resize used, so mapping
// back divides by them.
struct Letterbox {
  cv::Size scaled_size;
  float scale_x = 1.0f;
  float scale_y = 1.0f;

  cv::Point2f to_image(cv::Point2f input_point) const {
    return {input_point.x / scale_x, input_point.y / scale_y};
  }
};

Letterbox fit_letterbox(cv::Size image_size, cv::Size input_size);

// Fills `blob` (1 x 3 x H x W float, reallocated only when the shape changes) with the
// letterboxed, normalised image; the padding is zero after normalisation. `resized` is scratch
// space reused between frames.
Letterbox make_input_blob(const cv::Mat& image, PixelFormat format,
                          const RetinaFaceDescription& description, cv::Mat& resized,
                          cv::Mat& blob);

}  // namespace faceqan::detail
