#include "eval_command.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "erc.h"
#include "eval_data.h"
#include "face_extraction.h"
#include "faceqan/face_alignment.h"
#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#include "faceqan/quality.h"
#include "progress.h"

#ifndef FACEQAN_EVAL_PLOT_SCRIPT
#define FACEQAN_EVAL_PLOT_SCRIPT ""
#endif

namespace faceqan::cli {
namespace fs = std::filesystem;
using eval::ErcCurve;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Everything measured on one data set image.
struct ImageData {
  bool ok = false;
  std::string error;
  std::vector<float> eval_embedding;  // L2-normalised, evaluation model
  double eye_distance = kNaN;         // pixels, in the image as given
  double sharpness = kNaN;            // variance of the Laplacian of the aligned grey crop
  double confidence = kNaN;           // detector confidence (1 for an image taken as aligned)
  double embedding_norm = kNaN;       // quality model, before normalisation
  std::optional<FaceQuality> faceqan, faceqan_cheap;
};

struct Method {
  std::string name;
  std::vector<double> image_quality;  // per image (NaN: missing)
  bool per_pair_random = false;
};

std::vector<float> normalised(const std::vector<float>& v) {
  double n = 0.0;
  for (float x : v) n += static_cast<double>(x) * x;
  n = std::sqrt(n);
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v[i] / (n > 0 ? n : 1.0));
  return out;
}

