// onnx_window.h (internal): the padding of ONNX convolutions and pools (pads, auto_pad).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "onnx_graph.h"

namespace faceqan::onnx_import {

// Padding for one input size: what the ATen operation pads itself (the same before and after, per
// spatial dimension) and the rest as an explicit border in constant_pad_nd's order (last
// dimension first, [begin, end] pairs; empty when there is none).
struct ResolvedPadding {
  std::vector<int64_t> symmetric;
  std::vector<int64_t> extra;
};

// A node's padding, resolved at import unless auto_pad SAME_* makes it depend on the input size.
class WindowPadding {
 public:
  WindowPadding(NodeContext& node, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                std::vector<int64_t> dilations)
      : kernel_(std::move(kernel)), strides_(std::move(strides)), dilations_(std::move(dilations)) {
    const size_t rank = kernel_.size();
    const std::string auto_pad = node.attribute_string("auto_pad", "NOTSET");
    std::vector<int64_t> pads(2 * rank, 0);
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      same_ = true;
      same_upper_ = auto_pad == "SAME_UPPER";
    } else if (auto_pad == "NOTSET") {
      pads = node.attribute_ints("pads", pads);
    } else if (auto_pad != "VALID") {
      node.fail_invalid("unknown auto_pad '" + auto_pad + "'");
    }
    if (pads.size() != 2 * rank || strides_.size() != rank || dilations_.size() != rank) {
      node.fail_invalid("pads, strides or dilations do not match the " + std::to_string(rank) +
                        " spatial dimensions");
    }
    // A stride of 0 divided by zero below; a pad or kernel of millions made a tiny file allocate
    // gigabytes per image (both found by fuzzing).
    for (size_t i = 0; i < rank; ++i) {
      if (kernel_[i] < 1 || kernel_[i] > kMaxWindowExtent || strides_[i] < 1 ||
          strides_[i] > kMaxWindowExtent || dilations_[i] < 1 ||
          dilations_[i] > kMaxWindowExtent) {
        node.fail_invalid("kernel_shape, strides and dilations must be between 1 and " +
                          std::to_string(kMaxWindowExtent));
      }
    }
    for (int64_t pad : pads) {
      if (pad < 0 || pad > kMaxWindowExtent) {
        node.fail_invalid("pads must be between 0 and " + std::to_string(kMaxWindowExtent));
      }
    }
    if (!same_) fixed_ = split(pads);
  }

  // The padding for this input; `scratch` holds it when it had to be computed.
  const ResolvedPadding& resolve(const at::Tensor& input, ResolvedPadding& scratch) const {
    if (!same_) return fixed_;
    // SAME_*: ceil(in / stride) outputs; the odd pixel goes at the end (UPPER) or the start.
    const size_t rank = kernel_.size();
    std::vector<int64_t> pads(2 * rank);
    for (size_t i = 0; i < rank; ++i) {
      const int64_t in = input.size(static_cast<int64_t>(i) + 2);
      const int64_t out = (in + strides_[i] - 1) / strides_[i];
      const int64_t needed = (out - 1) * strides_[i] + (kernel_[i] - 1) * dilations_[i] + 1 - in;
      const int64_t total = std::max<int64_t>(needed, 0);
      pads[i] = same_upper_ ? total / 2 : total - total / 2;
      pads[i + rank] = total - pads[i];
    }
    scratch = split(pads);
    return scratch;
  }

  // Whether some input may need an explicit border.
  bool may_be_asymmetric() const { return same_ || !fixed_.extra.empty(); }

 private:
  // ONNX pads are [begin_0, begin_1, ..., end_0, end_1, ...].
  static ResolvedPadding split(const std::vector<int64_t>& pads) {
    const size_t rank = pads.size() / 2;
    ResolvedPadding resolved;
    resolved.symmetric.assign(rank, 0);
    std::vector<int64_t> border;
    bool asymmetric = false;
    for (size_t k = rank; k-- > 0;) {
      const int64_t begin = pads[k];
      const int64_t end = pads[k + rank];
      resolved.symmetric[k] = std::min(begin, end);
      border.push_back(begin - resolved.symmetric[k]);
      border.push_back(end - resolved.symmetric[k]);
      asymmetric = asymmetric || begin != end;
    }
    if (asymmetric) resolved.extra = std::move(border);
    return resolved;
  }

  std::vector<int64_t> kernel_, strides_, dilations_;
  bool same_ = false;
  bool same_upper_ = false;
  ResolvedPadding fixed_;
};

// The input with the explicit border added (`fill` outside), or the input itself.
inline at::Tensor pad_border(const at::Tensor& input, const ResolvedPadding& padding, double fill) {
  return padding.extra.empty() ? input : at::constant_pad_nd(input, padding.extra, fill);
}

}  // namespace faceqan::onnx_import
