// From a mapped video frame to faces ready for scoring: the frame as an 8-bit image the detector
// and the alignment accept, the faces found in it, and their aligned crops.
#pragma once

#include <gst/video/video.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "faceqan/detector_types.h"
#include "faceqan/quality.h"
#include "faceqan/stream/scoring_queue.h"

namespace faceqan::gst {

// One face on a frame, in the frame's pixels.
struct FaceRecord {
  cv::Rect2f box;
  float confidence = 1.0f;
  FaceLandmarks landmarks{};
  // Set when the face came from a region-of-interest meta already on the buffer: the meta's
  // position among the buffer's region metas (their ids need not be unique), so that the element
  // adds its parameters to that meta instead of adding a new one.
  std::optional<guint> upstream_meta_index;
  // The face's track (faceqan/stream/tracker.h); 0 before tracking.
  std::uint32_t track_id = 0;
};

// What the element publishes about one face's quality.
struct FaceResult {
  // This face's score when `scored`; otherwise the latest score of its track, if `has_quality`
  // (scoring=budget, or overload=skip), else zeros.
  FaceQuality quality;
  bool scored = false;
  bool has_quality = false;
  // The norm of this face's own embedding (FaceQAN's clean pass), when the face went through the
  // network. Never carried over from the track: a norm describes one crop.
  std::optional<double> embedding_norm;
  // The quality on the calibrated 0-100 scale, when the element has a calibration file.
  std::optional<double> quality_100;
};

// A box in whole pixels clipped to a width x height frame: the box of the region meta, of the
// "faceqan" and "faceqan-best" messages and of the JSON export. The detector's box may reach past
// the frame's borders (a face cut by the edge); then the clipped box is smaller than the face.
inline cv::Rect pixel_box(const cv::Rect2f& box, int width, int height) {
  const auto clip = [](double v, int high) {
    return !(v > 0) ? 0 : v >= high ? high : static_cast<int>(v);  // NaN: 0
  };
  const int x0 = clip(std::floor(box.x), width), y0 = clip(std::floor(box.y), height);
  const int x1 = clip(std::ceil(box.x + box.width), width);
  const int y1 = clip(std::ceil(box.y + box.height), height);
  return cv::Rect(x0, y0, std::max(0, x1 - x0), std::max(0, y1 - y0));
}

// The raw formats the element accepts, as a caps string's format list.
#define FACEQAN_VIDEO_FORMATS "{ RGB, BGR, RGBx, BGRx, RGBA, BGRA, I420, YV12, NV12, NV21 }"

// The layout of a packed format the detector reads directly, or nullopt for YUV formats.
std::optional<PixelFormat> packed_pixel_format(GstVideoFormat format);

// Presents frames as 8-bit images: packed RGB frames are wrapped in place (with their stride),
// YUV frames are converted to BGR into a buffer reused from frame to frame.
class FrameImager {
 public:
  FrameImager() = default;
  ~FrameImager();
  FrameImager(const FrameImager&) = delete;
  FrameImager& operator=(const FrameImager&) = delete;

  // The image stays valid while `frame` stays mapped and until the next call.
  // Throws std::runtime_error if the frame cannot be converted.
  cv::Mat view(const GstVideoFrame& frame, PixelFormat* format);

 private:
  GstVideoConverter* converter_ = nullptr;
  GstVideoInfo converter_input_{};
  GstVideoInfo converter_output_{};
  std::vector<guint8> bgr_;
};

// Five landmarks estimated from a box alone, placing the ArcFace template's points in the box
// as if the box were the aligned crop (for regions from detectors without landmarks).
FaceLandmarks landmarks_from_box(const cv::Rect2f& box);

// The aligned crop of each face as RGB floats in [0, 1] at crop_size; a face's key is its index
// on the frame, so a face's noise does not depend on what else is being scored.
std::vector<PendingFace> align_faces(const cv::Mat& image, PixelFormat format,
                                     const std::vector<FaceRecord>& faces, cv::Size crop_size);

// An aligned crop (RGB floats in [0, 1], as align_faces() makes them) as an 8-bit BGR image.
cv::Mat crop_to_bgr(const std::vector<float>& rgb, cv::Size size);

// A copy of an image in `format` as 8-bit BGR (what cv::imwrite expects).
cv::Mat bgr_copy(const cv::Mat& image, PixelFormat format);

}  // namespace faceqan::gst
