// Internal: greedy non-maximum suppression.
#pragma once

#include <opencv2/core.hpp>

#include <vector>

namespace faceqan::detail {

float intersection_over_union(const cv::Rect2f& a, const cv::Rect2f& b);

// Indices of the boxes kept, best score first: each box is dropped if it overlaps an already
// kept, higher-scoring box by more than `iou_threshold`.
std::vector<size_t> non_maximum_suppression(const std::vector<cv::Rect2f>& boxes,
                                            const std::vector<float>& scores,
                                            float iou_threshold);

}  // namespace faceqan::detail
