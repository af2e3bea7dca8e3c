// ONNX operators with weights or windows: Conv, BatchNormalization, PRelu, Gemm, MatMul, pools.
#include <cmath>
#include <limits>

#include "onnx_graph.h"

namespace faceqan::onnx_import {
namespace {

// How a convolution or pool pads its input, resolved at import as far as the attributes allow.
class WindowPadding {
 public:
  WindowPadding(NodeContext& node, size_t spatial_rank, std::vector<int64_t> kernel,
                std::vector<int64_t> strides, std::vector<int64_t> dilations)
      : kernel_(std::move(kernel)), strides_(std::move(strides)), dilations_(std::move(dilations)) {
    const std::string auto_pad = node.attribute_string("auto_pad", "NOTSET");
    std::vector<int64_t> pads(2 * spatial_rank, 0);
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      same_ = true;
      same_upper_ = auto_pad == "SAME_UPPER";
    } else if (auto_pad == "NOTSET") {
      pads = node.attribute_ints("pads", pads);
    } else if (auto_pad != "VALID") {
      node.fail_invalid("unknown auto_pad '" + auto_pad + "'");
    }
    if (pads.size() != 2 * spatial_rank || kernel_.size() != spatial_rank ||
        strides_.size() != spatial_rank || dilations_.size() != spatial_rank) {
      node.fail_invalid("pads, strides, dilations or kernel_shape do not match the " +
                        std::to_string(spatial_rank) + " spatial dimensions");
    }
    if (!same_) split(pads);
  }

  // The input, padded beyond what the ATen operation pads itself; `fill` for the extra border.
  at::Tensor pad(const at::Tensor& input, double fill) const {
    if (!same_) return extra_.empty() ? input : at::constant_pad_nd(input, extra_, fill);
    // SAME_*: the output has ceil(in / stride) positions, which depends on the input size.
    const size_t rank = kernel_.size();
    std::vector<int64_t> pads(2 * rank);
    for (size_t i = 0; i < rank; ++i) {
      const int64_t in = input.size(static_cast<int64_t>(i) + 2);
      const int64_t out = (in + strides_[i] - 1) / strides_[i];
      const int64_t total =
          std::max<int64_t>((out - 1) * strides_[i] + (kernel_[i] - 1) * dilations_[i] + 1 - in, 0);
      const int64_t small = total / 2;
      pads[i] = same_upper_ ? small : total - small;
      pads[i + rank] = total - pads[i];
    }
    std::vector<int64_t> extra;
    std::vector<int64_t> symmetric;
    split_into(pads, symmetric, extra);
    return extra.empty() ? input : at::constant_pad_nd(input, extra, fill);
  }

  // The padding the ATen operation applies itself (symmetric, per spatial dimension).
  std::vector<int64_t> symmetric(const at::Tensor& input) const {
    if (!same_) return symmetric_;
    // Recomputed from the input size: cheap integer arithmetic on the spatial sizes only.
    const size_t rank = kernel_.size();
    std::vector<int64_t> result(rank);
    for (size_t i = 0; i < rank; ++i) {
      const int64_t in = input.size(static_cast<int64_t>(i) + 2);
      const int64_t out = (in + strides_[i] - 1) / strides_[i];
      const int64_t total =
          std::max<int64_t>((out - 1) * strides_[i] + (kernel_[i] - 1) * dilations_[i] + 1 - in, 0);
      result[i] = total / 2;
    }
    return result;
  }

  bool asymmetric() const { return same_ || !extra_.empty(); }

 private:
  void split(const std::vector<int64_t>& pads) { split_into(pads, symmetric_, extra_); }

  // ONNX pads are [begin_0, begin_1, ..., end_0, end_1, ...]. The common part goes to the ATen
  // operation; the rest becomes an explicit pad, in constant_pad_nd's last-dimension-first order.
  static void split_into(const std::vector<int64_t>& pads, std::vector<int64_t>& symmetric,
                         std::vector<int64_t>& extra) {
    const size_t rank = pads.size() / 2;
    symmetric.assign(rank, 0);
    extra.clear();
    bool any_extra = false;
    std::vector<int64_t> reversed;
    for (size_t k = rank; k-- > 0;) {
      const int64_t begin = pads[k];
      const int64_t end = pads[k + rank];
      symmetric[k] = std::min(begin, end);
      reversed.push_back(begin - symmetric[k]);
      reversed.push_back(end - symmetric[k]);
      any_extra = any_extra || begin != end;
    }
    if (any_extra) extra = std::move(reversed);
  }

