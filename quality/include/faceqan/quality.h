// faceqan/quality.h: the public interface of the FaceQAN scoring library.
//
// Load a recognition model once, configure FaceQAN, then score batches of aligned faces.
// Nothing here exposes LibTorch, OpenCV, GStreamer or files: faces go in as RGB float pixels,
// results come out as plain numbers. Errors are thrown as faceqan::Error.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace faceqan {

// What went wrong, so that each boundary (CLI, element) can map it to its own status.
enum class ErrorCode {
  kInvalidArgument,     // a setting out of range
  kModelNotFound,       // a model file that does not exist
  kModelInvalid,        // a model file that cannot be read or is malformed
  kUnsupportedOperator, // an ONNX operator the importer does not know
  kDeviceUnavailable,   // cuda asked for on a LibTorch without CUDA, or no such GPU
  kInvalidInput,        // a face of the wrong size or an empty batch where one is required
};

// The library's one exception type.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

enum class ChannelOrder { kRGB, kBGR };

// A recognition model's input contract (read from its description file, see MODEL.md).
// The network sees (pixel * 255 - mean) / std per channel, in channel_order.
struct ModelContract {
  int input_width = 112;
  int input_height = 112;
  ChannelOrder channel_order = ChannelOrder::kRGB;
  std::array<float, 3> mean{127.5f, 127.5f, 127.5f};  // on the 0..255 scale, in channel_order
  std::array<float, 3> std{127.5f, 127.5f, 127.5f};   // on the 0..255 scale, in channel_order
  int embedding_size = 0;                              // 0: unknown until the first forward pass
};

// One aligned face: contiguous rows of interleaved R, G, B floats in [0, 1], at the model's
// input size. The pixels are read during score()/embed() only; the caller keeps ownership.
struct FaceImage {
  const float* rgb = nullptr;
  int width = 0;
  int height = 0;
  // Identifies the face for its noise generator: the same key and seed give the same noise
  // whatever other faces share the batch (the CLI uses the image's index).
  std::uint64_t key = 0;
};

// The seed used when none is given; -1 draws a random one.
constexpr std::int64_t kDefaultSeed = 20220821;
constexpr std::int64_t kRandomSeed = -1;

// The number format of the recognition network's forward and backward passes while scoring.
// Similarities, their mean and standard deviation and the quality stay in float32/double; the
// noisy copies and the attack's steps stay float32 (only the network's input is cast).
//   kFloat32:  IEEE float32 throughout (on CUDA, TF32 tensor cores are switched off).
//   kTF32:     float32 storage, TF32 tensor-core convolutions and matrix products on CUDA (Ampere or
//              later); on the CPU it is exactly kFloat32 (TF32 is a CUDA mode).
//   kFloat16:  the network's weights and activations in IEEE half precision (CUDA; Debian's CPU
//              LibTorch has no half-precision convolutions and the scorer says so).
//   kBFloat16: the network's weights and activations in bfloat16 (CUDA on Ampere or later; on the
//              CPU where oneDNN supports it, for example with AVX-512).
//   kAuto:     opt-in: kBFloat16 where the device has native bfloat16 arithmetic (a CPU with
//              AVX512_BF16 or AMX-BF16 that oneDNN may use, i.e. not capped below it by
//              ONEDNN_MAX_CPU_ISA; a GPU whose cuDNN runs bfloat16 convolutions), else kFloat32. The
//              scorer resolves it when it is made (settings().precision then says which).
// A precision the device cannot run is refused when the scorer is made: Error(kDeviceUnavailable)
// naming the precision and the device. Nothing falls back silently (kAuto chooses; it never
// falls back after a failure).
enum class Precision { kFloat32, kTF32, kFloat16, kBFloat16, kAuto };

// "fp32", "tf32", "fp16", "bf16", "auto".
const char* precision_name(Precision precision);
// Parses "fp32"|"float32", "tf32", "fp16"|"float16"|"half", "bf16"|"bfloat16", "auto";
// throws Error(kInvalidArgument) for anything else.
Precision parse_precision(const std::string& text);

// Whether this CPU has native bfloat16 arithmetic that oneDNN may use (AVX512_BF16 or AMX-BF16,
// and ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA, if set, not below AVX512_CORE_BF16).
bool cpu_has_native_bf16();

// How the attack runs on a CPU: left at 0/-1, the rule measured in docs/PERFORMANCE.md (on the
// AVX-512 and the AVX2 code paths of oneDNN); benchmarks set them to compare alternatives.
// Neither changes the scores beyond the last digits of float32 sums.
struct CpuExecution {
  // Noisy copies that go through the network together on one thread (its sub-batch); each
  // thread runs all l steps of one sub-batch before the next. 0: the rule (up to 5 where oneDNN
  // runs AVX-512 kernels, 2 elsewhere).
  int images_per_pass = 0;
  // The network's activations on the CPU: -1 the rule (channels last), 0 NCHW, 1 channels last.
  int channels_last = -1;
};

// FaceQAN's parameters (Babnik, Peer, Struc, ICPR 2022). Defaults are the paper's.
struct FaceQanSettings {
  double epsilon = 0.001;  // noise amplitude and attack step, in (0, 1)
  int iterations = 5;      // l: steps of the basic iterative method, >= 1
  int samples = 10;        // k: noisy copies per face, >= 2
  int exponent = 5;        // p: the final power, >= 1
  std::int64_t seed = kDefaultSeed;
  Precision precision = Precision::kFloat32;  // the network's number format (not the paper's)
  CpuExecution cpu;                           // CPU sub-batches and layout (not the paper's)

