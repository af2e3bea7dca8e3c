// ONNX operators with weights or windows: BatchNormalization, PRelu, Gemm, MatMul, pools.
// Conv has its own file (onnx_convolution.cpp).
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "onnx_graph.h"
#include "onnx_window.h"

namespace faceqan::onnx_import {
namespace {

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
      if (t->numel() != channels)
        node.fail_invalid("scale, bias, mean and variance differ in size");
      *t = t->reshape({channels}).to(at::kFloat);
    }
  }

  at::Tensor run(const Arguments& inputs) const override {
    return at::batch_norm(inputs[0], gamma_, beta_, mean_, variance_, /*training=*/false,
                          /*momentum=*/0.0, epsilon_, /*cudnn_enabled=*/true);
  }

  void to(const c10::Device& device, c10::ScalarType dtype) override {
    for (at::Tensor* t : {&gamma_, &beta_, &mean_, &variance_}) move_floating(*t, device, dtype);
  }

  std::optional<ChannelAffine> as_channel_affine() const override {
    // In double so that folding into a convolution loses no precision.
    const at::Tensor scale = gamma_.to(at::kDouble) /
                             at::sqrt(variance_.to(at::kDouble) + static_cast<double>(epsilon_));
    return ChannelAffine{scale, beta_.to(at::kDouble) - mean_.to(at::kDouble) * scale};
  }

 private:
  at::Tensor gamma_, beta_, mean_, variance_;
  float epsilon_;
};

// d prelu(x) / dx applied to an output gradient: g where x >= 0, slope * g elsewhere; slope has
// one value per channel (dimension 1) or a single one. A plain loop on contiguous CPU floats:
// at::where takes several times longer on this memory-bound step.
at::Tensor prelu_input_gradient(const at::Tensor& input, const at::Tensor& gradient,
                                const at::Tensor& slope) {
  if (!input.device().is_cpu() || input.scalar_type() != at::kFloat ||
      gradient.scalar_type() != at::kFloat || input.dim() < 2) {
    at::Tensor broadcast = slope;
    if (slope.numel() > 1) {
      std::vector<int64_t> shape(static_cast<size_t>(input.dim()), 1);
      shape[1] = -1;
      broadcast = slope.view(shape);
    }
    return at::where(input >= 0, gradient, gradient * broadcast);
  }
  // Channels-last activations (the scorer's CPU layout, see faceqan_scorer.cpp) are read as rows
  // of C values, NCHW ones as planes of H*W values; the result keeps the input's layout.
  const bool channels_last = input.dim() == 4 && !input.is_contiguous() &&
                             input.is_contiguous(at::MemoryFormat::ChannelsLast);
  const at::MemoryFormat layout =
      channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  const at::Tensor x = input.contiguous(layout);
  const at::Tensor g = gradient.contiguous(layout);
  const at::Tensor a = slope.contiguous();
  at::Tensor result = at::empty_like(x);  // x is dense: its strides (layout) are kept
  const int64_t channels = x.size(1);
  const float* x_data = x.data_ptr<float>();
  const float* g_data = g.data_ptr<float>();
  const float* a_data = a.data_ptr<float>();
  float* out = result.data_ptr<float>();
  const bool shared = a.numel() == 1;
  if (channels_last) {
    const int64_t rows = channels == 0 ? 0 : x.numel() / channels;
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(channels, 1));
    at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t offset = row * channels;
        for (int64_t c = 0; c < channels; ++c) {
          const float scale = a_data[shared ? 0 : c];
          out[offset + c] = x_data[offset + c] >= 0.0f ? g_data[offset + c] : scale * g_data[offset + c];
        }
      }
    });
    return result;
  }
  const int64_t planes = x.size(0) * channels;
  const int64_t plane_size = planes == 0 ? 0 : x.numel() / planes;
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(plane_size, 1));
  at::parallel_for(0, planes, grain, [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const float scale = a_data[shared ? 0 : plane % channels];
      const int64_t offset = plane * plane_size;
      for (int64_t i = offset; i < offset + plane_size; ++i) {
        out[i] = x_data[i] >= 0.0f ? g_data[i] : scale * g_data[i];
      }
    }
  });
  return result;
}

// ATen's per-channel PReLU, with an input-only backward: ATen's own prelu_backward also reduces
// the slope's gradient, which frozen weights never need, and took a quarter of a backward pass.
class ChannelPRelu : public torch::autograd::Function<ChannelPRelu> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* context, const at::Tensor& input,
                            const at::Tensor& slope) {
    context->save_for_backward({input});
    context->saved_data["slope"] = slope;
    return at::prelu(input, slope);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list gradients) {
    const at::Tensor input = context->get_saved_variables()[0];
    return {prelu_input_gradient(input, gradients[0], context->saved_data["slope"].toTensor()),
            at::Tensor()};
  }
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
      if (single || legacy_vector || on_channels) {
        const bool needs_gradient = at::GradMode::is_enabled() && x.requires_grad();
        return needs_gradient ? ChannelPRelu::apply(x, channel_slope_)
                              : at::prelu(x, channel_slope_);
      }
    }
    return at::where(x >= 0, x, x * slope_);
  }

  void to(const c10::Device& device, c10::ScalarType dtype) override {
    move_floating(slope_, device, dtype);
    move_floating(channel_slope_, device, dtype);
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

  void to(const c10::Device& device, c10::ScalarType dtype) override {
    move_floating(weight_, device, dtype);
    move_floating(bias_, device, dtype);
    move_floating(addend_, device, dtype);
  }

 private:
  float alpha_, beta_;
  bool trans_a_, trans_b_;
  at::Tensor weight_, bias_, addend_;
};

class MatMulOperation final : public Operation {
 public:
  at::Tensor run(const Arguments& inputs) const override {
    return at::matmul(inputs[0], inputs[1]);
  }
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
    padding_.emplace(node, kernel_, strides_, dilations_);
    if (!max_) {
      if (dilations_ != std::vector<int64_t>(rank, 1)) node.fail_unsupported("dilated AveragePool");
      // Averaging over an explicit zero border would count the border: only right with
      // count_include_pad.
      if (padding_->may_be_asymmetric() && !count_include_pad_) {
        node.fail_unsupported("asymmetric padding without count_include_pad");
      }
    }
  }

  at::Tensor run(const Arguments& inputs) const override {
    const double fill = max_ ? -std::numeric_limits<double>::infinity() : 0.0;
    ResolvedPadding scratch;
    const ResolvedPadding& resolved = padding_->resolve(inputs[0], scratch);
    const at::Tensor x = pad_border(inputs[0], resolved, fill);
    const std::vector<int64_t>& padding = resolved.symmetric;
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
