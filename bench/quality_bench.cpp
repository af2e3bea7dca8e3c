// faceqan-bench-quality: FaceQAN's cost per face at given settings and batch sizes.
//
// Builds with the quality core alone (LibTorch): then --model must be a TorchScript file. With the
// model I/O library it also reads ONNX and defaults to the project's default recognition model.
// Faces are synthetic (a smooth pattern per face; the cost of FaceQAN does not depend on content),
// or read from --faces-file: raw float32, N x H x W x 3 RGB in [0, 1] (bench/gpu_bench.py writes
// one). --scores-out writes each face's quality (one batch of the first size, after the timing)
// for agreement checks; --json-out the table's rows.
//
//   faceqan-bench-quality [--model PATH] [--device cpu] [--threads 2] [--batches 1,8]
//                         [--faces 16] [--iterations 5] [--samples 10] [--warmup 1]
//                         [--precision fp32|tf32|fp16|bf16] [--faces-file F] [--scores-out F]
//                         [--json-out F] [--images-per-pass 0,1,2,4] [--layouts rule,nchw,nhwc]
//                         [--rounds 1]
// --images-per-pass and --layouts (CPU) compare how the attack runs (FaceQanSettings::cpu; 0 and
// "rule" are the library's rule); every combination is timed at every batch size, and with
// --rounds R all rows are timed R times in turn and the fastest of each is printed (on a shared
// machine the rounds spread other load over all rows alike).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <fstream>
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
  std::vector<int> images_per_pass{0};
  std::vector<std::string> layouts{"rule"};
  int rounds = 1;
  int faces = 16;
  int warmup = 1;
  std::string faces_file, scores_out, json_out;
  faceqan::FaceQanSettings settings;
};

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) values.push_back(std::stoi(item));
  return values;
}

std::vector<std::string> parse_words(const std::string& text) {
  std::vector<std::string> words;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (item != "rule" && item != "nchw" && item != "nhwc") throw std::runtime_error("unknown layout " + item);
    words.push_back(item);
  }
  return words;
}

