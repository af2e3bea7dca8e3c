// FaceQAN on the real default recognition model and real aligned faces.
#include <gtest/gtest.h>

#include <cmath>

#include "face_images.h"
#include "faceqan/model_io.h"
#include "faceqan/model_paths.h"
#include "faceqan/network.h"  // can_run_side_by_side
#include "faceqan/quality.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

class FaceQanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    set_cpu_threads(2);
    model_ = load_recognition_model(model_file(kDefaultRecognitionModel), "cpu");
  }
  static void TearDownTestSuite() { model_.reset(); }

  // Scores faces in chunks of `chunk`, keyed by their index.
  static std::vector<FaceQuality> score_all(const std::vector<OwnedFace>& faces,
                                            const FaceQanSettings& settings, size_t chunk) {
    FaceQanScorer scorer(model_, settings);
    std::vector<FaceQuality> results;
    for (size_t start = 0; start < faces.size(); start += chunk) {
      std::vector<FaceImage> batch;
      for (size_t i = start; i < std::min(faces.size(), start + chunk); ++i) batch.push_back(faces[i].view(i));
      for (auto& result : scorer.score(batch)) results.push_back(std::move(result));
    }
    return results;
  }

  static std::vector<OwnedFace> lfw_faces(size_t count) {
    std::vector<OwnedFace> faces;
    for (const auto& path : lfw_aligned_images()) {
      if (faces.size() == count) break;
      faces.push_back(to_face(read_bgr(path)));
    }
    return faces;
  }

  static FaceQanSettings cheap() {
    FaceQanSettings settings;
    settings.iterations = 2;
    settings.samples = 4;
    return settings;
  }

  static std::shared_ptr<RecognitionModel> model_;
};

std::shared_ptr<RecognitionModel> FaceQanTest::model_;

TEST_F(FaceQanTest, AlignedLfwFacesScoreInUnitIntervalAndDegradedCopiesScoreLower) {
  std::vector<OwnedFace> originals, blurs, pixelations;
  for (const auto& path : lfw_aligned_images()) {
    const cv::Mat image = read_bgr(path);
    originals.push_back(to_face(image));
    blurs.push_back(to_face(blurred(image)));
    pixelations.push_back(to_face(pixelated(image)));
  }
  ASSERT_EQ(originals.size(), 20u);
  const FaceQanSettings paper;  // the paper's defaults at the default (fixed) seed
  const auto original = score_all(originals, paper, 5);
  const auto blur = score_all(blurs, paper, 5);
  const auto pixel = score_all(pixelations, paper, 5);

  int blur_lower = 0, pixel_lower = 0;
  for (size_t i = 0; i < original.size(); ++i) {
    EXPECT_GT(original[i].quality, 0.0) << i;
    EXPECT_LE(original[i].quality, 1.0) << i;
    EXPECT_NEAR(original[i].quality,
                std::pow((1 + original[i].mean_similarity) / 2 * (1 - original[i].std_similarity) *
                             original[i].symmetry, 5),
                1e-12);
    blur_lower += blur[i].quality < original[i].quality;
    pixel_lower += pixel[i].quality < original[i].quality;
    std::printf("%2zu original %.4f blurred %.4f 16x16 %.4f\n", i, original[i].quality, blur[i].quality,
                pixel[i].quality);
  }
  EXPECT_GE(blur_lower, 18);
  EXPECT_GE(pixel_lower, 18);
}

TEST_F(FaceQanTest, ResultDoesNotDependOnBatchCompanions) {
  const auto faces = lfw_faces(4);
  const auto together = score_all(faces, cheap(), 4);
  const auto alone = score_all(faces, cheap(), 1);
  ASSERT_EQ(together.size(), 4u);
  for (size_t i = 0; i < faces.size(); ++i) {
    EXPECT_NEAR(together[i].quality, alone[i].quality, 1e-5) << i;
    EXPECT_NEAR(together[i].mean_similarity, alone[i].mean_similarity, 1e-5) << i;
    EXPECT_NEAR(together[i].symmetry, alone[i].symmetry, 1e-5) << i;
  }
}

