// faceqan/model_io.h: load recognition models from files, with their description.
#pragma once

#include <memory>
#include <string>

#include "faceqan/quality.h"

namespace faceqan {

// Reads a model description file (JSON: input_size [w, h], channel_order "RGB"|"BGR",
// mean [3], std [3] on the 0..255 scale, embedding_size). Throws Error(kModelInvalid) naming the
// file and the bad key.
ModelContract read_model_description(const std::string& json_path);

// The same from the text of a description; `source` names it in messages (a path, usually).
ModelContract parse_model_description(const std::string& text, const std::string& source);

// The description file that belongs to a model file: "<dir>/<stem>.json" if it exists, otherwise
// "<dir>/MODEL.json" if it exists, otherwise empty.
std::string find_model_description(const std::string& model_path);

// Loads a recognition model by extension (.onnx through the project's importer, .pt/.pth/
// .torchscript as TorchScript) with the contract from its description file (or the insightface
// defaults, RGB 112x112 mean 127.5 std 127.5, when it has none). device: auto|cpu|cuda|cuda:N.
std::shared_ptr<RecognitionModel> load_recognition_model(const std::string& model_path,
                                                         const std::string& device = "auto");

}  // namespace faceqan
