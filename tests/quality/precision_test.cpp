// The optimised scorer against a plain, literal FaceQAN, and lower precisions against fp32.
//
// The plain path is the algorithm as the reference code runs it: one face at a time, the clean
// embedding kept in the autograd graph, every step's backward pass run (the last one too), with the
// model's weights requiring gradients where the format has parameters (TorchScript). It draws the
// same noise from the same per-face generator as the scorer, so the two must agree to float
// rounding: the optimisations (no weight gradients, last backward skipped, batching over faces,
// noise added on the device) change the work, not the result.
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <numeric>

#include "face_images.h"
#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#include "faceqan/network.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

using Embed = std::function<at::Tensor(const at::Tensor&)>;  // [N,3,H,W] RGB [0,1] -> [N,D]

// The scorer's per-face generator seeds (quality/src/faceqan_scorer.cpp), restated.
std::uint64_t mix(std::uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

FaceQuality plain_faceqan(const Embed& embed, const OwnedFace& face, std::uint64_t key,
                          const FaceQanSettings& settings) {
  const int k = settings.samples;
  const double eps = settings.epsilon;
  const at::Tensor image =
      at::from_blob(const_cast<float*>(face.rgb.data()), {face.height, face.width, 3}, at::kFloat)
          .permute({2, 0, 1})
          .contiguous();
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(
      mix(mix(static_cast<std::uint64_t>(settings.seed)) ^ key));
  const at::Tensor noise = at::rand({k, 3, face.height, face.width}, generator) * (2.0 * eps) - eps;
  at::Tensor batch = (image.unsqueeze(0) + noise).clamp(-1.0, 1.0);
  at::Tensor base = embed(image.unsqueeze(0));  // in the graph, as the reference keeps it
  std::vector<double> similarities;
  for (int step = 0; step < settings.iterations; ++step) {
    batch.requires_grad_(true);
    const at::Tensor noisy = embed(batch);
    const at::Tensor loss = (1.0 - at::cosine_similarity(base, noisy, 1)).mean();
    loss.backward();  // every step, the last one too; weight gradients wherever weights want them
    const at::Tensor gradient = batch.grad();
    const at::Tensor cosine =
        at::cosine_similarity(base.detach(), noisy.detach(), 1).to(at::kDouble).contiguous();
    similarities.insert(similarities.end(), cosine.data_ptr<double>(), cosine.data_ptr<double>() + k);
    batch = (batch.detach() + eps * gradient.sign()).clamp(-1.0, 1.0);
    base = base.detach();
  }
  const at::Tensor both = embed(at::stack({image, image.flip({2})})).detach();
  const double symmetry = at::cosine_similarity(both.slice(0, 0, 1), both.slice(0, 1, 2), 1).item<double>();
  return aggregate_quality(similarities, symmetry, settings.exponent);
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  auto ranks = [](const std::vector<double>& x) {
    std::vector<size_t> order(x.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return x[i] < x[j]; });
    std::vector<double> r(x.size());
    for (size_t i = 0; i < order.size(); ++i) r[order[i]] = static_cast<double>(i);
    return r;
  };
  const auto ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size());
  double d2 = 0;
  for (size_t i = 0; i < a.size(); ++i) d2 += (ra[i] - rb[i]) * (ra[i] - rb[i]);
  return 1.0 - 6.0 * d2 / (n * (n * n - 1.0));
}

std::vector<OwnedFace> lfw_faces(size_t count) {
  std::vector<OwnedFace> faces;
  for (const auto& path : lfw_aligned_images()) {
    if (faces.size() == count) break;
    faces.push_back(to_face(read_bgr(path)));
  }
  return faces;
}

// Faces over the whole quality range, as the development set of docs/EVALUATION.md has them
// (sharp, blurred and pixelated copies of the same aligned faces), where a ranking matters.
std::vector<OwnedFace> faces_of_mixed_quality(size_t originals) {
  std::vector<OwnedFace> faces;
  for (const auto& path : lfw_aligned_images()) {
    if (faces.size() == 3 * originals) break;
    const cv::Mat image = read_bgr(path);
    faces.push_back(to_face(image));
    faces.push_back(to_face(blurred(image)));
    faces.push_back(to_face(pixelated(image)));
  }
  return faces;
}

std::vector<FaceQuality> score(const std::shared_ptr<RecognitionModel>& model,
                               const std::vector<OwnedFace>& faces, const FaceQanSettings& settings) {
  FaceQanScorer scorer(model, settings);
  std::vector<FaceImage> views;
  for (size_t i = 0; i < faces.size(); ++i) views.push_back(faces[i].view(i));
  return scorer.score(views);
}

