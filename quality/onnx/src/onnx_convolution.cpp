// ONNX Conv, with a following BatchNormalization folded in at import, kept on oneDNN on the CPU.
//
// Why not just at::convolution: for a 1x1 convolution on a batch below 16 with one thread, ATen
// picks its im2col + BLAS path, forward and backward; with the reference BLAS that Debian's
// LibTorch uses by default that is 10-20x slower than oneDNN. So the forward pass calls oneDNN
// directly, and for stride-1 convolutions (all the 1x1 ones) the input gradient is computed by
// oneDNN too, as the convolution of the output gradient with the flipped, channel-transposed
// filters.
#include <torch/csrc/autograd/custom_function.h>

#include "onnx_graph.h"
#include "onnx_window.h"

namespace faceqan::onnx_import {
namespace {

bool onednn_usable(const at::Tensor& input) {
  return input.device().is_cpu() && input.scalar_type() == at::kFloat && at::hasMKLDNN() &&
         at::globalContext().userEnabledMkldnn();
}

// A stride-1 convolution whose input gradient is a oneDNN convolution as well. Weights are
// frozen, so only the input gets a gradient.
class StrideOneConvolution : public torch::autograd::Function<StrideOneConvolution> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* context, const at::Tensor& input,
                            const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                            const at::Tensor& gradient_weight, at::IntArrayRef padding,
                            at::IntArrayRef dilation, int64_t groups) {
    const std::vector<int64_t> ones(padding.size(), 1);
    // Output size = input + 2p - d(k-1); padding d(k-1) - p on the gradient restores the input's.
    std::vector<int64_t> gradient_padding(padding.size());
    for (size_t i = 0; i < padding.size(); ++i) {
      gradient_padding[i] =
          dilation[i] * (weight.size(static_cast<int64_t>(i) + 2) - 1) - padding[i];
    }
    context->saved_data["weight"] = gradient_weight;
    context->saved_data["padding"] = gradient_padding;
    context->saved_data["dilation"] = dilation.vec();
    context->saved_data["groups"] = groups;
    return at::mkldnn_convolution(input, weight, bias, padding, ones, dilation, groups);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list gradients) {
    const std::vector<int64_t> padding = context->saved_data["padding"].toIntVector();
    const std::vector<int64_t> ones(padding.size(), 1);
    // In the gradient's own layout (channels last where the scorer runs the network that way:
    // oneDNN then reads and writes it without reordering).
    const at::Tensor input_gradient = at::mkldnn_convolution(
        gradients[0].contiguous(gradients[0].suggest_memory_format()), context->saved_data["weight"].toTensor(), {}, padding, ones,
        context->saved_data["dilation"].toIntVector(), context->saved_data["groups"].toInt());
    // One entry per forward argument; nothing but the input needs a gradient.
    return {input_gradient, at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor(),   at::Tensor(), at::Tensor()};
  }
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
    padding_.emplace(node, kernel, strides_, dilations_);
    if (groups_ < 1 || weight_.size(0) % groups_ != 0) node.fail_invalid("bad group count");
    stride_one_ = strides_ == std::vector<int64_t>(rank, 1);
    update_gradient_weight();
  }

  at::Tensor run(const Arguments& inputs) const override {
    ResolvedPadding scratch;
    const ResolvedPadding& padding = padding_->resolve(inputs[0], scratch);
    const at::Tensor input = pad_border(inputs[0], padding, 0.0);
    if (!onednn_usable(input)) {
      return at::convolution(input, weight_, bias_, strides_, padding.symmetric, dilations_,
                             /*transposed=*/false, output_padding_, groups_);
    }
    const bool needs_gradient = at::GradMode::is_enabled() && input.requires_grad();
    if (needs_gradient && stride_one_ && gradient_padding_fits(padding.symmetric)) {
      // An undefined tensor cannot go through autograd's bookkeeping; an absent optional can.
      const c10::optional<at::Tensor> bias =
          bias_.defined() ? c10::optional<at::Tensor>(bias_) : c10::nullopt;
      return StrideOneConvolution::apply(input, weight_, bias, gradient_weight_, padding.symmetric,
                                         dilations_, groups_);
    }
    return at::mkldnn_convolution(input, weight_, bias_, padding.symmetric, strides_, dilations_,
                                  groups_);
  }

  void to(const c10::Device& device, c10::ScalarType dtype) override {
    move_floating(weight_, device, dtype);
    move_floating(bias_, device, dtype);
    move_floating(gradient_weight_, device, dtype);
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
    update_gradient_weight();
    return true;
  }

 private:
  // The filters of the input-gradient convolution: per group, output and input channels swapped,
  // and the kernel flipped in every spatial dimension.
  void update_gradient_weight() {
    if (!stride_one_) return;
    const int64_t out_channels = weight_.size(0);
    const int64_t in_per_group = weight_.size(1);
    std::vector<int64_t> grouped{groups_, out_channels / groups_, in_per_group};
    std::vector<int64_t> swapped{groups_ * in_per_group, out_channels / groups_};
    std::vector<int64_t> spatial;
    for (int64_t d = 2; d < weight_.dim(); ++d) {
      grouped.push_back(weight_.size(d));
      swapped.push_back(weight_.size(d));
      spatial.push_back(d);
    }
    gradient_weight_ =
        weight_.reshape(grouped).transpose(1, 2).reshape(swapped).flip(spatial).contiguous();
  }

  bool gradient_padding_fits(const std::vector<int64_t>& padding) const {
    for (size_t i = 0; i < padding.size(); ++i) {
      if (padding[i] > dilations_[i] * (weight_.size(static_cast<int64_t>(i) + 2) - 1))
        return false;
    }
    return true;
  }

  at::Tensor weight_, bias_, gradient_weight_;
  std::vector<int64_t> strides_, dilations_, output_padding_;
  int64_t groups_ = 1;
  bool stride_one_ = false;
  std::optional<WindowPadding> padding_;
};

}  // namespace

void add_convolution_operators(OperatorTable& table) {
  table["Conv"] = [](NodeContext& node) { return std::make_unique<ConvOperation>(node); };
}

}  // namespace faceqan::onnx_import