// The CPU's sub-batches and channels-last layout (the rule) give the scores of the whole chunk in
// NCHW (how the attack ran before), to the last digits of float32 sums.
TEST_F(FaceQanTest, CpuSubBatchesAndLayoutDoNotChangeScores) {
  const auto faces = lfw_faces(2);
  FaceQanSettings whole_nchw = cheap();
  whole_nchw.cpu.images_per_pass = 1000;
  whole_nchw.cpu.channels_last = 0;
  FaceQanSettings one_nhwc = cheap();
  one_nhwc.cpu.images_per_pass = 1;
  one_nhwc.cpu.channels_last = 1;
  const auto reference = score_all(faces, whole_nchw, 2);
  for (const FaceQanSettings& settings : {cheap(), one_nhwc}) {
    const auto results = score_all(faces, settings, 2);
    ASSERT_EQ(results.size(), faces.size());
    for (size_t i = 0; i < faces.size(); ++i) {
      EXPECT_NEAR(results[i].quality, reference[i].quality, 1e-5) << i;
      EXPECT_NEAR(results[i].mean_similarity, reference[i].mean_similarity, 1e-5) << i;
      EXPECT_NEAR(results[i].std_similarity, reference[i].std_similarity, 1e-5) << i;
    }
  }
}

// batch-size auto: on the CPU the fewest faces whose copies fill every thread's sub-batches
// exactly; an explicit number wins; anything else is a clear error.
TEST_F(FaceQanTest, BatchSizeAutoFillsSubBatchesAndExplicitWins) {
  const int threads = can_run_side_by_side() ? 2 : 1;
  FaceQanSettings settings = cheap();
  settings.samples = 3;
  settings.cpu.images_per_pass = 2;
  FaceQanScorer odd(model_, settings);  // 3 copies per face, 2 threads x 2 per pass: 4 faces
  EXPECT_EQ(choose_batch_size("auto", odd).faces, threads == 2 ? 4 : 2);
  EXPECT_NE(choose_batch_size("auto", odd).reason.find("auto"), std::string::npos);
  settings.samples = 10;
  settings.cpu.images_per_pass = 5;
  FaceQanScorer paper(model_, settings);  // 10 copies fill 2 x 5
  EXPECT_EQ(auto_batch_size(paper).faces, 1);
  const BatchSizeChoice explicit_choice = choose_batch_size("6", paper);
  EXPECT_EQ(explicit_choice.faces, 6);
  EXPECT_EQ(explicit_choice.reason, "set explicitly");
  for (const char* bad : {"0", "-2", "eight", "8x"}) {
    try {
      choose_batch_size(bad, paper);
      FAIL() << "batch size '" << bad << "' accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(error.what()).find(bad), std::string::npos) << error.what();
    }
  }
}

TEST_F(FaceQanTest, SameSeedIsBitIdenticalAndAnotherSeedDiffers) {
  const auto faces = lfw_faces(2);
  const auto first = score_all(faces, cheap(), 2);
  const auto again = score_all(faces, cheap(), 2);
  FaceQanSettings other = cheap();
  other.seed = 12345;
  const auto reseeded = score_all(faces, other, 2);
  for (size_t i = 0; i < faces.size(); ++i) {
    EXPECT_EQ(first[i].quality, again[i].quality);
    EXPECT_EQ(first[i].mean_similarity, again[i].mean_similarity);
    EXPECT_EQ(first[i].std_similarity, again[i].std_similarity);
    EXPECT_NE(first[i].mean_similarity, reseeded[i].mean_similarity);
    // Seeds move scores only a little (about 0.013 at most, per the data's manifest).
    EXPECT_NEAR(first[i].quality, reseeded[i].quality, 0.03);
  }
}

TEST_F(FaceQanTest, RandomSeedIsDrawnAndReported) {
  FaceQanSettings settings = cheap();
  settings.seed = kRandomSeed;
  FaceQanScorer a(model_, settings), b(model_, settings);
  EXPECT_GE(a.seed(), 0);
  EXPECT_NE(a.seed(), b.seed());
}

TEST_F(FaceQanTest, SamplesAndExponentTakeEffect) {
  const auto faces = lfw_faces(1);
  FaceQanSettings p1 = cheap();
  p1.exponent = 1;
  FaceQanSettings p3 = cheap();
  p3.exponent = 3;
  const auto q1 = score_all(faces, p1, 1)[0];
  const auto q3 = score_all(faces, p3, 1)[0];
  EXPECT_NEAR(q3.quality, std::pow(q1.quality, 3), 1e-12);

  FaceQanScorer scorer(model_, cheap());
  scorer.score({faces[0].view(0)});
  // 2 clean passes (face and mirror) + l*k noisy; the last step's backward pass is skipped.
  EXPECT_EQ(scorer.counters().forward_images, 2u + 2u * 4u);
  EXPECT_EQ(scorer.counters().backward_images, 1u * 4u);
  FaceQanSettings more = cheap();
  more.samples = 6;
  const auto k6 = score_all(faces, more, 1)[0];
  EXPECT_NE(k6.mean_similarity, q1.mean_similarity);
}