// Small enough for a 2-core machine, large enough for every path: l 2 has a step that the
// optimised scorer takes a backward pass for and a last one it skips.
FaceQanSettings small() {
  FaceQanSettings settings;
  settings.iterations = 2;
  settings.samples = 3;
  return settings;
}

void expect_same(const std::vector<FaceQuality>& optimised, const std::vector<FaceQuality>& plain) {
  ASSERT_EQ(optimised.size(), plain.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_NEAR(optimised[i].quality, plain[i].quality, 1e-4) << "face " << i;
    EXPECT_NEAR(optimised[i].mean_similarity, plain[i].mean_similarity, 1e-5) << "face " << i;
    EXPECT_NEAR(optimised[i].std_similarity, plain[i].std_similarity, 1e-5) << "face " << i;
    EXPECT_NEAR(optimised[i].symmetry, plain[i].symmetry, 1e-5) << "face " << i;
    std::printf("face %zu optimised %.7f plain %.7f\n", i, optimised[i].quality, plain[i].quality);
  }
}

TEST(PlainFaceQan, DefaultOnnxModelMatchesOptimisedScorer) {
  set_cpu_threads(1);
  const auto model = load_recognition_model(model_file(kDefaultRecognitionModel), "cpu");
  const auto faces = lfw_faces(2);
  const FaceQanSettings settings = small();
  const auto optimised = score(model, faces, settings);  // the two faces in one batch
  RecognitionModel::Impl& net = model->impl();
  std::vector<FaceQuality> plain;
  for (size_t i = 0; i < faces.size(); ++i) {
    plain.push_back(plain_faceqan([&](const at::Tensor& x) { return net.embed(x); }, faces[i], i, settings));
  }
  expect_same(optimised, plain);
}

// TorchScript has real parameters: the plain path makes them require gradients, as the reference's
// trainable model does, and runs the module straight (no subnormal flushing, no copy).
TEST(PlainFaceQan, TorchScriptWithTrainableWeightsMatchesOptimisedScorer) {
  set_cpu_threads(1);
  const std::string path = build_dir() + "/test-fixtures/iresnet_tiny.pt";
  const auto model = load_torchscript_model(path, ModelContract{}, "cpu");
  torch::jit::Module module = torch::jit::load(path);
  module.eval();
  for (auto parameter : module.parameters()) parameter.set_requires_grad(true);
  const at::Tensor scale = at::full({1, 3, 1, 1}, 255.0f / 127.5f);
  const at::Tensor offset = at::full({1, 3, 1, 1}, 127.5f / 127.5f);
  const Embed embed = [&](const at::Tensor& x) {
    for (auto parameter : module.parameters()) {
      if (parameter.grad().defined()) parameter.mutable_grad().zero_();  // model.zero_grad()
    }
    return module.forward({x * scale - offset}).toTensor();
  };
  const auto faces = lfw_faces(2);
  const FaceQanSettings settings = small();
  const auto optimised = score(model, faces, settings);
  std::vector<FaceQuality> plain;
  for (size_t i = 0; i < faces.size(); ++i) plain.push_back(plain_faceqan(embed, faces[i], i, settings));
  expect_same(optimised, plain);
  bool weights_got_gradients = false;
  for (const auto& parameter : module.parameters()) weights_got_gradients |= parameter.grad().defined();
  EXPECT_TRUE(weights_got_gradients);
}

// A lower precision either runs and ranks faces as fp32 does, or is refused with an error naming
// the precision and the device. Stated agreement (docs/PERFORMANCE.md): Spearman >= 0.99 against
// fp32 over the 397 faces of the degraded development set at the paper's settings (fp32 against
// itself with another seed: 0.995). Here, on 12 faces of mixed quality at l 2, k 3: Spearman
// >= 0.95 (one swap of neighbours in 12 is 0.993, two 0.986; fp32 with another seed stays above
// 0.95 too) and each quality within 0.05. tf32 on the CPU is fp32 exactly.
class LowerPrecision : public ::testing::TestWithParam<Precision> {};

