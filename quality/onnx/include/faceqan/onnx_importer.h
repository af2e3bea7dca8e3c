// faceqan/onnx_importer.h: the project's own ONNX importer. It turns an ONNX graph into a
// sequence of LibTorch (ATen) operations, so that gradients with respect to the input flow through
// it. Dimension 0 is the batch: a graph exported with a fixed batch of 1 runs on any batch.
#pragma once

#include <memory>
#include <string>

#include "faceqan/network.h"

namespace faceqan {

// Imports an ONNX file with one image input (NCHW float) and one embedding output.
// Throws Error(kModelNotFound) for a missing file, Error(kModelInvalid) for a malformed one
// (naming the problem), Error(kUnsupportedOperator) naming the first unsupported operator.
std::unique_ptr<EmbeddingNetwork> import_onnx(const std::string& path);

// The same from the bytes of an ONNX file already in memory; `source` names it in messages.
// Throws Error(kModelInvalid) or Error(kUnsupportedOperator) as import_onnx() does.
std::unique_ptr<EmbeddingNetwork> import_onnx_bytes(const std::string& bytes,
                                                    const std::string& source);

}  // namespace faceqan
