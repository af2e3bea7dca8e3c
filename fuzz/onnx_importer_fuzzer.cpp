// Fuzz target: the ONNX importer (quality/onnx). Bytes are an ONNX file. Properties: import ends
// in a network or in faceqan::Error (kModelInvalid or kUnsupportedOperator) with a message
// naming the file, never another exception or a crash; an imported network run on a small
// input gives a tensor or Error(kInvalidInput), and the input gradient (what FaceQAN's attack
// needs) can be taken through it.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>

#include <string>

#include "faceqan/onnx_importer.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool once = [] {
    at::set_num_threads(1);
    return true;
  }();
  (void)once;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<faceqan::EmbeddingNetwork> network;
  try {
    network = faceqan::import_onnx_bytes(bytes, "fuzz.onnx");
  } catch (const faceqan::Error& error) {
    FUZZ_CHECK(error.code() == faceqan::ErrorCode::kModelInvalid ||
                   error.code() == faceqan::ErrorCode::kUnsupportedOperator,
               "error code %d: %s", static_cast<int>(error.code()), error.what());
    FUZZ_CHECK(std::string(error.what()).find("fuzz.onnx") != std::string::npos,
               "the message does not name the file: %s", error.what());
    return 0;
  }
  // A small image batch: the shapes a graph accepts are its own business, but a wrong one must
  // come back as Error(kInvalidInput).
  const at::Tensor input = at::full({1, 3, 16, 16}, 0.5f).requires_grad_(true);
  at::Tensor output;
  try {
    output = network->forward(input);
    FUZZ_CHECK(output.defined(), "forward gave an undefined tensor");
  } catch (const faceqan::Error& error) {
    FUZZ_CHECK(error.code() == faceqan::ErrorCode::kInvalidInput, "forward: error code %d: %s",
               static_cast<int>(error.code()), error.what());
    return 0;
  }
  if (output.requires_grad() && output.is_floating_point()) {
    try {
      torch::autograd::grad({output.sum()}, {input}, {}, /*retain_graph=*/c10::nullopt,
                            /*create_graph=*/false, /*allow_unused=*/true);
    } catch (const c10::Error&) {
      // A graph ATen cannot differentiate is an error the scorer reports; not a crash.
    }
  }
  return 0;
}