  // Throws Error(kInvalidArgument) naming the first bad parameter.
  void validate() const;
};

// A face's quality and the parts it is made of.
struct FaceQuality {
  double quality = 0.0;          // (((1 + mean) / 2) * clip(1 - std, 0, 1) * symmetry)^p
  double mean_similarity = 0.0;  // mean of the l*k cosine similarities S
  double std_similarity = 0.0;   // population standard deviation of S
  double symmetry = 0.0;         // cos(emb(x), emb(hflip(x)))
  // The L2 norm of the clean face's embedding before normalisation, from the forward pass that
  // gives FaceQAN its target (no extra pass): MagFace's quality signal, free with every score.
  // Not part of `quality`. At a precision below float32 it carries that precision's rounding.
  double embedding_norm = 0.0;
  std::vector<float> embedding;  // the clean face's L2-normalised embedding
};

// Combines the similarities S and the symmetry term into FaceQAN's quality, in double precision.
// Throws Error(kInvalidArgument) for an empty S or p < 1.
FaceQuality aggregate_quality(const std::vector<double>& similarities, double symmetry, int exponent);

// Sets the number of CPU threads LibTorch uses (0: all cores). Process-wide.
void set_cpu_threads(int threads);
int cpu_threads();

// Whether this LibTorch was built with CUDA and sees at least one GPU.
bool cuda_available();

// Hands memory that the process has freed but the allocator still holds back to the operating
// system (glibc: malloc_trim; elsewhere nothing). Long-running callers (the element, after each
// scoring pass) use it because glibc gives every thread that allocates its own arena and keeps
// each arena's freed pages: on the CPU a pass's tensors (tens of MB) come and go on several
// threads, and the arenas' kept pages add up to a resident size that climbs for thousands of
// frames (docs/RELIABILITY.md, soak). Process-wide; cheap next to a pass (the soak ran no slower).
void release_free_memory();

// A loaded recognition network with its input contract, on one device. Shared by scorers;
// calls from several threads are serialised inside.
class RecognitionModel {
 public:
  struct Impl;
  explicit RecognitionModel(std::shared_ptr<Impl> impl);

  const ModelContract& contract() const;
  std::string device() const;  // "cpu" or "cuda:N"
  const std::string& source() const;  // the file it came from

  // Embeddings (not normalised) of aligned faces, one vector per face.
  std::vector<std::vector<float>> embed(const std::vector<FaceImage>& faces) const;

  Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

// Loads a TorchScript recognition model (a module whose forward maps a normalised NCHW batch to
// embeddings). device: "auto", "cpu", "cuda" or "cuda:N".
std::shared_ptr<RecognitionModel> load_torchscript_model(const std::string& path,
                                                         const ModelContract& contract,
                                                         const std::string& device = "auto");

// Work counters, for benchmarks.
struct ScorerCounters {
  std::uint64_t faces = 0;
  std::uint64_t forward_images = 0;   // images through a forward pass
  std::uint64_t backward_images = 0;  // images through a backward pass
};

class FaceQanScorer;

// "batch-size auto": the number of faces per score() call that is fastest on the scorer's device.
//   CPU: the fewest faces whose n*k noisy copies fill every thread's sub-batches (CpuExecution)
//        exactly (at most threads * images per pass faces): 1 face at the paper's k = 10 on 2
//        threads with AVX-512 (5 images per pass), 2 with AVX2 (2 per pass). Beyond that a larger
//        batch only delays every face's result (docs/PERFORMANCE.md).
//   CUDA: 32 faces (320 images per pass at k = 10): enough to fill a GPU; bounded by the memory of
//        the backward pass.
struct BatchSizeChoice {
  int faces = 1;
  std::string reason;  // what was chosen and why, for the CLI's and the element's log
};
BatchSizeChoice auto_batch_size(const FaceQanScorer& scorer);
// Parses a batch size: "auto" (auto_batch_size) or a whole number >= 1 (used as given, with the
// reason "set explicitly"); throws Error(kInvalidArgument) for anything else.
BatchSizeChoice choose_batch_size(const std::string& text, const FaceQanScorer& scorer);

// Scores aligned faces with FaceQAN. Not thread-safe: use one scorer per thread, or serialise.
class FaceQanScorer {
 public:
  FaceQanScorer(std::shared_ptr<RecognitionModel> model, FaceQanSettings settings);
  ~FaceQanScorer();
  FaceQanScorer(const FaceQanScorer&) = delete;
  FaceQanScorer& operator=(const FaceQanScorer&) = delete;

  // Throws Error(kDeviceUnavailable) when settings.precision cannot run on the model's device (the
  // check runs one image forward and backward at that precision, once per model and precision).
  // Scores all faces together in one batch of faces * samples images; result i is faces[i]'s.
  // Each face's result depends only on its pixels, its key and the seed.
  std::vector<FaceQuality> score(const std::vector<FaceImage>& faces);

  // The settings in use: precision kAuto is resolved to the one chosen.
  const FaceQanSettings& settings() const { return settings_; }
  std::int64_t seed() const { return seed_; }  // the seed in use (drawn when settings.seed == -1)
  const RecognitionModel& model() const { return *model_; }
  const ScorerCounters& counters() const { return counters_; }

 private:
  std::shared_ptr<RecognitionModel> model_;
  FaceQanSettings settings_;
  std::int64_t seed_;
  ScorerCounters counters_;
};

}  // namespace faceqan
