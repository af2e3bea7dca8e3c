#include "element_models.h"

#include <glib.h>

#include <cstddef>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#include "faceqan/stream/scoring_queue.h"

namespace faceqan::gst {
namespace {

// Idle models kept per process for the next start (faceqan/stream/model_pool.h): enough for a few elements
// restarting together. Never destroyed: a model may be given back while the process exits.
constexpr std::size_t kIdleModels = 8;

// What elements must agree on to share a scorer: the recognition model file (resolved), the
// device it runs on (auto resolved), the CPU threads and every FaceQAN setting that changes a
// score (epsilon, iterations, samples, exponent, seed, precision). Batching settings (batch-size,
// max-latency, queue-size, overload) and everything about detection, tracking and the budget
// stay per element.
std::string shared_scorer_key(const ModelFiles& files, const Settings& s) {
  // The file by its contents' identity: a model replaced on disk is not shared with its old self.
  std::error_code ignored;
  std::string path = std::filesystem::weakly_canonical(files.recognizer_path, ignored).string();
  if (path.empty()) path = files.recognizer_path;
  path += '\n' + files.recognizer_key;
  std::string device = s.models.device;
  if (device == "auto") device = faceqan::cuda_available() ? "cuda:0" : "cpu";
  if (device == "cuda") device = "cuda:0";
  char epsilon[32];
  g_ascii_dtostr(epsilon, sizeof epsilon, s.faceqan.epsilon);  // exact, locale-independent
  const FaceQanSettings& q = s.faceqan;
  return path + '\n' + device + '\n' + std::to_string(s.models.threads) + '\n' + epsilon + '\n' +
         std::to_string(q.iterations) + '\n' + std::to_string(q.samples) + '\n' +
         std::to_string(q.exponent) + '\n' + std::to_string(q.seed) + '\n' +
         faceqan::precision_name(q.precision);
}

// Loads the recognizer and builds the FaceQAN scorer behind a SharedScorer.
std::shared_ptr<SharedScorer> make_scorer(const ModelFiles& files, const Settings& s) {
  std::shared_ptr<faceqan::RecognitionModel> recognizer =
      recognizer_pool().take(files.recognizer_key, [&] {
        return faceqan::load_recognition_model(files.recognizer_path, s.models.device);
      });
  s.faceqan.validate();
  auto scorer = std::make_shared<faceqan::FaceQanScorer>(recognizer, s.faceqan);
  const faceqan::ModelContract& contract = recognizer->contract();
  const cv::Size size(contract.input_width, contract.input_height);
  SharedScorer::Info info;
  info.input_width = size.width;
  info.input_height = size.height;
  info.description = "recognizer " + recognizer->source() + " on " + recognizer->device() +
                     ", seed " + std::to_string(scorer->seed()) + ", precision " +
                     faceqan::precision_name(scorer->settings().precision);
  const faceqan::BatchSizeChoice batch = faceqan::auto_batch_size(*scorer);
  info.auto_batch_size = static_cast<std::size_t>(batch.faces);
  info.auto_batch_reason = batch.reason;
  // Only the scorer's worker thread calls this.
  return std::make_shared<SharedScorer>(
      [scorer, size](const std::vector<PendingFace>& faces) {
        std::vector<faceqan::FaceImage> images;
        images.reserve(faces.size());
        for (const PendingFace& face : faces) {
          images.push_back({face.pixels.data(), size.width, size.height, face.key});
        }
        std::vector<faceqan::FaceQuality> qualities = scorer->score(images);
        // The pass's tensors are freed by now; without this the allocator's per-thread arenas
        // keep their pages and the element's resident size creeps up for thousands of frames.
        faceqan::release_free_memory();
        return qualities;
      },
      std::move(info));
}

}  // namespace

ModelPool<faceqan::RetinaFaceDetector>& detector_pool() {
  static auto* pool = new ModelPool<faceqan::RetinaFaceDetector>(kIdleModels);
  return *pool;
}
ModelPool<faceqan::RecognitionModel>& recognizer_pool() {
  static auto* pool = new ModelPool<faceqan::RecognitionModel>(kIdleModels);
  return *pool;
}

ModelFiles resolve_model_files(const Settings& s) {
  ModelFiles files;
  files.detector_path = faceqan::find_model(
      s.models.detector_model.empty() ? faceqan::kDefaultDetectionModel : s.models.detector_model);
  files.recognizer_path = faceqan::find_model(
      s.models.recognizer_model.empty() ? faceqan::kDefaultRecognitionModel
                                    : s.models.recognizer_model);
  // Each model with the description file it reads beside it.
  files.detector_key =
      file_identity(files.detector_path) + '\n' +
      file_identity(std::filesystem::path(files.detector_path).replace_extension(".json").string());
  const std::string description = faceqan::find_model_description(files.recognizer_path);
  files.recognizer_key = file_identity(files.recognizer_path) + '\n' +
                         (description.empty() ? "" : file_identity(description)) + '\n' +
                         s.models.device;
  files.key = reload_key(s) + '\n' + files.detector_key + '\n' + files.recognizer_key;
  return files;
}

void load_models(Models& models, const Settings& s, const ModelFiles& files) {
  faceqan::set_cpu_threads(static_cast<int>(s.models.threads));
  Models loaded;
  loaded.key = files.key;
  loaded.detector = detector_pool().take(files.detector_key, [&] {
    return std::make_shared<faceqan::RetinaFaceDetector>(files.detector_path,
                                                         s.faces.detector);
  });
  loaded.detector->set_settings(s.faces.detector);  // a reused one has its last user's
  loaded.scorer = s.models.shared_scorer
                      ? SharedScorer::acquire(shared_scorer_key(files, s),
                                              [&] { return make_scorer(files, s); })
                      : make_scorer(files, s);
  const SharedScorer::Info& info = loaded.scorer->info();
  loaded.crop_size = cv::Size(info.input_width, info.input_height);
  models = std::move(loaded);
}

}  // namespace faceqan::gst