  std::vector<int64_t> kernel_, strides_, dilations_;
  bool same_ = false;
  bool same_upper_ = false;
  std::vector<int64_t> symmetric_;
  std::vector<int64_t> extra_;
};

class ConvOperation final : public Operation {
 public:
  explicit ConvOperation(NodeContext& node) {
    weight_ = node.capture_constant(1, "weight");
    if (node.has_input(2)) bias_ = node.capture_constant(2, "bias");
    if (weight_.dim() < 3) node.fail_invalid("the weight must have at least 3 dimensions");
    const size_t rank = static_cast<size_t>(weight_.dim() - 2);
    const std::vector<int64_t> kernel(weight_.sizes().begin() + 2, weight_.sizes().end());
    if (node.attribute_ints("kernel_shape", kernel) != kernel) {
      node.fail_invalid("kernel_shape does not match the weight");
    }
    strides_ = node.attribute_ints("strides", std::vector<int64_t>(rank, 1));
    dilations_ = node.attribute_ints("dilations", std::vector<int64_t>(rank, 1));
    groups_ = node.attribute_int("group", 1);
    output_padding_.assign(rank, 0);
    padding_.emplace(node, rank, kernel, strides_, dilations_);
    if (groups_ < 1 || weight_.size(0) % groups_ != 0) node.fail_invalid("bad group count");
  }

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor input = padding_->pad(inputs[0], 0.0);
    const std::vector<int64_t> padding = padding_->symmetric(inputs[0]);
    // ATen sends small-batch 1x1 convolutions on one thread to its im2col + BLAS path, which is
    // many times slower than oneDNN when the BLAS is the reference one (Debian's default). Calling
    // oneDNN directly keeps every CPU convolution on it; its backward is still ATen's.
    if (input.device().is_cpu() && input.scalar_type() == at::kFloat && at::hasMKLDNN() &&
        at::globalContext().userEnabledMkldnn()) {
      return at::mkldnn_convolution(input, weight_, bias_, padding, strides_, dilations_, groups_);
    }
    return at::convolution(input, weight_, bias_, strides_, padding, dilations_,
                           /*transposed=*/false, output_padding_, groups_);
  }

  void to(const c10::Device& device) override {
    move_floating(weight_, device);
    move_floating(bias_, device);
  }

  // conv(x) * scale + shift == conv'(x) with each output channel's filter and bias rescaled.
  bool absorb_channel_affine(const ChannelAffine& affine) override {
    const int64_t channels = weight_.size(0);
    if (affine.scale.numel() != channels || affine.shift.numel() != channels) return false;
    std::vector<int64_t> broadcast(static_cast<size_t>(weight_.dim()), 1);
    broadcast[0] = channels;
    const at::Tensor scale = affine.scale.to(weight_.device(), at::kDouble);
    weight_ = (weight_.to(at::kDouble) * scale.view(broadcast)).to(at::kFloat);
    const at::Tensor bias = bias_.defined() ? bias_.to(at::kDouble) : at::zeros_like(scale);
    bias_ = (bias * scale + affine.shift.to(weight_.device(), at::kDouble)).to(at::kFloat);
    return true;
  }

 private:
  at::Tensor weight_, bias_;
  std::vector<int64_t> strides_, dilations_, output_padding_;
  int64_t groups_ = 1;
  std::optional<WindowPadding> padding_;
};

// Inference batch normalisation on [N,C] or [N,C,...]; the statistics are frozen.
class BatchNormOperation final : public Operation {
 public:
  explicit BatchNormOperation(NodeContext& node) {
    if (node.attribute_int("training_mode", 0) != 0) node.fail_unsupported("training_mode=1");
    gamma_ = node.capture_constant(1, "scale");
    beta_ = node.capture_constant(2, "bias");
    mean_ = node.capture_constant(3, "mean");
    variance_ = node.capture_constant(4, "variance");
    epsilon_ = node.attribute_float("epsilon", 1e-5f);
    const int64_t channels = gamma_.numel();
    for (at::Tensor* t : {&gamma_, &beta_, &mean_, &variance_}) {
      if (t->numel() != channels) node.fail_invalid("scale, bias, mean and variance differ in size");
      *t = t->reshape({channels}).to(at::kFloat);
    }
  }

  at::Tensor run(const Arguments& inputs) const override {
    return at::batch_norm(inputs[0], gamma_, beta_, mean_, variance_, /*training=*/false,
                          /*momentum=*/0.0, epsilon_, /*cudnn_enabled=*/true);
  }

  void to(const c10::Device& device) override {
    for (at::Tensor* t : {&gamma_, &beta_, &mean_, &variance_}) move_floating(*t, device);
  }

