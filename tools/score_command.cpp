#include "score_command.h"

#include <cstdio>
#include <memory>
#include <optional>

#include "face_extraction.h"
#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#include "faceqan/quality.h"
#include "progress.h"
#include "score_results.h"

namespace faceqan::cli {
namespace {

// A face waiting for its batch: where its result goes and its pixels.
struct PendingFace {
  size_t report = 0;
  size_t face = 0;
  std::vector<float> rgb;
  std::uint64_t key = 0;
};

// Collects faces from consecutive images and scores them batch-size at a time.
class BatchScorer {
 public:
  BatchScorer(FaceQanScorer& scorer, std::vector<ImageReport>& reports, size_t batch_size)
      : scorer_(scorer), reports_(reports), batch_size_(batch_size) {}

  void add(PendingFace face) {
    pending_.push_back(std::move(face));
    if (pending_.size() >= batch_size_) flush();
  }

  void flush() {
    if (pending_.empty()) return;
    const ModelContract& contract = scorer_.model().contract();
    std::vector<FaceImage> images;
    images.reserve(pending_.size());
    for (const auto& face : pending_) {
      images.push_back({face.rgb.data(), contract.input_width, contract.input_height, face.key});
    }
    const std::vector<FaceQuality> results = scorer_.score(images);
    for (size_t i = 0; i < pending_.size(); ++i) {
      FaceReport& report = reports_[pending_[i].report].faces[pending_[i].face];
      report.quality = results[i].quality;
      report.mean_similarity = results[i].mean_similarity;
      report.std_similarity = results[i].std_similarity;
      report.symmetry = results[i].symmetry;
      report.embedding_norm = results[i].embedding_norm;
    }
    pending_.clear();
  }

 private:
  FaceQanScorer& scorer_;
  std::vector<ImageReport>& reports_;
  size_t batch_size_;
  std::vector<PendingFace> pending_;
};

// The key of a face for its noise generator: the image's index, and the face's index within a
// photo in the upper bits (0 for an aligned image, so its key is the image index alone).
std::uint64_t face_key(size_t image, size_t face) {
  return static_cast<std::uint64_t>(image) | (static_cast<std::uint64_t>(face) << 40);
}

}  // namespace

void add_score_command(CLI::App& app, ScoreOptions& options) {
  CLI::App* command = app.add_subcommand(
      "score",
      "Score face images with FaceQAN. Images already at the recognition model's input size are "
      "taken as aligned faces; other images are photos whose faces are detected and aligned first.");
  command->add_option("images", options.images, "Image files")->required();
  command->add_option("--recognizer", options.recognizer,
                      "Recognition model (.onnx or TorchScript .pt); default: " +
                          std::string(kDefaultRecognitionModel) + " on the model path");
  command->add_option("--epsilon", options.faceqan.epsilon, "Noise amplitude and attack step, in (0, 1)")
      ->capture_default_str();
  command->add_option("-l,--iterations", options.faceqan.iterations, "Attack steps l (>= 1)")->capture_default_str();
  command->add_option("-k,--samples", options.faceqan.samples, "Noisy copies per face k (>= 2)")->capture_default_str();
  command->add_option("-p,--exponent", options.faceqan.exponent, "Exponent p (>= 1)")->capture_default_str();
  command->add_option("--seed", options.faceqan.seed, "Random seed (-1: a random one)")->capture_default_str();
  command->add_option("--device", options.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  command->add_option("--precision", options.precision,
                      "The network's number format while scoring: fp32, tf32 (CUDA TF32 tensor "
                      "cores; fp32 on the CPU), fp16, bf16, or auto (bf16 where the device has "
                      "native bfloat16, fp32 elsewhere). A precision the device cannot run is an error")
      ->check(CLI::IsMember({"fp32", "tf32", "fp16", "bf16", "auto"}))
      ->capture_default_str();
  command->add_option("--batch-size", options.batch_size,
                      "Faces scored together: auto (the fastest on the device: on a CPU the fewest "
                      "faces whose copies split evenly over the threads, on a GPU 32) or 1-4096")
      ->check(CLI::IsMember({"auto"}) | CLI::Range(1, 4096))
      ->capture_default_str();
  command->add_option("--threads", options.threads, "CPU threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command->add_option("-o,--output", options.output, "Write results to FILE (.json or .csv); default: JSON on stdout");
  command->add_flag("--detect", options.detect,
                    "Detect and align faces even in images already at the model's input size");
  add_detector_options(*command, options.detection);
}

int run_score(const ScoreOptions& options) {
  const std::string format = format_for_path(options.output);
  set_cpu_threads(options.threads);
  FaceQanSettings settings = options.faceqan;
  settings.precision = parse_precision(options.precision);
  settings.validate();

  const std::string model_path =
      find_model(options.recognizer.empty() ? kDefaultRecognitionModel : options.recognizer);
  FaceQanScorer scorer(load_recognition_model(model_path, options.device), settings);
  const ModelContract& contract = scorer.model().contract();
  const cv::Size input_size(contract.input_width, contract.input_height);

  std::vector<ImageReport> reports(options.images.size());
  const BatchSizeChoice batch_size = choose_batch_size(options.batch_size, scorer);
  if (options.batch_size == "auto" || options.precision == "auto") {
    std::fprintf(stderr, "faceqan score: batch size %d (%s), precision %s\n", batch_size.faces,
                 batch_size.reason.c_str(), precision_name(scorer.settings().precision));
  }
  BatchScorer batches(scorer, reports, static_cast<size_t>(batch_size.faces));
  std::unique_ptr<FaceExtractor> extractor;  // loaded when the first photo needs it
  std::optional<std::string> detector_error;
  Progress progress("scoring", options.images.size());
  bool any_failed = false;

  for (size_t i = 0; i < options.images.size(); ++i) {
    ImageReport& report = reports[i];
    try {
      const cv::Mat bgr = read_reported_image(report, options.images[i]);
      if (bgr.size() == input_size && !options.detect) {
        report.faces.emplace_back();
        batches.add({i, 0, to_rgb_float(bgr), face_key(i, 0)});
      } else {
        if (!extractor && !detector_error) {
          try {
            extractor = std::make_unique<FaceExtractor>(options.detection, input_size);
          } catch (const std::exception& error) {
            detector_error = error.what();
          }
        }
        if (detector_error) throw std::runtime_error("cannot detect faces: " + *detector_error);
        std::vector<ExtractedFace> faces = extractor->extract(bgr, true);
        for (size_t f = 0; f < faces.size(); ++f) {
          report.faces.push_back(detection_report(faces[f]));
          batches.add({i, f, std::move(faces[f].aligned_rgb), face_key(i, f)});
        }
      }
    } catch (const Error&) {
      throw;  // a model or settings problem concerns every image: stop
    } catch (const std::exception& error) {
      report.error = error.what();
      report.faces.clear();
      any_failed = true;
    }
    progress.update(i + 1);
  }
  batches.flush();
  write_reports(reports, format, options.output, false);
  return any_failed ? 1 : 0;
}

}  // namespace faceqan::cli
