#include "letterbox.h"

#include "pixel_layout.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace faceqan::detail {

Letterbox fit_letterbox(cv::Size image_size, cv::Size input_size) {
  const double scale = std::min(static_cast<double>(input_size.width) / image_size.width,
                                static_cast<double>(input_size.height) / image_size.height);
  // At least one pixel, so very thin images still resize; at most the input.
  const auto scaled = [scale](int length, int limit) {
    return std::clamp(static_cast<int>(std::lround(length * scale)), 1, limit);
  };
  Letterbox box;
  box.scaled_size = {scaled(image_size.width, input_size.width),
                     scaled(image_size.height, input_size.height)};
  box.scale_x = static_cast<float>(box.scaled_size.width) / image_size.width;
  box.scale_y = static_cast<float>(box.scaled_size.height) / image_size.height;
  return box;
}

Letterbox make_input_blob(const cv::Mat& image, PixelFormat format,
                          const RetinaFaceDescription& description, cv::Mat& resized,
                          cv::Mat& blob) {
  const cv::Size input = description.input_size;
  const Letterbox box = fit_letterbox(image.size(), input);

  // Resize the 8-bit image in its own layout (cheapest), then normalise and reorder channels
  // in the single pass that writes the planar float blob.
  const cv::Mat* source = &image;
  if (box.scaled_size != image.size()) {
    const bool shrinking = box.scaled_size.width < image.cols;
    // Area averaging when shrinking avoids aliasing that would hide small faces.
    cv::resize(image, resized, box.scaled_size, 0, 0,
               shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
    source = &resized;
  }

  const int blob_shape[] = {1, 3, input.height, input.width};
  blob.create(4, blob_shape, CV_32F);
  const size_t plane_size = static_cast<size_t>(input.height) * input.width;
  float* planes[3] = {blob.ptr<float>(), blob.ptr<float>() + plane_size,
                      blob.ptr<float>() + 2 * plane_size};

  const std::array<int, 3> channel = source_channels(format, description.input_is_rgb);
  const int stride = channel_count(format);
  float multiplier[3];
  for (int c = 0; c < 3; ++c) {
    multiplier[c] = 1.0f / description.std[c];
  }
  const int used_width = box.scaled_size.width;
  const int used_height = box.scaled_size.height;
  for (int y = 0; y < used_height; ++y) {
    const uchar* pixel = source->ptr<uchar>(y);
    const size_t row_start = static_cast<size_t>(y) * input.width;
    for (int c = 0; c < 3; ++c) {
      float* out = planes[c] + row_start;
      const uchar* in = pixel + channel[c];
      const float mean = description.mean[c];
      const float factor = multiplier[c];
      for (int x = 0; x < used_width; ++x) {
        out[x] = (static_cast<float>(in[x * stride]) - mean) * factor;
      }
      std::memset(out + used_width, 0, sizeof(float) * (input.width - used_width));
    }
  }
  for (int c = 0; c < 3; ++c) {
    float* below = planes[c] + static_cast<size_t>(used_height) * input.width;
    std::memset(below, 0, sizeof(float) * (input.height - used_height) * input.width);
  }
  return box;
}

}  // namespace faceqan::detail
