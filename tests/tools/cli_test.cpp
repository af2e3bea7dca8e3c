// The faceqan program run as a user runs it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_support.h"

namespace faceqan::test {
namespace {

std::string lfw(const std::string& name) { return data_file("lfw-aligned-112/" + name); }

// Cheap FaceQAN settings: these tests check the program, not the algorithm.
const std::string kCheap = "-l 2 -k 2 --threads 2 ";

TEST(Cli, VersionPrintsTheVersion) {
  const auto result = run_faceqan("--version");
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("faceqan 0."), std::string::npos) << result.out;
}

TEST(Cli, ScoresAlignedImagesAsJson) {
  const auto result = run_faceqan("score " + kCheap + lfw("001.jpg") + " " + lfw("002.jpg"));
  ASSERT_EQ(result.status, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["image"], lfw("001.jpg"));
  ASSERT_EQ(json[0]["faces"].size(), 1u);
  for (const char* key : {"quality", "mean_similarity", "std_similarity", "symmetry", "embedding_norm"}) {
    EXPECT_TRUE(json[0]["faces"][0].contains(key)) << key;
  }
  // The embedding's norm is the face's own (about 3 for the default model on LFW faces).
  EXPECT_GT(json[0]["faces"][0]["embedding_norm"].get<double>(), 1.0);
  EXPECT_NE(json[0]["faces"][0]["embedding_norm"], json[1]["faces"][0]["embedding_norm"]);
  const double q = json[1]["faces"][0]["quality"];
  EXPECT_GT(q, 0.0);
  EXPECT_LE(q, 1.0);
}

TEST(Cli, BadImageIsReportedAndTheOthersAreStillScored) {
  const std::string dir = scratch_dir("cli-bad-image");
  const std::string text = dir + "/not-an-image.jpg";
  std::ofstream(text) << "hello";
  const auto result =
      run_faceqan("score " + kCheap + lfw("001.jpg") + " " + text + " " + dir + "/missing.png");
  EXPECT_EQ(result.status, 1);
  const auto json = nlohmann::json::parse(result.out);
  ASSERT_EQ(json.size(), 3u);
  EXPECT_TRUE(json[0].contains("faces"));
  EXPECT_TRUE(json[1].contains("error"));
  EXPECT_FALSE(json[1].contains("faces"));
  EXPECT_NE(json[2]["error"].get<std::string>().find("no such file"), std::string::npos);
}

TEST(Cli, WritesCsvWhenAskedTo) {
  const std::string csv = scratch_dir("cli-csv") + "/scores.csv";
  const auto result = run_faceqan("score " + kCheap + "--output " + csv + " " + lfw("003.jpg"));
  ASSERT_EQ(result.status, 0) << result.err;
  std::ifstream file(csv);
  std::string header, row;
  std::getline(file, header);
  std::getline(file, row);
  EXPECT_EQ(header.rfind("image,face,quality,mean_similarity,std_similarity,symmetry,embedding_norm,", 0), 0u) << header;
  EXPECT_NE(row.find("003.jpg"), std::string::npos) << row;
  // Every row has as many fields as the header, the norm among them.
  const auto fields = [](const std::string& line) { return std::count(line.begin(), line.end(), ','); };
  EXPECT_EQ(fields(row), fields(header)) << row;
}

// --batch-size defaults to auto and says what it chose; an explicit value wins and is used
// silently; --precision auto says which precision it resolved to.
TEST(Cli, BatchSizeAutoSaysWhatItChoseAndExplicitWins) {
  auto result = run_faceqan("score -l 1 -k 3 --threads 2 " + lfw("001.jpg") + " " + lfw("002.jpg"));
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.err.find("batch size "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(" (auto: "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("precision fp32"), std::string::npos) << result.err;
  result = run_faceqan("score -l 1 -k 3 --threads 2 --batch-size 1 " + lfw("001.jpg"));
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.err.find("batch size"), std::string::npos) << result.err;
  result = run_faceqan("score -l 1 -k 2 --threads 2 --batch-size 1 --precision auto " + lfw("001.jpg"));
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_TRUE(result.err.find("precision bf16") != std::string::npos ||
              result.err.find("precision fp32") != std::string::npos) << result.err;
  result = run_faceqan("score --batch-size none " + lfw("001.jpg"));
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.err.find("batch-size"), std::string::npos) << result.err;
}

TEST(Cli, BadParametersAreClearErrors) {
  for (const auto& [flags, word] : std::vector<std::pair<std::string, std::string>>{
           {"--samples 1", "samples"}, {"--iterations 0", "iterations"},
           {"--epsilon 1.5", "epsilon"}, {"--exponent 0", "exponent"}, {"--device tpu", "tpu"}}) {
    const auto result = run_faceqan("score " + flags + " " + lfw("001.jpg"));
    EXPECT_NE(result.status, 0) << flags;
    EXPECT_NE(result.err.find(word), std::string::npos) << flags << ": " << result.err;
  }
}

TEST(Cli, MissingOrTruncatedModelNamesTheFile) {
  auto result = run_faceqan("score --recognizer /nonexistent/net.onnx " + lfw("001.jpg"));
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("/nonexistent/net.onnx"), std::string::npos) << result.err;

  const std::string truncated = scratch_dir("cli-truncated") + "/cut.onnx";
  {
    std::ifstream source(std::string(std::getenv("FACEQAN_MODEL_PATH")) +
                             "/recognition/mobilefacenet512_faceplugin.onnx", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  result = run_faceqan("score --recognizer " + truncated + " " + lfw("001.jpg"));
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("cut.onnx"), std::string::npos) << result.err;
}

TEST(Cli, DetectsAlignsAndScoresWholePhotos) {
  const std::string photo = data_file("groups/two_people.jpg");
  const auto result = run_faceqan("score " + kCheap + photo);
  ASSERT_EQ(result.status, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  ASSERT_EQ(json.size(), 1u);
  ASSERT_GE(json[0]["faces"].size(), 2u);
  for (const auto& face : json[0]["faces"]) {
    EXPECT_EQ(face["box"].size(), 4u);
    EXPECT_EQ(face["landmarks"].size(), 5u);
    EXPECT_GE(face["confidence"].get<double>(), 0.6);
    EXPECT_GT(face["quality"].get<double>(), 0.0);
  }
}

TEST(Cli, DetectWritesJsonAndAlignedCrops) {
  const std::string crops = scratch_dir("cli-crops");
  const std::string photo = data_file("groups/bbt1.jpg");
  const auto result = run_faceqan("detect --save-crops " + crops + " " + photo);
  ASSERT_EQ(result.status, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_GT(json[0]["width"].get<int>(), 0);
  const size_t faces = json[0]["faces"].size();
  EXPECT_EQ(faces, 4u);
  for (size_t i = 0; i < faces; ++i) {
    EXPECT_TRUE(std::filesystem::exists(crops + "/bbt1_" + std::to_string(i) + ".png")) << i;
  }
}

}  // namespace
}  // namespace faceqan::test
