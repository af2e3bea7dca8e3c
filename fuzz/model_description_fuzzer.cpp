// Fuzz target: the recognition model description reader (MODEL.json, quality/onnx). Bytes are the
// text of a description file. Properties: only faceqan::Error(kModelInvalid) comes out of a bad
// file, with a message; an accepted file gives a contract the scorer can use (positive input
// size, positive finite std, a non-negative embedding size).
#include <cmath>
#include <string>

#include "faceqan/model_io.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  faceqan::ModelContract contract;
  try {
    contract = faceqan::parse_model_description(text, "fuzz/MODEL.json");
  } catch (const faceqan::Error& error) {
    FUZZ_CHECK(error.code() == faceqan::ErrorCode::kModelInvalid, "error code %d: %s",
               static_cast<int>(error.code()), error.what());
    FUZZ_CHECK(std::string(error.what()).find("fuzz/MODEL.json") != std::string::npos,
               "the message does not name the file: %s", error.what());
    return 0;
  }
  FUZZ_CHECK(contract.input_width >= 1 && contract.input_height >= 1, "input size %dx%d",
             contract.input_width, contract.input_height);
  FUZZ_CHECK(contract.embedding_size >= 0, "embedding size %d", contract.embedding_size);
  for (int c = 0; c < 3; ++c) {
    FUZZ_CHECK(std::isfinite(contract.std[c]) && contract.std[c] > 0.0f, "std %g",
               static_cast<double>(contract.std[c]));
    FUZZ_CHECK(std::isfinite(contract.mean[c]), "mean %g", static_cast<double>(contract.mean[c]));
  }
  return 0;
}