double norm_of(const std::vector<float>& v) {
  double n = 0.0;
  for (float x : v) n += static_cast<double>(x) * x;
  return std::sqrt(n);
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

double laplacian_variance(const std::vector<float>& rgb, int width, int height) {
  cv::Mat rgbf(height, width, CV_32FC3, const_cast<float*>(rgb.data()));
  cv::Mat rgb8, gray, lap;
  rgbf.convertTo(rgb8, CV_8UC3, 255.0);
  cv::cvtColor(rgb8, gray, cv::COLOR_RGB2GRAY);
  cv::Laplacian(gray, lap, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  return stddev[0] * stddev[0];
}

std::string fmt(double v, int precision = 4) {
  if (std::isnan(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", precision, v);
  return b;
}

std::string fmr_label(double f) {
  std::ostringstream s;
  s << f;
  return s.str();
}

// Scores faces with a FaceQanScorer batch-size at a time.
class QualityBatch {
 public:
  QualityBatch(FaceQanScorer& scorer, size_t batch, std::vector<ImageData>& images, bool cheap)
      : scorer_(scorer), batch_(batch), images_(images), cheap_(cheap) {}
  void add(size_t image, std::vector<float> rgb) {
    pending_.push_back({image, std::move(rgb)});
    if (pending_.size() >= batch_) flush();
  }
  void flush() {
    if (pending_.empty()) return;
    const ModelContract& c = scorer_.model().contract();
    std::vector<FaceImage> faces;
    for (const auto& [i, rgb] : pending_) faces.push_back({rgb.data(), c.input_width, c.input_height, i});
    const std::vector<FaceQuality> q = scorer_.score(faces);
    for (size_t j = 0; j < pending_.size(); ++j) {
      (cheap_ ? images_[pending_[j].first].faceqan_cheap : images_[pending_[j].first].faceqan) = q[j];
    }
    pending_.clear();
  }

 private:
  FaceQanScorer& scorer_;
  size_t batch_;
  std::vector<ImageData>& images_;
  bool cheap_;
  std::vector<std::pair<size_t, std::vector<float>>> pending_;
};

std::string find_plot_script() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("FACEQAN_EVAL_PLOT_SCRIPT")) candidates.push_back(env);
  candidates.push_back(FACEQAN_EVAL_PLOT_SCRIPT);
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back((self.parent_path() / "../share/faceqan/plot_erc.py").string());
  for (const auto& c : candidates) {
    if (!c.empty() && fs::exists(c)) return c;
  }
  return "";
}

nlohmann::ordered_json curve_json(const ErcCurve& c) {
  nlohmann::ordered_json j;
  j["genuine"] = c.genuine;
  j["impostor"] = c.impostor;
  auto fm = nlohmann::ordered_json::array();
  for (size_t f = 0; f < c.fmrs.size(); ++f) {
    nlohmann::ordered_json e;
    e["fmr"] = c.fmrs[f];
    e["threshold_fixed"] = c.thresholds_fixed[f];
    e["achieved_fmr"] = c.achieved_fmr[f];
    std::vector<double> fixed, re, tre;
    for (const auto& p : c.points) {
      fixed.push_back(p.fnmr_fixed[f]);
      re.push_back(p.fnmr_reestimated[f]);
      tre.push_back(p.threshold_reestimated[f]);
    }
    e["fnmr_fixed"] = fixed;
    e["fnmr_reestimated"] = re;
    e["threshold_reestimated"] = tre;
    auto pf = nlohmann::ordered_json::array();
    for (size_t l = 0; l < c.pauc_fixed[f].size(); ++l) {
      pf.push_back({{"limit", c.pauc_fixed[f][l].limit},
                    {"fixed", c.pauc_fixed[f][l].raw},
                    {"fixed_normalised", c.pauc_fixed[f][l].normalised},
                    {"reestimated", c.pauc_reestimated[f][l].raw},
                    {"reestimated_normalised", c.pauc_reestimated[f][l].normalised}});
    }
    e["pauc"] = pf;
    fm.push_back(e);
  }
  j["by_fmr"] = fm;
  std::vector<double> reject, cut;
  std::vector<size_t> rejected, gen, imp;
  for (const auto& p : c.points) {
    reject.push_back(p.reject);
    rejected.push_back(p.rejected);
    gen.push_back(p.genuine);
    imp.push_back(p.impostor);
    cut.push_back(p.quality_cut);
  }
  j["reject"] = reject;
  j["rejected_pairs"] = rejected;
  j["genuine_remaining"] = gen;
  j["impostor_remaining"] = imp;
  j["quality_cut"] = cut;
  return j;
}

}  // namespace

void add_eval_command(CLI::App& app, EvalOptions& options) {
  options.seed = kDefaultSeed;
  CLI::App* c = app.add_subcommand(
      "eval",
      "Error-versus-Reject Characteristic of quality scores on a verification data set: FNMR at "
      "fixed FMR as the lowest-quality pairs are rejected, FaceQAN against baselines "
      "(docs/EVALUATION.md).");
  c->add_option("dataset", options.dataset,
                "A folder of identity sub-folders, or a pair list (LFW pairs.txt, \"a b same\" "
                "lines, or a CSV with file_x, file_y, Decision)")
      ->required();
  c->add_option("--root", options.root, "Image folder of a pair list (default: the list's folder)");
  c->add_option("--scores", options.scores,
                "Quality scores written by `faceqan score` (.json or .csv), as [NAME=]FILE; the "
                "first is the main FaceQAN score (its parts give the symmetry-only and "
                "no-symmetry baselines). Repeatable")
      ->allow_extra_args(false);
  c->add_flag("--score", options.score, "Compute FaceQAN with the quality model on the fly");
  c->add_flag("--score-cheap", options.score_cheap,
              "Also compute the cheaper FaceQAN baseline (l 2, k 4) on the fly");
  c->add_flag("!--no-baselines", options.baselines,
              "Skip the baselines (random, face size, sharpness, detector confidence, embedding norm)");
  c->add_option("--recognizer", options.recognizer,
                "Evaluation (verification) model; default: " + std::string(kDefaultRecognitionModel));
  c->add_option("--quality-recognizer", options.quality_recognizer,
                "Quality model for --score and the embedding-norm baseline; default: " +
                    std::string(kDefaultRecognitionModel));
  c->add_option("--epsilon", options.epsilon, "FaceQAN epsilon (with --score)")->capture_default_str();
  c->add_option("-l,--iterations", options.iterations, "FaceQAN l (with --score)")->capture_default_str();
  c->add_option("-k,--samples", options.samples, "FaceQAN k (with --score)")->capture_default_str();
  c->add_option("-p,--exponent", options.exponent, "FaceQAN p (with --score)")->capture_default_str();
  c->add_option("--seed", options.seed, "FaceQAN seed (with --score)")->capture_default_str();
  c->add_option("--pair-seed", options.pair_seed, "Seed of impostor sampling and the random baseline")
      ->capture_default_str();
  c->add_option("--max-impostors", options.max_impostors,
                "Impostor pairs of an identity folder drawn at random (0: all)")
      ->capture_default_str();
  c->add_option("--fmr", options.fmrs, "Target FMRs, comma-separated")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->capture_default_str();
  c->add_option("--target-fnmr", options.target_fnmr,
                "FNMR the recommended quality threshold must reach")
      ->capture_default_str();
  c->add_option("--calibration-fmr", options.calibration_fmr, "FMR of the calibration table")
      ->capture_default_str();
  c->add_option("--device", options.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  c->add_option("--batch-size", options.batch_size, "Faces scored together")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  c->add_option("--threads", options.threads, "CPU threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  c->add_option("-o,--output", options.output_json, "Write the curves to this JSON file");
  c->add_option("--plot", options.plot, "Draw the ERC curves into this PNG (python3-matplotlib)");
  c->add_option("--calibration", options.calibration,
                "Write the main score's calibration (quality -> expected FNMR, recommended "
                "threshold, 0-100 mapping) to this JSON file");
  c->add_option("--title", options.title, "Plot title");
  add_detector_options(*c, options.detection);
}

int run_eval(const EvalOptions& options) {
  set_cpu_threads(options.threads);
  // 1. The data set.
  eval::Dataset data = fs::is_directory(options.dataset)
                           ? eval::load_identity_folders(options.dataset, options.max_impostors, options.pair_seed)
                           : eval::load_pair_list(options.dataset, options.root);
  std::cerr << "eval: " << data.images.size() << " images, " << data.pairs.size() << " pairs";
  if (data.identities > 0) std::cerr << " from " << data.identities << " identities";
  std::cerr << '\n';
  {  // Fail before any expensive work when the pairs cannot give an ERC.
    size_t genuine = 0;
    for (const auto& p : data.pairs) genuine += p.genuine ? 1 : 0;
    if (genuine == 0) throw std::runtime_error("no genuine pairs in " + options.dataset + ": FNMR is undefined");
    if (genuine == data.pairs.size()) {
      throw std::runtime_error("no impostor pairs in " + options.dataset +
                               ": a threshold at a fixed FMR cannot be set");
    }
  }

  // 2. Score files.
  std::vector<std::pair<std::string, std::map<std::string, eval::ImageScore>>> files;
  for (const std::string& spec : options.scores) {
    const auto eq = spec.find('=');
    std::string name = eq == std::string::npos ? fs::path(spec).stem().string() : spec.substr(0, eq);
    const std::string file = eq == std::string::npos ? spec : spec.substr(eq + 1);
    files.emplace_back(name, eval::load_score_file(file));
  }

  // 3. Models.
  const std::string eval_path =
      find_model(options.recognizer.empty() ? kDefaultRecognitionModel : options.recognizer);
  const std::string quality_path = find_model(
      options.quality_recognizer.empty() ? kDefaultRecognitionModel : options.quality_recognizer);
  std::shared_ptr<RecognitionModel> eval_model = load_recognition_model(eval_path, options.device);
  std::shared_ptr<RecognitionModel> quality_model =
      quality_path == eval_path ? eval_model : load_recognition_model(quality_path, options.device);
  const ModelContract& contract = eval_model->contract();
  const ModelContract& qc = quality_model->contract();
  if (qc.input_width != contract.input_width || qc.input_height != contract.input_height) {
    throw std::runtime_error("the quality and evaluation models need the same input size");
  }
  const cv::Size input_size(contract.input_width, contract.input_height);

  std::unique_ptr<FaceQanScorer> scorer, cheap_scorer;
  if (options.score) {
    FaceQanSettings s;
    s.epsilon = options.epsilon;
    s.iterations = options.iterations;
    s.samples = options.samples;
    s.exponent = options.exponent;
    s.seed = options.seed;
    s.validate();
    scorer = std::make_unique<FaceQanScorer>(quality_model, s);
  }
  if (options.score_cheap) {
    FaceQanSettings s;
    s.epsilon = options.epsilon;
    s.iterations = 2;
    s.samples = 4;
    s.exponent = options.exponent;
    s.seed = options.seed;
    cheap_scorer = std::make_unique<FaceQanScorer>(quality_model, s);
  }

  // 4. Per image: detect and align, embed, baselines, FaceQAN on the fly.
  std::vector<ImageData> images(data.images.size());
  std::unique_ptr<FaceExtractor> extractor;
  std::unique_ptr<QualityBatch> batch, cheap_batch;
  if (scorer) {
    batch = std::make_unique<QualityBatch>(*scorer, static_cast<size_t>(options.batch_size), images, false);
  }
  if (cheap_scorer) {
    cheap_batch = std::make_unique<QualityBatch>(*cheap_scorer, static_cast<size_t>(options.batch_size), images, true);
  }
  const FaceLandmarks tmpl = arcface_template(input_size);
  const double template_eyes = cv::norm(tmpl[kRightEye] - tmpl[kLeftEye]);
  Progress progress(scorer ? "embedding and scoring" : "embedding", images.size());
  // Embeddings are computed kEmbedBatch faces at a time.
  constexpr size_t kEmbedBatch = 32;
  std::vector<std::pair<size_t, std::vector<float>>> to_embed;
  const auto embed_pending = [&]() {
    if (to_embed.empty()) return;
    std::vector<FaceImage> faces;
    for (const auto& [i, rgb] : to_embed) faces.push_back({rgb.data(), input_size.width, input_size.height, i});
    const auto e = eval_model->embed(faces);
    const auto q = quality_model == eval_model ? e : quality_model->embed(faces);
    for (size_t j = 0; j < to_embed.size(); ++j) {
      ImageData& d = images[to_embed[j].first];
      d.eval_embedding = normalised(e[j]);
      d.embedding_norm = norm_of(q[j]);
      d.ok = true;
    }
    to_embed.clear();
  };
  size_t failed = 0, reused_landmarks = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    ImageData& d = images[i];
    try {
      const cv::Mat bgr = read_image((fs::path(data.root) / data.images[i]).string());
      std::vector<float> rgb;
      // The face the main score file scored, when it says where it is.
      std::optional<eval::ImageScore> known;
      if (!files.empty()) known = eval::find_score(files.front().second, data.root, data.images[i]);
      if (bgr.size() == input_size) {
        rgb = to_rgb_float(bgr);
        d.eye_distance = template_eyes;
        d.confidence = 1.0;
      } else if (known && known->landmarks) {
        FaceLandmarks lm;
        for (size_t k = 0; k < 5; ++k) {
          lm[k] = cv::Point2f(static_cast<float>((*known->landmarks)[2 * k]),
                              static_cast<float>((*known->landmarks)[2 * k + 1]));
        }
        rgb.resize(static_cast<size_t>(input_size.area()) * 3);
        align_face_to_rgb_float(bgr, PixelFormat::kBGR, lm, input_size, rgb.data());
        d.eye_distance = cv::norm(lm[kRightEye] - lm[kLeftEye]);
        d.confidence = known->confidence.value_or(kNaN);
        ++reused_landmarks;
      } else {
        if (!extractor) extractor = std::make_unique<FaceExtractor>(options.detection, input_size);
        std::vector<ExtractedFace> faces = extractor->extract(bgr, true);
        if (faces.empty()) throw std::runtime_error("no face found");
        ExtractedFace& f = faces[0];  // largest first
        d.eye_distance = std::hypot(f.landmarks[1][0] - f.landmarks[0][0], f.landmarks[1][1] - f.landmarks[0][1]);
        d.confidence = f.confidence;
        rgb = std::move(f.aligned_rgb);
      }
      d.sharpness = laplacian_variance(rgb, input_size.width, input_size.height);
      if (cheap_batch) cheap_batch->add(i, rgb);
      if (batch) batch->add(i, rgb);
      to_embed.emplace_back(i, std::move(rgb));
      if (to_embed.size() >= kEmbedBatch) embed_pending();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& error) {
      d.error = error.what();
      ++failed;
    }
    progress.update(i + 1);
  }
  embed_pending();
  if (batch) batch->flush();
  if (cheap_batch) cheap_batch->flush();
  if (reused_landmarks > 0) {
    std::cerr << "eval: " << reused_landmarks << " faces aligned with the landmarks of " << files.front().first
              << " (no second detection)\n";
  }
  for (size_t i = 0; i < images.size(); ++i) {
    if (!images[i].ok) std::cerr << "eval: left out " << data.images[i] << ": " << images[i].error << '\n';
  }

  // 5. Methods: per-image quality, NaN where missing.
  std::vector<Method> methods;
  const auto from_faceqan = [&](const std::string& name, auto get) {
    Method m{name, std::vector<double>(images.size(), kNaN)};
    for (size_t i = 0; i < images.size(); ++i) m.image_quality[i] = get(i);
    methods.push_back(std::move(m));
  };
  const auto without_symmetry = [](double mean, double stdev) {
    return ((1.0 + mean) / 2.0) * std::clamp(1.0 - stdev, 0.0, 1.0);  // ordering only: no power
  };
  if (scorer) {
    const auto& st = scorer->settings();
    const std::string tag = "FaceQAN (l " + std::to_string(st.iterations) + ", k " + std::to_string(st.samples) + ")";
    from_faceqan(tag, [&](size_t i) { return images[i].faceqan ? images[i].faceqan->quality : kNaN; });
  }
  for (const auto& [name, scores] : files) {
    from_faceqan(name, [&, &scores = scores](size_t i) {
      const auto s = eval::find_score(scores, data.root, data.images[i]);
      return s ? s->quality : kNaN;
    });
  }
  if (methods.empty()) throw std::runtime_error("no quality scores: give --scores FILE or --score");
  const std::string main_name = methods.front().name;
  // The main score's parts.
  {
    std::vector<double> sym(images.size(), kNaN), nosym(images.size(), kNaN);
    for (size_t i = 0; i < images.size(); ++i) {
      std::optional<eval::ImageScore> s;
      if (scorer && images[i].faceqan) {
        const auto& q = *images[i].faceqan;
        s = eval::ImageScore{q.quality, q.mean_similarity, q.std_similarity, q.symmetry, std::nullopt, std::nullopt};
      } else if (!scorer && !files.empty()) {
        s = eval::find_score(files.front().second, data.root, data.images[i]);
      }
      if (s) {
        sym[i] = s->symmetry;
        nosym[i] = without_symmetry(s->mean_similarity, s->std_similarity);
      }
    }
    methods.push_back({main_name + ": symmetry only", sym});
    methods.push_back({main_name + ": without symmetry", nosym});
  }
  if (cheap_scorer) {
    from_faceqan("FaceQAN (l 2, k 4)", [&](size_t i) {
      return images[i].faceqan_cheap ? images[i].faceqan_cheap->quality : kNaN;
    });
  }
  if (options.baselines) {
    methods.push_back({"random order", std::vector<double>(images.size(), 0.0), true});
    from_faceqan("face size (inter-eye distance)", [&](size_t i) { return images[i].eye_distance; });
    from_faceqan("sharpness (Laplacian variance)", [&](size_t i) { return images[i].sharpness; });
    from_faceqan("detector confidence", [&](size_t i) { return images[i].confidence; });
    from_faceqan("embedding norm", [&](size_t i) { return images[i].embedding_norm; });
  }

  // 6. Pairs every method can rate.
  struct UsedPair {
    size_t a, b;
    bool genuine;
    double similarity;
  };
  std::vector<UsedPair> used;
  size_t left_out_pairs = 0, missing_score_pairs = 0;
  for (const auto& p : data.pairs) {
    if (!images[p.a].ok || !images[p.b].ok) {
      ++left_out_pairs;
      continue;
    }
    bool all = true;
    for (const auto& m : methods) {
      if (!m.per_pair_random && (std::isnan(m.image_quality[p.a]) || std::isnan(m.image_quality[p.b]))) all = false;
    }
    if (!all) {
      ++missing_score_pairs;
      continue;
    }
    used.push_back({p.a, p.b, p.genuine, cosine(images[p.a].eval_embedding, images[p.b].eval_embedding)});
  }

  {
    size_t genuine = 0;
    for (const auto& u : used) genuine += u.genuine ? 1 : 0;
    if (genuine == 0 || genuine == used.size()) {
      throw std::runtime_error(
          std::string("no ") + (genuine == 0 ? "genuine" : "impostor") + " pairs left to evaluate: " +
          std::to_string(left_out_pairs) + " pairs have an unusable image and " +
          std::to_string(missing_score_pairs) +
          " lack a score (score files match images by their path relative to the data set root)");
    }
  }
  eval::ErcSettings settings;
  settings.fmrs = options.fmrs;
  std::vector<ErcCurve> curves;
  std::mt19937_64 rng(options.pair_seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<std::vector<eval::ScoredPair>> scored_pairs;
  for (const auto& m : methods) {
    std::vector<eval::ScoredPair> pairs;
    for (const auto& u : used) {
      const double q = m.per_pair_random ? uniform(rng)
                                         : std::min(m.image_quality[u.a], m.image_quality[u.b]);
      pairs.push_back({u.similarity, u.genuine, q});
    }
    curves.push_back(eval::compute_erc(pairs, settings));
    scored_pairs.push_back(std::move(pairs));
  }

  // 7. Report.
  const ErcCurve& c0 = curves.front();
  std::ostringstream out;
  out << "data set: " << options.dataset << "\n";
  out << "evaluation model: " << eval_path << "\nquality model: " << quality_path << "\n";
  out << "images: " << data.images.size() << " (" << failed << " left out: no face or unreadable)\n";
  out << "pairs used: " << used.size() << " (" << c0.genuine << " genuine, " << c0.impostor << " impostor";
  if (data.impostor_pairs_available > 0 && options.max_impostors > 0) {
    out << " sampled from " << data.impostor_pairs_available;
  }
  out << "); left out: " << left_out_pairs << " with an unusable image, " << missing_score_pairs
      << " without a score\n";
  for (size_t f = 0; f < c0.fmrs.size(); ++f) {
    out << "threshold at FMR " << fmr_label(c0.fmrs[f]) << ": " << fmt(c0.thresholds_fixed[f])
        << " (achieved FMR " << fmt(c0.achieved_fmr[f], 5) << "), FNMR before rejection "
        << fmt(c0.points[0].fnmr_fixed[f]) << "\n";
  }
  for (const auto& w : c0.warnings) out << "warning: " << w << "\n";
  for (const char* variant : {"fixed", "reestimated"}) {
    const bool fixed = std::string(variant) == "fixed";
    for (size_t f = 0; f < c0.fmrs.size(); ++f) {
      out << "\nFNMR at FMR " << fmr_label(c0.fmrs[f]) << ", threshold "
          << (fixed ? "fixed on all impostor pairs (ISO/IEC 29794-1)" : "re-estimated after rejection (CR-FIQA code)")
          << "; pAUC normalised by random rejection (lower is better)\n";
      char line[512];
      std::snprintf(line, sizeof line, "%-40s %7s %7s %7s %7s | %7s %7s %7s\n", "method", "r=0", "r=0.1",
                    "r=0.2", "r=0.4", "pAUC.2", "pAUC.3", "pAUC.8");
      out << line;
      for (size_t m = 0; m < methods.size(); ++m) {
        const auto& pts = curves[m].points;
        const auto at = [&](double r) {
          for (const auto& p : pts) {
            if (std::abs(p.reject - r) < 1e-9) return fixed ? p.fnmr_fixed[f] : p.fnmr_reestimated[f];
          }
          return kNaN;
        };
        const auto& pa = fixed ? curves[m].pauc_fixed[f] : curves[m].pauc_reestimated[f];
        std::snprintf(line, sizeof line, "%-40s %7s %7s %7s %7s | %7s %7s %7s\n",
                      methods[m].name.substr(0, 40).c_str(), fmt(at(0)).c_str(), fmt(at(0.1)).c_str(),
                      fmt(at(0.2)).c_str(), fmt(at(0.4)).c_str(),
                      fmt(pa.size() > 0 ? pa[0].normalised : kNaN, 3).c_str(),
                      fmt(pa.size() > 1 ? pa[1].normalised : kNaN, 3).c_str(),
                      fmt(pa.size() > 2 ? pa[2].normalised : kNaN, 3).c_str());
        out << line;
      }
    }
  }

  // Calibration of the main score.
  const eval::Calibration cal =
      eval::calibrate(scored_pairs.front(), options.calibration_fmr, options.target_fnmr);
  out << "\ncalibration of " << main_name << " (FMR " << fmr_label(cal.fmr) << ", threshold "
      << fmt(cal.threshold) << "): reject pairs with pair quality below q\n";
  out << "      q  pairs rejected   FNMR\n";
  for (size_t r = 0; r < cal.rows.size(); r += std::max<size_t>(1, cal.rows.size() / 16)) {
    char line[128];
    std::snprintf(line, sizeof line, "%7s  %14s  %6s\n", fmt(cal.rows[r].quality).c_str(),
                  fmt(cal.rows[r].pairs_rejected, 3).c_str(), fmt(cal.rows[r].fnmr).c_str());
    out << line;
  }
  if (std::isnan(cal.recommended_quality)) {
    out << "target FNMR " << cal.target_fnmr << " is not reached while rejecting at most 80% of pairs\n";
  } else {
    out << "recommended quality threshold for FNMR <= " << cal.target_fnmr << " at FMR "
        << fmr_label(cal.fmr) << ": " << fmt(cal.recommended_quality) << " (rejects "
        << fmt(100 * cal.recommended_pairs_rejected, 1) << "% of pairs)\n";
  }
  std::cout << out.str();

  std::vector<double> main_images;
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].ok && !std::isnan(methods.front().image_quality[i])) main_images.push_back(methods.front().image_quality[i]);
  }
  nlohmann::ordered_json cal_json;
  cal_json["method"] = main_name;
  cal_json["quality_model"] = quality_path;
  cal_json["evaluation_model"] = eval_path;
  cal_json["fmr"] = cal.fmr;
  cal_json["similarity_threshold"] = cal.threshold;
  cal_json["target_fnmr"] = cal.target_fnmr;
  cal_json["recommended_quality"] = cal.recommended_quality;
  cal_json["recommended_pairs_rejected"] = cal.recommended_pairs_rejected;
  auto rows = nlohmann::ordered_json::array();
  for (const auto& r : cal.rows) rows.push_back({{"quality", r.quality}, {"pairs_rejected", r.pairs_rejected}, {"fnmr", r.fnmr}});
  cal_json["table"] = rows;
  cal_json["percentiles"] = eval::percentile_table(main_images);

  if (!options.output_json.empty() || !options.plot.empty()) {
    nlohmann::ordered_json j;
    j["dataset"] = options.dataset;
    j["evaluation_model"] = eval_path;
    j["quality_model"] = quality_path;
    j["images"] = data.images.size();
    j["images_left_out"] = failed;
    j["pairs_used"] = used.size();
    j["pairs_left_out"] = left_out_pairs + missing_score_pairs;
    j["title"] = options.title.empty() ? fs::path(options.dataset).filename().string() : options.title;
    j["warnings"] = c0.warnings;
    auto ms = nlohmann::ordered_json::array();
    for (size_t m = 0; m < methods.size(); ++m) {
      nlohmann::ordered_json e{{"name", methods[m].name}};
      e.update(curve_json(curves[m]));
      ms.push_back(e);
    }
    j["methods"] = ms;
    j["calibration"] = cal_json;
    const std::string path = options.output_json.empty() ? options.plot + ".json" : options.output_json;
    std::ofstream f(path);
    f << j.dump(1) << '\n';
    if (!f) throw std::runtime_error("cannot write " + path);
    if (!options.plot.empty()) {
      const std::string script = find_plot_script();
      if (script.empty()) {
        std::cerr << "eval: plot_erc.py not found (set FACEQAN_EVAL_PLOT_SCRIPT); no plot drawn\n";
      } else {
        const std::string cmd = "/usr/bin/python3 '" + script + "' '" + path + "' '" + options.plot + "'";
        if (std::system(cmd.c_str()) != 0) std::cerr << "eval: plotting failed: " << cmd << '\n';
      }
    }
    if (options.output_json.empty()) fs::remove(path);
  }
  if (!options.calibration.empty()) {
    std::ofstream f(options.calibration);
    f << cal_json.dump(1) << '\n';
    if (!f) throw std::runtime_error("cannot write " + options.calibration);
  }
  return failed > 0 ? 1 : 0;
}

}  // namespace faceqan::cli
