// RecognitionModel: a network plus its input contract's normalisation, on one device.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include "faceqan/network.h"

namespace faceqan {

RecognitionModel::RecognitionModel(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

const ModelContract& RecognitionModel::contract() const { return impl_->contract; }

std::string RecognitionModel::device() const { return impl_->device.str(); }

const std::string& RecognitionModel::source() const { return impl_->source; }

at::Tensor RecognitionModel::Impl::embed(const at::Tensor& rgb01) {
  at::Tensor input = rgb01;
  if (contract.channel_order == ChannelOrder::kBGR) input = input.flip({1});
  // (pixel * 255 - mean) / std, folded into one multiply-add.
  input = input * scale - offset;
  return network->forward(input);
}

at::Tensor RecognitionModel::Impl::embed(const at::Tensor& rgb01, c10::ScalarType dtype) {
  if (dtype == at::kFloat) return embed(rgb01);
  at::Tensor input = rgb01;
  if (contract.channel_order == ChannelOrder::kBGR) input = input.flip({1});
  // Normalised in float32; the copy casts it (its cast's gradient takes the network's input
  // gradient back to float32, so the attack's steps and the noisy copies stay float32).
  input = input * scale - offset;
  EmbeddingNetwork* copy = nullptr;
  {
    // Only the lookup is locked: copies are never removed once checked, and passes may overlap.
    std::lock_guard<std::mutex> lock(mutex);
    auto found = converted.find(dtype);
    if (found == converted.end()) {
      throw Error(ErrorCode::kInvalidArgument, std::string("no ") + c10::toString(dtype) +
                                                   " copy of the network: call check_precision first");
    }
    copy = found->second.get();
  }
  return copy->forward(input).to(at::kFloat);
}

void RecognitionModel::Impl::check_precision(Precision precision) {
  const c10::ScalarType dtype = precision_dtype(precision);
  if (dtype == at::kFloat) return;
  const std::string what = std::string("precision ") + precision_name(precision) +
                           " is not supported on device " + device.str() + " for " + source;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto checked = precision_checked.find(dtype);
    if (checked != precision_checked.end()) {
      if (checked->second.empty()) return;
      throw Error(ErrorCode::kDeviceUnavailable, checked->second);
    }
    if (converted.find(dtype) == converted.end()) {
      try {
        converted[dtype] = network->converted(dtype, device);
      } catch (const Error& error) {
        precision_checked[dtype] = what + ": " + error.what();
        throw Error(ErrorCode::kDeviceUnavailable, precision_checked[dtype]);
      }
    }
  }
  // One image forward and backward: convolutions and their gradients are where a device or a
  // LibTorch build lacks a type (Debian's CPU LibTorch has no float16 convolution, for example).
  std::string failure;
  try {
    const at::Tensor face =
        at::full({1, 3, contract.input_height, contract.input_width}, 0.5,
                 at::TensorOptions().dtype(at::kFloat).device(device))
            .requires_grad_(true);
    const at::Tensor embedding = embed(face, dtype);
    const at::Tensor gradient = torch::autograd::grad({embedding.sum()}, {face})[0];
    if (!embedding.isfinite().all().item<bool>() || !gradient.defined()) {
      failure = "the network gives non-finite embeddings at this precision";
    }
  } catch (const c10::Error& error) {
    failure = error.what_without_backtrace();
  } catch (const std::exception& error) {
    failure = error.what();
  }
  std::lock_guard<std::mutex> lock(mutex);
  precision_checked[dtype] = failure.empty() ? "" : what + ": " + failure;
  if (!failure.empty()) {
    converted.erase(dtype);
    throw Error(ErrorCode::kDeviceUnavailable, precision_checked[dtype]);
  }
}

std::unique_ptr<EmbeddingNetwork> EmbeddingNetwork::converted(c10::ScalarType dtype,
                                                              const c10::Device& /*device*/) const {
  throw Error(ErrorCode::kInvalidArgument, std::string("this model format cannot run in ") +
                                               c10::toString(dtype));
}

c10::ScalarType precision_dtype(Precision precision) {
  switch (precision) {
    case Precision::kFloat16: return at::kHalf;
    case Precision::kBFloat16: return at::kBFloat16;
    case Precision::kFloat32:
    case Precision::kTF32:
    case Precision::kAuto: break;  // resolved by the scorer before it gets here
  }
  return at::kFloat;
}

std::vector<std::vector<float>> RecognitionModel::embed(const std::vector<FaceImage>& faces) const {
  if (faces.empty()) return {};
  at::NoGradGuard no_grad;
  if (impl_->device.is_cpu()) flush_subnormals_on_compute_threads();
  const at::Tensor batch = faces_to_tensor(faces, impl_->contract).to(impl_->device);
  const at::Tensor embeddings = impl_->embed(batch).to(at::kCPU, at::kFloat).contiguous();
  std::vector<std::vector<float>> rows(static_cast<size_t>(embeddings.size(0)));
  const int64_t dim = embeddings.size(1);
  const float* data = embeddings.data_ptr<float>();
  for (size_t i = 0; i < rows.size(); ++i) rows[i].assign(data + i * dim, data + (i + 1) * dim);
  return rows;
}

at::Tensor faces_to_tensor(const std::vector<FaceImage>& faces, const ModelContract& contract) {
  at::Tensor batch = at::empty({static_cast<int64_t>(faces.size()), 3, contract.input_height,
                                contract.input_width},
                               at::kFloat);
  for (size_t i = 0; i < faces.size(); ++i) {
    const FaceImage& face = faces[i];
    if (face.rgb == nullptr || face.width != contract.input_width ||
        face.height != contract.input_height) {
      throw Error(ErrorCode::kInvalidInput,
                  "face " + std::to_string(i) + " is " + std::to_string(face.width) + "x" +
                      std::to_string(face.height) + ", the model expects " +
                      std::to_string(contract.input_width) + "x" +
                      std::to_string(contract.input_height));
    }
    // HWC interleaved -> CHW: one strided copy straight into the batch.
    const at::Tensor hwc = at::from_blob(const_cast<float*>(face.rgb),
                                         {face.height, face.width, 3}, at::kFloat);
    batch[static_cast<int64_t>(i)].copy_(hwc.permute({2, 0, 1}));
  }
  return batch;
}

std::shared_ptr<RecognitionModel> make_recognition_model(std::unique_ptr<EmbeddingNetwork> network,
                                                         const ModelContract& contract,
                                                         std::string source,
                                                         const std::string& device) {
  if (contract.input_width < 1 || contract.input_height < 1) {
    throw Error(ErrorCode::kModelInvalid, source + ": input size must be positive");
  }
  for (float s : contract.std) {
    if (!(s > 0.0f)) throw Error(ErrorCode::kModelInvalid, source + ": std must be positive");
  }
  auto impl = std::make_shared<RecognitionModel::Impl>();
  impl->network = std::move(network);
  impl->contract = contract;
  impl->source = std::move(source);
  impl->device = resolve_device(device);
  impl->network->to(impl->device);
  std::array<float, 3> scale{}, offset{};
  for (int c = 0; c < 3; ++c) {
    scale[c] = 255.0f / contract.std[c];
    offset[c] = contract.mean[c] / contract.std[c];
  }
  impl->scale = at::tensor(at::ArrayRef<float>(scale.data(), 3)).view({1, 3, 1, 1}).to(impl->device);
  impl->offset = at::tensor(at::ArrayRef<float>(offset.data(), 3)).view({1, 3, 1, 1}).to(impl->device);
  return std::make_shared<RecognitionModel>(std::move(impl));
}

}  // namespace faceqan