TEST_P(LowerPrecision, AgreesWithFp32OrIsAClearError) {
  set_cpu_threads(1);
  const auto model = load_recognition_model(model_file(kDefaultRecognitionModel), "cpu");
  FaceQanSettings settings = small();
  settings.precision = GetParam();
  const std::string name = precision_name(GetParam());
  std::unique_ptr<FaceQanScorer> scorer;
  try {
    scorer = std::make_unique<FaceQanScorer>(model, settings);
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kDeviceUnavailable);
    const std::string message = error.what();
    EXPECT_NE(message.find("precision " + name), std::string::npos) << message;
    EXPECT_NE(message.find("device cpu"), std::string::npos) << message;
    // Refused once, refused again (the check's verdict is kept), and fp32 still works.
    EXPECT_THROW(FaceQanScorer(model, settings), Error);
    std::printf("%s on this CPU: refused: %s\n", name.c_str(), message.c_str());
    EXPECT_NO_THROW(FaceQanScorer(model, small()));
    return;
  }
  const auto faces = GetParam() == Precision::kTF32 ? lfw_faces(1) : faces_of_mixed_quality(4);
  std::vector<FaceImage> views;
  for (size_t i = 0; i < faces.size(); ++i) views.push_back(faces[i].view(i));
  const auto lower = scorer->score(views);
  const auto full = score(model, faces, small());
  std::vector<double> a, b;
  double worst = 0;
  for (size_t i = 0; i < faces.size(); ++i) {
    a.push_back(full[i].quality);
    b.push_back(lower[i].quality);
    worst = std::max(worst, std::abs(full[i].quality - lower[i].quality));
    EXPECT_TRUE(std::isfinite(lower[i].quality));
    EXPECT_EQ(lower[i].embedding.size(), full[i].embedding.size());
  }
  const double rho = spearman(a, b);
  std::printf("%s on this CPU: Spearman %.4f against fp32, largest difference %.4f\n", name.c_str(),
              rho, worst);
  if (GetParam() != Precision::kTF32) {
    // The yardstick: how far fp32 moves from itself with another seed on the same faces.
    FaceQanSettings reseeded = small();
    reseeded.seed = 7;
    const auto again = score(model, faces, reseeded);
    std::vector<double> c;
    for (const auto& quality : again) c.push_back(quality.quality);
    std::printf("fp32 with another seed: Spearman %.4f against fp32\n", spearman(a, c));
  }
  if (GetParam() == Precision::kTF32) {
    EXPECT_EQ(worst, 0.0);
  } else {
    EXPECT_GE(rho, 0.95);
    EXPECT_LE(worst, 0.05);
  }
}

INSTANTIATE_TEST_SUITE_P(Cpu, LowerPrecision,
                         ::testing::Values(Precision::kBFloat16, Precision::kFloat16, Precision::kTF32),
                         [](const auto& info) { return std::string(precision_name(info.param)); });

// precision=auto: bf16 exactly where the CPU has native bfloat16 that oneDNN may use, fp32
// elsewhere (ONEDNN_MAX_CPU_ISA=AVX2 makes it fp32 on any CPU); the scorer says which it chose.
TEST(PrecisionAuto, ResolvesToBf16OnlyWithNativeBf16) {
  set_cpu_threads(1);
  const auto model = load_recognition_model(model_file(kDefaultRecognitionModel), "cpu");
  FaceQanSettings settings = small();
  settings.precision = Precision::kAuto;
  FaceQanScorer scorer(model, settings);
  const Precision expected = cpu_has_native_bf16() ? Precision::kBFloat16 : Precision::kFloat32;
  EXPECT_EQ(scorer.settings().precision, expected);
  std::printf("precision auto on this CPU: %s\n", precision_name(scorer.settings().precision));
  const auto faces = lfw_faces(1);
  const auto result = scorer.score({faces[0].view(0)});
  ASSERT_EQ(result.size(), 1u);
  EXPECT_TRUE(std::isfinite(result[0].quality));

  // oneDNN capped below AVX512_CORE_BF16: no native bf16 for it, whatever the CPU.
  const char* before = std::getenv("ONEDNN_MAX_CPU_ISA");
  const std::string saved = before ? before : "";
  setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
  EXPECT_FALSE(cpu_has_native_bf16());
  if (before) setenv("ONEDNN_MAX_CPU_ISA", saved.c_str(), 1); else unsetenv("ONEDNN_MAX_CPU_ISA");
}

TEST(PrecisionNames, RoundTripAndUnknownIsAnError) {
  for (Precision p : {Precision::kFloat32, Precision::kTF32, Precision::kFloat16, Precision::kBFloat16}) {
    EXPECT_EQ(parse_precision(precision_name(p)), p);
  }
  EXPECT_EQ(parse_precision("bfloat16"), Precision::kBFloat16);
  EXPECT_EQ(parse_precision("auto"), Precision::kAuto);
  EXPECT_STREQ(precision_name(Precision::kAuto), "auto");
  EXPECT_EQ(FaceQanSettings{}.precision, Precision::kFloat32);
  try {
    parse_precision("int8");
    FAIL() << "int8 accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(error.what()).find("int8"), std::string::npos);
  }
}

}  // namespace
}  // namespace faceqan::test
