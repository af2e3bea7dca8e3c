#include "faceqan/detector_input_size.h"

#include "letterbox.h"

#include <algorithm>

namespace faceqan {
namespace {

double fit_scale(cv::Size frame, cv::Size input) {
  return std::min(static_cast<double>(input.width) / frame.width,
                  static_cast<double>(input.height) / frame.height);
}

}  // namespace

cv::Size choose_input_size(const std::vector<cv::Size>& available, cv::Size frame,
                           cv::Size reference, float min_face_size) {
  if (frame.width <= 0 || frame.height <= 0) return reference;
  // Relative slack, so that a scale equal to the reference's up to rounding still qualifies.
  constexpr double kSlack = 1e-6;
  double needed = fit_scale(frame, reference);
  if (min_face_size > 0) needed = std::min(needed, static_cast<double>(kSmallestFaceAtInput) / min_face_size);

  cv::Size best = reference;
  double best_scale = fit_scale(frame, reference);
  bool found = false;
  for (const cv::Size& input : available) {
    if (input.width <= 0 || input.height <= 0) continue;
    const double scale = fit_scale(frame, input);
    if (scale < needed * (1 - kSlack)) continue;
    const cv::Size used = detail::fit_letterbox(frame, input).scaled_size;
    if (input.width - used.width >= kLargestInputStride ||
        input.height - used.height >= kLargestInputStride) {
      continue;
    }
    const bool smaller = input.area() < best.area() || !found;
    const bool same_but_finer = input.area() == best.area() && scale > best_scale;
    if (smaller || same_but_finer) {
      best = input;
      best_scale = scale;
      found = true;
    }
  }
  return best;
}

}  // namespace faceqan
