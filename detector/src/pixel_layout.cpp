#include "pixel_layout.h"

namespace faceqan {

const char* to_string(PixelFormat format) {
  switch (format) {
    case PixelFormat::kBGR: return "BGR";
    case PixelFormat::kRGB: return "RGB";
    case PixelFormat::kGray: return "greyscale";
    case PixelFormat::kBGRA: return "BGRA";
    case PixelFormat::kRGBA: return "RGBA";
  }
  return "unknown";
}

namespace detail {

std::array<int, 3> source_channels(PixelFormat format, bool want_rgb) {
  switch (format) {
    case PixelFormat::kGray:
      return {0, 0, 0};
    case PixelFormat::kBGR:
    case PixelFormat::kBGRA:
      return want_rgb ? std::array<int, 3>{2, 1, 0} : std::array<int, 3>{0, 1, 2};
    case PixelFormat::kRGB:
    case PixelFormat::kRGBA:
      break;
  }
  return want_rgb ? std::array<int, 3>{0, 1, 2} : std::array<int, 3>{2, 1, 0};
}

void require_8bit_image(const cv::Mat& image, PixelFormat format, const char* what) {
  if (image.empty()) {
    throw DetectorError(std::string(what) + ": the image is empty (a file that failed to decode?)");
  }
  if (image.dims != 2 || image.depth() != CV_8U || image.channels() != channel_count(format)) {
    throw DetectorError(std::string(what) + ": expected an 8-bit " + to_string(format) +
                        " image with " + std::to_string(channel_count(format)) +
                        " channel(s), got " + cv::typeToString(image.type()));
  }
}

}  // namespace detail
}  // namespace faceqan