  std::optional<ChannelAffine> as_channel_affine() const override {
    // In double so that folding into a convolution loses no precision.
    const at::Tensor scale =
        gamma_.to(at::kDouble) / at::sqrt(variance_.to(at::kDouble) + static_cast<double>(epsilon_));
    return ChannelAffine{scale, beta_.to(at::kDouble) - mean_.to(at::kDouble) * scale};
  }

 private:
  at::Tensor gamma_, beta_, mean_, variance_;
  float epsilon_;
};

// y = x if x >= 0 else slope * x. A constant slope with one value per channel ([C,1,1] or
// [1,C,1,1] for NCHW input, or a single value) runs as ATen's per-channel prelu kernel; any other
// shape broadcasts numpy-style.
class PReluOperation final : public Operation {
 public:
  explicit PReluOperation(NodeContext& node) {
    if (!node.constant_input(1)) return;  // a computed slope: broadcast at run time
    slope_ = node.capture_constant(1, "slope");
    int64_t non_unit_dim = -1;
    for (int64_t d = 0; d < slope_.dim(); ++d) {
      if (slope_.size(d) == 1) continue;
      if (non_unit_dim >= 0) return;  // varies along two dimensions: not per channel
      non_unit_dim = d;
    }
    channel_slope_ = slope_.reshape({-1}).contiguous();
    // Slope dimensions align with the input's last ones: this one is input dimension
    // rank - dims_from_right.
    dims_from_right_ = non_unit_dim < 0 ? 0 : slope_.dim() - non_unit_dim;
  }

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor& x = inputs[0];
    if (!slope_.defined()) return at::where(x >= 0, x, x * inputs[1]);
    if (channel_slope_.defined() && x.dim() >= 2) {
      const bool single = channel_slope_.numel() == 1;
      // Older exporters give a [C] slope for NCHW input meaning one slope per channel.
      const bool legacy_vector = slope_.dim() == 1 && channel_slope_.numel() == x.size(1);
      const bool on_channels = x.dim() - dims_from_right_ == 1;
      if (single || legacy_vector || on_channels) return at::prelu(x, channel_slope_);
    }
    return at::where(x >= 0, x, x * slope_);
  }

  void to(const c10::Device& device) override {
    move_floating(slope_, device);
    move_floating(channel_slope_, device);
  }

 private:
  at::Tensor slope_;          // as in the file
  at::Tensor channel_slope_;  // [C] or [1], when the slope varies along at most one dimension
  int64_t dims_from_right_ = 0;
};

// Y = alpha * A' B' + beta * C. With a constant B (the usual fully connected layer) alpha, beta
// and the transposition are folded into a [out, in] weight at import and run as at::linear.
class GemmOperation final : public Operation {
 public:
  explicit GemmOperation(NodeContext& node) {
    alpha_ = node.attribute_float("alpha", 1.0f);
    beta_ = node.attribute_float("beta", 1.0f);
    trans_a_ = node.attribute_int("transA", 0) != 0;
    trans_b_ = node.attribute_int("transB", 0) != 0;
    const bool constant_c = !node.has_input(2) || node.constant_input(2).has_value();
    if (node.constant_input(1) && constant_c) {
      at::Tensor b = node.capture_constant(1, "B");
      if (b.dim() != 2) node.fail_invalid("B must be a matrix");
      weight_ = (trans_b_ ? b : b.t()).contiguous();  // [out, in]
      if (alpha_ != 1.0f) weight_ = weight_ * alpha_;
      if (node.has_input(2)) {
        at::Tensor c = node.capture_constant(2, "C");
        if (beta_ != 1.0f) c = c * beta_;
        // A bias with one value per output column is at::linear's bias; others are added.
        if (c.numel() == weight_.size(0) && (c.dim() == 1 || c.size(0) == 1)) {
          bias_ = c.reshape({-1}).contiguous();
        } else {
          addend_ = c;
        }
      }
    }
  }

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor a = trans_a_ ? inputs[0].t() : inputs[0];
    if (weight_.defined()) {
      at::Tensor y = at::linear(a, weight_, bias_);
      return addend_.defined() ? y + addend_ : y;
    }
    const at::Tensor b = trans_b_ ? inputs[1].t() : inputs[1];
    at::Tensor y = at::mm(a, b);
    if (alpha_ != 1.0f) y = y * alpha_;
    if (inputs.has(2)) y = y + inputs[2] * beta_;
    return y;
  }

  void to(const c10::Device& device) override {
    move_floating(weight_, device);
    move_floating(bias_, device);
    move_floating(addend_, device);
  }

 private:
  float alpha_, beta_;
  bool trans_a_, trans_b_;
  at::Tensor weight_, bias_, addend_;
};

class MatMulOperation final : public Operation {
 public:
  at::Tensor run(const Arguments& inputs) const override { return at::matmul(inputs[0], inputs[1]); }
};

