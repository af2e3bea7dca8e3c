// TorchScript recognition models: any scripted or traced module whose forward maps a normalised
// NCHW batch to embeddings (see docs/MODELS.md for exporting the paper's CosFace ResNet-100).
#include <torch/script.h>

#include <filesystem>
#include <limits>

#include "faceqan/network.h"

namespace faceqan {
namespace {

class TorchScriptNetwork final : public EmbeddingNetwork {
 public:
  explicit TorchScriptNetwork(torch::jit::Module module) : module_(std::move(module)) {
    module_.eval();
    // Frozen weights: FaceQAN only needs gradients with respect to the input.
    for (auto parameter : module_.parameters()) parameter.set_requires_grad(false);
    flush_subnormal_weights();
  }

  at::Tensor forward(const at::Tensor& input) override {
    // A lower-precision copy takes float32 input and casts it to its weights' type.
    c10::IValue output = module_.forward({input.scalar_type() == dtype_ ? input : input.to(dtype_)});
    // Some exports return (embedding, ...) tuples; the embedding comes first.
    if (output.isTuple()) output = output.toTuple()->elements().at(0);
    if (!output.isTensor()) throw Error(ErrorCode::kModelInvalid, "TorchScript forward did not return a tensor");
    return output.toTensor().flatten(1);
  }

  void to(const c10::Device& device) override { module_.to(device); }

  // A deep copy with every floating-point parameter and buffer cast to dtype.
  std::unique_ptr<EmbeddingNetwork> converted(c10::ScalarType dtype,
                                              const c10::Device& device) const override {
    torch::jit::Module copy = module_.deepcopy();
    copy.to(device, dtype);
    auto network = std::make_unique<TorchScriptNetwork>(std::move(copy));
    network->dtype_ = dtype;
    return network;
  }

 private:
  // Weights below FLT_MIN in magnitude are subnormal: they change nothing measurable but make
  // the CPU's arithmetic on them up to 50x slower, so they are set to zero once at load.
  void flush_subnormal_weights() {
    at::NoGradGuard no_grad;
    auto flush = [](at::Tensor tensor) {
      if (tensor.is_floating_point()) {
        tensor.masked_fill_(tensor.abs() < std::numeric_limits<float>::min(), 0.0);
      }
    };
    for (const auto& parameter : module_.parameters()) flush(parameter);
    for (const auto& buffer : module_.buffers()) flush(buffer);
  }

  torch::jit::Module module_;
  c10::ScalarType dtype_ = at::kFloat;  // the input type forward() passes the module
};

}  // namespace

std::shared_ptr<RecognitionModel> load_torchscript_model(const std::string& path,
                                                         const ModelContract& contract,
                                                         const std::string& device) {
  if (!std::filesystem::is_regular_file(path)) {
    throw Error(ErrorCode::kModelNotFound, "recognition model not found: " + path);
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, c10::Device(c10::kCPU));
  } catch (const c10::Error& error) {
    throw Error(ErrorCode::kModelInvalid,
                "cannot read TorchScript model " + path + ": " + error.what_without_backtrace());
  }
  return make_recognition_model(std::make_unique<TorchScriptNetwork>(std::move(module)), contract,
                                path, device);
}

}  // namespace faceqan
