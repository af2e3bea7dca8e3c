// RecognitionModel: a network plus its input contract's normalisation, on one device.
#include <ATen/ATen.h>

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