// "AMD EPYC; avx2 avx512f ... avx512_bf16" from /proc/cpuinfo: every table names its CPU.
std::string cpu_description() {
  std::ifstream info("/proc/cpuinfo");
  std::string line, model = "unknown CPU", extensions;
  bool have_flags = false;
  while (std::getline(info, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && model == "unknown CPU") model = value;
    if (key == "flags" && !have_flags) {
      have_flags = true;
      std::stringstream words(value);
      std::string flag;
      while (words >> flag) {
        if (flag == "avx" || flag == "avx2" || flag == "fma" || flag.rfind("avx512", 0) == 0 ||
            flag.rfind("amx", 0) == 0 || flag == "avx_vnni") {
          extensions += (extensions.empty() ? "" : " ") + flag;
        }
      }
    }
  }
  std::string text = model + "; " + (extensions.empty() ? "no AVX" : extensions);
  if (const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA")) text += "; ONEDNN_MAX_CPU_ISA=" + std::string(cap);
  return text;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("usage: %s [--model PATH] [--device D] [--threads N] [--batches 1,8] [--faces N]"
                  " [--iterations L] [--samples K] [--warmup N] [--precision P] [--faces-file F]"
                  " [--scores-out F] [--json-out F] [--images-per-pass 0,2] [--layouts rule,nchw,nhwc]"
                  " [--rounds R]\n", argv[0]);
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
    else if (flag == "--precision") options.settings.precision = faceqan::parse_precision(value);
    else if (flag == "--faces-file") options.faces_file = value;
    else if (flag == "--scores-out") options.scores_out = value;
    else if (flag == "--json-out") options.json_out = value;
    else if (flag == "--images-per-pass") options.images_per_pass = parse_list(value);
    else if (flag == "--layouts") options.layouts = parse_words(value);
    else if (flag == "--rounds") options.rounds = std::max(1, std::stoi(value));
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

// Raw float32 faces, N x H x W x 3.
std::vector<std::vector<float>> read_faces(const std::string& path, int width, int height) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path);
  const size_t per_face = static_cast<size_t>(width) * height * 3;
  std::vector<std::vector<float>> faces;
  std::vector<float> face(per_face);
  while (file.read(reinterpret_cast<char*>(face.data()), static_cast<std::streamsize>(per_face * sizeof(float)))) {
    faces.push_back(face);
  }
  if (faces.empty()) throw std::runtime_error(path + " holds no " + std::to_string(width) + "x" + std::to_string(height) + " face");
  return faces;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    faceqan::set_cpu_threads(options.threads);
    const auto model = load(options);
    const faceqan::ModelContract& contract = model->contract();
    std::vector<std::vector<float>> pixels;
    if (!options.faces_file.empty()) {
      const auto real = read_faces(options.faces_file, contract.input_width, contract.input_height);
      for (int i = 0; i < options.faces; ++i) pixels.push_back(real[static_cast<size_t>(i) % real.size()]);
    } else {
      for (int i = 0; i < options.faces; ++i) {
        pixels.push_back(synthetic_face(contract.input_width, contract.input_height, i));
      }
    }
    std::string json = "[";

    std::printf("model: %s\ndevice: %s, threads: %d, cores: %u\n", model->source().c_str(),
                model->device().c_str(), faceqan::cpu_threads(), std::thread::hardware_concurrency());
    std::printf("FaceQAN: epsilon %g, l %d, k %d, p %d, precision %s; %d faces per row (%s)\n\n",
                options.settings.epsilon, options.settings.iterations, options.settings.samples,
                options.settings.exponent, faceqan::precision_name(options.settings.precision),
                options.faces, options.faces_file.empty() ? "synthetic" : options.faces_file.c_str());
    std::printf("CPU: %s\n\n", cpu_description().c_str());
    std::printf("| batch (faces) | images per pass | layout | faces/s | ms/face | forward passes/face | backward passes/face |\n");
    std::printf("|---:|---:|---|---:|---:|---:|---:|\n");
    struct Row {
      int batch, images_per_pass;
      std::string layout;
      double best_seconds = 1e300, faces = 0, forward = 0, backward = 0;
    };
    std::vector<Row> rows;
    for (int batch : options.batches) {
      for (int images : options.images_per_pass) {
        for (const std::string& layout : options.layouts) rows.push_back({batch, images, layout});
      }
    }
    for (int round = 0; round < options.rounds; ++round) {
      for (Row& row : rows) {
        faceqan::FaceQanSettings settings = options.settings;
        settings.cpu.images_per_pass = row.images_per_pass;
        settings.cpu.channels_last = row.layout == "rule" ? -1 : row.layout == "nhwc" ? 1 : 0;
        faceqan::FaceQanScorer scorer(model, settings);
        const int batch = row.batch;
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
        row.faces = static_cast<double>(after.faces - before.faces);
        row.forward = static_cast<double>(after.forward_images - before.forward_images) / row.faces;
        row.backward = static_cast<double>(after.backward_images - before.backward_images) / row.faces;
        row.best_seconds = std::min(row.best_seconds, seconds);
        if (round + 1 < options.rounds) continue;
        const double rate = row.faces / row.best_seconds;
        const std::string images = row.images_per_pass > 0 ? std::to_string(row.images_per_pass) : "rule";
        std::printf("| %d | %s | %s | %.2f | %.1f | %.0f | %.0f |\n", batch, images.c_str(), row.layout.c_str(),
                    rate, 1000.0 / rate, row.forward, row.backward);
        std::fflush(stdout);
        char text[320];
        std::snprintf(text, sizeof text,
                      "%s{\"batch\": %d, \"images_per_pass\": %d, \"layout\": \"%s\", \"faces_per_s\": %.6g, "
                      "\"ms_per_face\": %.6g}",
                      json.size() > 1 ? ", " : "", batch, row.images_per_pass, row.layout.c_str(), rate, 1000.0 / rate);
        json += text;
      }
    }
    if (!options.json_out.empty()) std::ofstream(options.json_out) << json << "]\n";
    if (!options.scores_out.empty()) {
      // Every face once, keyed by its index, in batches of the first size.
      faceqan::FaceQanScorer scorer(model, options.settings);
      std::ofstream out(options.scores_out);
      const int batch = options.batches.empty() ? 1 : options.batches.front();
      for (int start = 0; start < options.faces; start += batch) {
        std::vector<faceqan::FaceImage> faces;
        for (int i = start; i < std::min(options.faces, start + batch); ++i) {
          faces.push_back({pixels[static_cast<size_t>(i)].data(), contract.input_width,
                           contract.input_height, static_cast<std::uint64_t>(i)});
        }
        const auto results = scorer.score(faces);
        for (size_t j = 0; j < results.size(); ++j) {
          char line[160];
          std::snprintf(line, sizeof line, "%d %.9g %.9g %.9g %.9g\n", start + static_cast<int>(j),
                        results[j].quality, results[j].mean_similarity, results[j].std_similarity,
                        results[j].symmetry);
          out << line;
        }
      }
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "faceqan-bench-quality: %s\n", error.what());
    return 1;
  }
}
