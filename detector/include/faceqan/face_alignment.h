// Five-point face alignment to the ArcFace template: a least-squares similarity transform
// (rotation, uniform scale, translation; the closed form of Umeyama's method, as insightface's
// norm_crop / skimage's SimilarityTransform) followed by one bilinear warp.
#pragma once

#include "faceqan/detector_types.h"

namespace faceqan {

// The ArcFace crop size the template is defined for.
inline constexpr int kArcFaceCropSize = 112;
inline const cv::Size kArcFaceCrop{kArcFaceCropSize, kArcFaceCropSize};

// The ArcFace landmark template for a crop of the given size (defined for 112x112, scaled in x
// and y for other sizes).
FaceLandmarks arcface_template(cv::Size crop_size = kArcFaceCrop);

// The similarity transform (2x3, maps `from` points onto `to` points) minimising the summed
// squared distance. Reflections are excluded. Throws DetectorError if all `from` points
// coincide.
cv::Matx23d similarity_transform(const FaceLandmarks& from, const FaceLandmarks& to);

// The transform from image pixels to crop pixels that aligns these landmarks to the template.
cv::Matx23d alignment_transform(const FaceLandmarks& landmarks, cv::Size crop_size = kArcFaceCrop);

// The aligned crop, same type and channel layout as `image` (any depth; 8-bit for PNGs).
// Areas outside the image are black. Throws DetectorError for an empty image.
cv::Mat align_face(const cv::Mat& image, const FaceLandmarks& landmarks,
                   cv::Size crop_size = kArcFaceCrop);

// Writes the aligned crop as interleaved RGB floats in [0, 1] (crop_size.area() * 3 floats,
// row-major, contiguous) into `destination`, e.g. a network's input buffer. `image` is 8-bit
// in `format`. The source is warped once at 8 bits; one pass then converts into the
// destination. Throws DetectorError for an empty or mismatched image or a null destination.
void align_face_to_rgb_float(const cv::Mat& image, PixelFormat format,
                             const FaceLandmarks& landmarks, cv::Size crop_size,
                             float* destination);

}  // namespace faceqan
