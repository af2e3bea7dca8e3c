#include "nms.h"

#include <algorithm>
#include <numeric>

namespace faceqan::detail {

float intersection_over_union(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float overlap = (a & b).area();
  const float combined = a.area() + b.area() - overlap;
  return combined > 0.0f ? overlap / combined : 0.0f;
}

std::vector<size_t> non_maximum_suppression(const std::vector<cv::Rect2f>& boxes,
                                            const std::vector<float>& scores,
                                            float iou_threshold) {
  std::vector<size_t> order(boxes.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Stable, so equal scores keep the network's order and results are reproducible.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });

  std::vector<size_t> kept;
  for (size_t candidate : order) {
    const bool overlaps_kept = std::any_of(kept.begin(), kept.end(), [&](size_t k) {
      return intersection_over_union(boxes[candidate], boxes[k]) > iou_threshold;
    });
    if (!overlaps_kept) {
      kept.push_back(candidate);
    }
  }
  return kept;
}

}  // namespace faceqan::detail