// MaxPool and AveragePool over 1 to 3 spatial dimensions.
class PoolOperation final : public Operation {
 public:
  PoolOperation(NodeContext& node, bool max) : max_(max) {
    if (node.has_output(1)) {
      node.fail_unsupported("the Indices output is not supported");
    }
    kernel_ = node.attribute_ints("kernel_shape", {});
    const size_t rank = kernel_.size();
    if (rank < 1 || rank > 3) node.fail_unsupported("only 1 to 3 spatial dimensions are supported");
    strides_ = node.attribute_ints("strides", std::vector<int64_t>(rank, 1));
    dilations_ = node.attribute_ints("dilations", std::vector<int64_t>(rank, 1));
    ceil_mode_ = node.attribute_int("ceil_mode", 0) != 0;
    count_include_pad_ = node.attribute_int("count_include_pad", 0) != 0;
    padding_.emplace(node, rank, kernel_, strides_, dilations_);
    if (!max_) {
      if (dilations_ != std::vector<int64_t>(rank, 1)) node.fail_unsupported("dilated AveragePool");
      // Averaging over an explicit zero border would count the border: only right with
      // count_include_pad.
      if (padding_->asymmetric() && !count_include_pad_) {
        node.fail_unsupported("asymmetric padding without count_include_pad");
      }
    }
  }

  at::Tensor run(const Arguments& inputs) const override {
    const double fill = max_ ? -std::numeric_limits<double>::infinity() : 0.0;
    const at::Tensor x = padding_->pad(inputs[0], fill);
    const std::vector<int64_t> padding = padding_->symmetric(inputs[0]);
    switch (kernel_.size()) {
      case 1:
        return max_ ? at::max_pool1d(x, kernel_, strides_, padding, dilations_, ceil_mode_)
                    : at::avg_pool1d(x, kernel_, strides_, padding, ceil_mode_, count_include_pad_);
      case 2:
        return max_ ? at::max_pool2d(x, kernel_, strides_, padding, dilations_, ceil_mode_)
                    : at::avg_pool2d(x, kernel_, strides_, padding, ceil_mode_, count_include_pad_);
      default:
        return max_ ? at::max_pool3d(x, kernel_, strides_, padding, dilations_, ceil_mode_)
                    : at::avg_pool3d(x, kernel_, strides_, padding, ceil_mode_, count_include_pad_);
    }
  }

 private:
  bool max_;
  std::vector<int64_t> kernel_, strides_, dilations_;
  bool ceil_mode_ = false;
  bool count_include_pad_ = false;
  std::optional<WindowPadding> padding_;
};

// GlobalAveragePool / GlobalMaxPool: reduce every spatial dimension to 1.
class GlobalPoolOperation final : public Operation {
 public:
  explicit GlobalPoolOperation(bool max) : max_(max) {}

  at::Tensor run(const Arguments& inputs) const override {
    const at::Tensor& x = inputs[0];
    if (x.dim() == 4 && !max_) return at::adaptive_avg_pool2d(x, {1, 1});
    std::vector<int64_t> spatial;
    for (int64_t d = 2; d < x.dim(); ++d) spatial.push_back(d);
    return max_ ? at::amax(x, spatial, /*keepdim=*/true) : at::mean(x, spatial, /*keepdim=*/true);
  }

 private:
  bool max_;
};

template <typename T>
std::unique_ptr<Operation> make(NodeContext& node) {
  return std::make_unique<T>(node);
}

}  // namespace

void add_layer_operators(OperatorTable& table) {
  table["Conv"] = &make<ConvOperation>;
  table["BatchNormalization"] = &make<BatchNormOperation>;
  table["PRelu"] = &make<PReluOperation>;
  table["Gemm"] = &make<GemmOperation>;
  table["MatMul"] = [](NodeContext&) -> std::unique_ptr<Operation> {
    return std::make_unique<MatMulOperation>();
  };
  table["MaxPool"] = [](NodeContext& node) -> std::unique_ptr<Operation> {
    return std::make_unique<PoolOperation>(node, true);
  };
  table["AveragePool"] = [](NodeContext& node) -> std::unique_ptr<Operation> {
    return std::make_unique<PoolOperation>(node, false);
  };
  table["GlobalAveragePool"] = [](NodeContext&) -> std::unique_ptr<Operation> {
    return std::make_unique<GlobalPoolOperation>(false);
  };
  table["GlobalMaxPool"] = [](NodeContext&) -> std::unique_ptr<Operation> {
    return std::make_unique<GlobalPoolOperation>(true);
  };
}

}  // namespace faceqan::onnx_import
