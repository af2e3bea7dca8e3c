// faceqan/model_paths.h: where programs and the element find prepared models.
//
// Search order: each folder of FACEQAN_MODEL_PATH (colon-separated), then the build tree's
// models/ and the installed share/faceqan/models, both found relative to the binary or plugin
// that asks, so a relocated install (cmake --install --prefix ...) still finds its models.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace faceqan {

inline constexpr const char* kDefaultRecognitionModel = "recognition/mobilefacenet512_faceplugin.onnx";
inline constexpr const char* kDefaultDetectionModel = "detection/retinaface_mnet025_640.onnx";

// Thrown when a model cannot be found; the message lists the folders searched.
class ModelLookupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The folders searched, in order, that exist.
std::vector<std::string> model_search_path();

// An absolute or relative path that exists is returned as it is; otherwise a name relative to the
// model folders (e.g. kDefaultRecognitionModel) is looked up in each. Throws ModelLookupError.
std::string find_model(const std::string& name_or_path);

}  // namespace faceqan