TEST_F(FaceQanTest, EmbeddingIsNormalisedAndSymmetryMatchesMirror) {
  const auto faces = lfw_faces(1);
  const auto result = score_all(faces, cheap(), 1)[0];
  ASSERT_EQ(result.embedding.size(), 512u);
  double norm = 0;
  for (float v : result.embedding) norm += double(v) * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_GT(result.symmetry, 0.5);
  EXPECT_LE(result.symmetry, 1.0 + 1e-6);
}

TEST_F(FaceQanTest, EmbeddingNormIsTheNormOfTheSameCropsEmbedding) {
  // The norm comes from FaceQAN's clean pass; the model's own forward pass on the same crops
  // (float32, one face at a time) must give the same norm and direction.
  const auto faces = lfw_faces(3);
  const auto results = score_all(faces, cheap(), 3);
  for (size_t i = 0; i < faces.size(); ++i) {
    const std::vector<float> raw = model_->embed({faces[i].view(i)})[0];
    double norm = 0;
    for (float v : raw) norm += double(v) * v;
    norm = std::sqrt(norm);
    ASSERT_GT(norm, 0.0);
    EXPECT_NEAR(results[i].embedding_norm / norm, 1.0, 1e-4) << "face " << i;
    ASSERT_EQ(results[i].embedding.size(), raw.size());
    for (size_t j = 0; j < raw.size(); j += 64)
      EXPECT_NEAR(results[i].embedding[j], raw[j] / norm, 1e-4) << "face " << i << " component " << j;
  }
  // Different faces have different norms: the value is the face's own.
  EXPECT_NE(results[0].embedding_norm, results[1].embedding_norm);
}

TEST_F(FaceQanTest, QualityAtTheDefaultSeedIsUnchanged) {
  // Recorded before the embedding norm was added (commit 1b52f64, `faceqan score -l 2 -k 4` on
  // the first two images, keys 0 and 1, float32, AMD EPYC AVX-512); the norm must not move
  // FaceQAN's own numbers. The margin covers other CPUs' float32 rounding, far below the ~0.013
  // a different seed moves a score.
  const auto faces = lfw_faces(2);
  const auto results = score_all(faces, cheap(), 2);
  EXPECT_NEAR(results[0].quality, 0.8450177541444547, 1e-5);
  EXPECT_NEAR(results[0].symmetry, 0.9736512303352356, 1e-5);
  EXPECT_NEAR(results[1].quality, 0.8134699339002806, 1e-5);
  EXPECT_NEAR(results[1].symmetry, 0.9653904438018799, 1e-5);
}

TEST_F(FaceQanTest, WrongSizedFaceIsAClearError) {
  std::vector<float> pixels(64 * 64 * 3, 0.5f);
  FaceQanScorer scorer(model_, cheap());
  try {
    scorer.score({FaceImage{pixels.data(), 64, 64, 0}});
    FAIL() << "a 64x64 face was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidInput);
    EXPECT_NE(std::string(error.what()).find("112x112"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(scorer.score({}).empty());
}

TEST_F(FaceQanTest, AskingForCudaWithoutCudaIsAClearError) {
  if (cuda_available()) GTEST_SKIP() << "this LibTorch has a GPU; the error case cannot happen";
  try {
    load_recognition_model(model_file(kDefaultRecognitionModel), "cuda");
    FAIL() << "cuda accepted on a LibTorch without CUDA";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kDeviceUnavailable);
    EXPECT_NE(std::string(error.what()).find("CUDA"), std::string::npos) << error.what();
  }
  EXPECT_THROW(load_recognition_model(model_file(kDefaultRecognitionModel), "tpu"), Error);
  EXPECT_EQ(load_recognition_model(model_file(kDefaultRecognitionModel), "auto")->device(), "cpu");
}

}  // namespace
}  // namespace faceqan::test
