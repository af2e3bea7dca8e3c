// Loading a recognition model by file type, with its description file.
#include <algorithm>
#include <filesystem>

#include "faceqan/model_io.h"
#include "faceqan/onnx_importer.h"

namespace fs = std::filesystem;

namespace faceqan {

std::shared_ptr<RecognitionModel> load_recognition_model(const std::string& model_path,
                                                         const std::string& device) {
  if (!fs::is_regular_file(model_path)) {
    throw Error(ErrorCode::kModelNotFound, "recognition model not found: " + model_path);
  }
  // Without a description the model is taken to follow insightface's convention
  // (RGB 112x112, mean 127.5, std 127.5), the ModelContract defaults.
  ModelContract contract;
  if (const std::string description = find_model_description(model_path); !description.empty()) {
    contract = read_model_description(description);
  }
  std::string extension = fs::path(model_path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), ::tolower);
  if (extension == ".onnx") {
    return make_recognition_model(import_onnx(model_path), contract, model_path, device);
  }
  if (extension == ".pt" || extension == ".pth" || extension == ".torchscript" || extension == ".zip") {
    return load_torchscript_model(model_path, contract, device);
  }
  throw Error(ErrorCode::kModelInvalid, "unknown recognition model type '" + extension + "' of " +
                                            model_path + ": use .onnx or TorchScript (.pt)");
}

}  // namespace faceqan
