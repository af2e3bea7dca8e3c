// faceqan-bench-quality: FaceQAN's cost per face at given settings and batch sizes.
//
// Builds with the quality core alone (LibTorch): then --model must be a TorchScript file. With the
// model I/O library it also reads ONNX and defaults to the project's default recognition model.
// Faces are synthetic (a smooth pattern per face): the cost of FaceQAN does not depend on content.
//
//   faceqan-bench-quality [--model PATH] [--device cpu] [--threads 2] [--batches 1,8]
//                         [--faces 16] [--iterations 5] [--samples 10] [--warmup 1]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "faceqan/quality.h"
#ifdef FACEQAN_HAVE_MODEL_IO
#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#endif

namespace {

struct Options {
  std::string model;
  std::string device = "cpu";
  int threads = 2;
  std::vector<int> batches{1, 8};
  int faces = 16;
  int warmup = 1;
  faceqan::FaceQanSettings settings;
};

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) values.push_back(std::stoi(item));
  return values;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("usage: %s [--model PATH] [--device D] [--threads N] [--batches 1,8] [--faces N]"
                  " [--iterations L] [--samples K] [--warmup N]\n", argv[0]);
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::runtime_error("missing value after " + flag);
    const std::string value = argv[++i];
    if (flag == "--model") options.model = value;
    else if (flag == "--device") options.device = value;
    else if (flag == "--threads") options.threads = std::stoi(value);
    else if (flag == "--batches") options.batches = parse_list(value);
    else if (flag == "--faces") options.faces = std::stoi(value);
    else if (flag == "--warmup") options.warmup = std::stoi(value);
    else if (flag == "--iterations") options.settings.iterations = std::stoi(value);
    else if (flag == "--samples") options.settings.samples = std::stoi(value);
    else throw std::runtime_error("unknown option " + flag);
  }
  return options;
}

std::shared_ptr<faceqan::RecognitionModel> load(const Options& options) {
#ifdef FACEQAN_HAVE_MODEL_IO
  const std::string path =
      faceqan::find_model(options.model.empty() ? faceqan::kDefaultRecognitionModel : options.model);
  return faceqan::load_recognition_model(path, options.device);
#else
  if (options.model.empty()) throw std::runtime_error("--model PATH.pt is required (built without ONNX support)");
  return faceqan::load_torchscript_model(options.model, faceqan::ModelContract{}, options.device);
#endif
}

// A smooth, face-sized pattern that differs per face.
std::vector<float> synthetic_face(int width, int height, int index) {
  std::vector<float> rgb(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const double v = 0.5 + 0.4 * std::sin(0.07 * x * (c + 1) + 0.05 * y + index);
        rgb[(static_cast<size_t>(y) * width + x) * 3 + c] = static_cast<float>(v);
      }
    }
  }
  return rgb;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    faceqan::set_cpu_threads(options.threads);
    const auto model = load(options);
    const faceqan::ModelContract& contract = model->contract();
    std::vector<std::vector<float>> pixels;
    for (int i = 0; i < options.faces; ++i) {
      pixels.push_back(synthetic_face(contract.input_width, contract.input_height, i));
    }

    std::printf("model: %s\ndevice: %s, threads: %d, cores: %u\n", model->source().c_str(),
                model->device().c_str(), faceqan::cpu_threads(), std::thread::hardware_concurrency());
    std::printf("FaceQAN: epsilon %g, l %d, k %d, p %d; %d faces per row\n\n",
                options.settings.epsilon, options.settings.iterations, options.settings.samples,
                options.settings.exponent, options.faces);
    std::printf("| batch (faces) | faces/s | ms/face | forward passes/face | backward passes/face |\n");
    std::printf("|---:|---:|---:|---:|---:|\n");
    for (int batch : options.batches) {
      faceqan::FaceQanScorer scorer(model, options.settings);
      auto run = [&](int count) {
        for (int start = 0; start < count; start += batch) {
          std::vector<faceqan::FaceImage> faces;
          for (int i = start; i < std::min(count, start + batch); ++i) {
            faces.push_back({pixels[static_cast<size_t>(i)].data(), contract.input_width,
                             contract.input_height, static_cast<std::uint64_t>(i)});
          }
          scorer.score(faces);
        }
      };
      run(std::min(options.faces, batch * options.warmup));  // warm-up: allocator, oneDNN kernels
      const faceqan::ScorerCounters before = scorer.counters();
      const auto start = std::chrono::steady_clock::now();
      run(options.faces);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const auto& after = scorer.counters();
      const double faces = static_cast<double>(after.faces - before.faces);
      std::printf("| %d | %.2f | %.1f | %.0f | %.0f |\n", batch, faces / seconds, 1000.0 * seconds / faces,
                  static_cast<double>(after.forward_images - before.forward_images) / faces,
                  static_cast<double>(after.backward_images - before.backward_images) / faces);
      std::fflush(stdout);
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "faceqan-bench-quality: %s\n", error.what());
    return 1;
  }
}
