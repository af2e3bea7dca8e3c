// faceqan/network.h: the extension point for model formats (LibTorch inside).
//
// A model format (TorchScript here, ONNX in faceqan_model_io) provides an EmbeddingNetwork;
// make_recognition_model wraps it with the input contract's normalisation and a device.
// Only model loaders and tests include this header; applications use quality.h.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "faceqan/quality.h"

namespace faceqan {

// Maps a normalised NCHW float batch (any batch size) to embeddings [N, D], differentiably with
// respect to its input. Implementations must not need weight gradients, and forward must be
// safe to call from several threads at once (keep no state between passes).
class EmbeddingNetwork {
 public:
  virtual ~EmbeddingNetwork() = default;
  virtual at::Tensor forward(const at::Tensor& input) = 0;
  // Moves the parameters to a device.
  virtual void to(const c10::Device& device) = 0;
  // A separate copy of this network with its floating-point weights in `dtype` on `device` (for
  // lower-precision scoring; the original is left as it is). The copy takes float32 input, casts
  // it where it sees fit, and returns embeddings in `dtype` or float32. Formats that cannot make one throw
  // Error(kInvalidArgument); the default does.
  virtual std::unique_ptr<EmbeddingNetwork> converted(c10::ScalarType dtype, const c10::Device& device) const;
};

// The tensor type a precision runs the network in (kFloat for fp32 and tf32).
c10::ScalarType precision_dtype(Precision precision);

// Parses "auto", "cpu", "cuda" or "cuda:N"; throws Error(kDeviceUnavailable) when a GPU is asked
// for and LibTorch has none, Error(kInvalidArgument) for anything else.
c10::Device resolve_device(const std::string& spec);

struct RecognitionModel::Impl {
  std::unique_ptr<EmbeddingNetwork> network;
  ModelContract contract;
  std::string source;
  c10::Device device{c10::kCPU};
  at::Tensor scale;   // [1,3,1,1]: 255 / std, in the network's channel order
  at::Tensor offset;  // [1,3,1,1]: mean / std
  std::mutex mutex;   // guards `converted` and `precision_checked` (not the passes)
  // Lower-precision copies of `network`, made on first use, and whether each passed its check.
  std::map<c10::ScalarType, std::unique_ptr<EmbeddingNetwork>> converted;
  std::map<c10::ScalarType, std::string> precision_checked;  // dtype -> "" (ok) or the error

  // faces: [N,3,H,W] RGB in [0,1] on `device`. Returns embeddings [N,D]; differentiable.
  // Called from several threads at once (the scorer's chunks, several scorers).
  at::Tensor embed(const at::Tensor& rgb01);
  // The same with the network's copy in `dtype` (check_precision makes it): float32 in and out,
  // so that gradients reach a float32 input. kFloat is embed(rgb01).
  at::Tensor embed(const at::Tensor& rgb01, c10::ScalarType dtype);
  // Makes the copy for `precision` if needed and runs one image forward and backward through it
  // once; throws Error(kDeviceUnavailable) naming the precision and device when that fails.
  void check_precision(Precision precision);
};

std::shared_ptr<RecognitionModel> make_recognition_model(std::unique_ptr<EmbeddingNetwork> network,
                                                         const ModelContract& contract,
                                                         std::string source,
                                                         const std::string& device);

// Puts the calling thread and LibTorch's CPU worker threads into flush-to-zero mode (see
// device.cpp for why). Cheap; called before every scoring pass.
void flush_subnormals_on_compute_threads();

// Whether oneDNN runs its AVX-512 kernels here: the CPU has AVX-512 F/BW/VL and
// ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA), if set, is ALL or an AVX512 level.
bool onednn_uses_avx512();

// Runs task(0), ..., task(count - 1) side by side, one per thread (the caller runs task 0), each
// with LibTorch's CPU operations single-threaded; rethrows the first exception after all ended.
// Sequential on the caller when count <= 1 or no OpenMP runtime is loaded
// (can_run_side_by_side() is then false).
bool can_run_side_by_side();
void run_side_by_side(std::int64_t count, const std::function<void(std::int64_t)>& task);

// Packs aligned faces (HWC float RGB) into a [N,3,H,W] CPU tensor, checking their size.
at::Tensor faces_to_tensor(const std::vector<FaceImage>& faces, const ModelContract& contract);

}  // namespace faceqan
