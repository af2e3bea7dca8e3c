// `faceqan eval` run as a user runs it: pair lists and identity folders, score files and --score,
// the table, the JSON curves and the calibration file.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

#include "test_support.h"

namespace faceqan::test {
namespace {

CommandResult run_eval_cli(const std::string& arguments) {
  return run_faceqan(arguments, "eval-cli-run");
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

TEST(EvalCli, OnlyGenuinePairsIsAClearError) {
  const auto r = run_eval_cli("eval --score -l 2 -k 2 --threads 2 " + data_file("lfw-aligned-112/pairs.txt"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("no impostor pairs"), std::string::npos) << r.err;
}

TEST(EvalCli, PairListScoredOnTheFly) {
  const std::string dir = scratch_dir("eval-cli-pairs");
  std::ofstream(dir + "/pairs.txt") << "000.jpg 001.jpg 1\n000.jpg 002.jpg 0\n001.jpg 003.jpg 0\n002.jpg 003.jpg 1\n";
  const auto r = run_eval_cli("eval --score -l 2 -k 2 --threads 2 --no-baselines --root " +
                             data_file("lfw-aligned-112") + " -o " + dir + "/curves.json --calibration " +
                             dir + "/cal.json " + dir + "/pairs.txt");
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("warning: FMR 0.001 rests on 2 impostor pairs"), std::string::npos) << r.out;
  const auto j = read_json(dir + "/curves.json");
  ASSERT_EQ(j["methods"].size(), 3u);
  EXPECT_EQ(j["methods"][0]["name"], "FaceQAN (l 2, k 2)");
  EXPECT_EQ(j["methods"][1]["name"], "FaceQAN (l 2, k 2): symmetry only");
  EXPECT_EQ(j["methods"][0]["genuine"], 2);
  EXPECT_EQ(j["methods"][0]["impostor"], 2);
  EXPECT_EQ(j["methods"][0]["reject"].size(), 17u);
  EXPECT_EQ(j["methods"][0]["by_fmr"].size(), 2u);
  const auto cal = read_json(dir + "/cal.json");
  EXPECT_EQ(cal["percentiles"].size(), 101u);
  EXPECT_TRUE(cal.contains("recommended_quality"));
}

TEST(EvalCli, IdentityFoldersWithAScoreFileAndBaselines) {
  // A score file with made-up qualities: eval only reads it. Paths are relative to the root,
  // one with a prefix (matched by suffix), one image missing (its pairs are left out).
  const std::string root = data_dir() + "/identities";
  const std::string dir = scratch_dir("eval-cli-identities");
  nlohmann::json scores = nlohmann::json::array();
  int i = 0;
  for (const auto& id : std::filesystem::directory_iterator(root)) {
    if (!id.is_directory()) continue;
    for (const auto& f : std::filesystem::directory_iterator(id.path())) {
      const std::string rel = id.path().filename().string() + "/" + f.path().filename().string();
      if (rel == "amy/amy1.png") continue;
      const double q = 0.3 + 0.01 * (i++ % 40);
      scores.push_back({{"image", (i % 2 ? "some/where/" : "") + rel},
                        {"faces", {{{"quality", q}, {"mean_similarity", 0.99}, {"std_similarity", 0.01}, {"symmetry", q}}}}});
    }
  }
  std::ofstream(dir + "/scores.json") << scores.dump();
  const auto r = run_eval_cli("eval --threads 2 --scores made_up=" + dir + "/scores.json -o " + dir +
                             "/curves.json --plot " + dir + "/erc.png " + root);
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("made_up"), std::string::npos);
  EXPECT_NE(r.out.find("recommended quality threshold"), std::string::npos) << r.out;
  const auto j = read_json(dir + "/curves.json");
  std::vector<std::string> names;
  for (const auto& m : j["methods"]) names.push_back(m["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"made_up", "made_up: symmetry only", "made_up: without symmetry",
                                             "random order", "face size (inter-eye distance)",
                                             "sharpness (Laplacian variance)", "detector confidence",
                                             "embedding norm"}));
  // amy1 is in 4 genuine and 44 impostor pairs (49 images, 5 of amy), all left out.
  EXPECT_EQ(j["pairs_left_out"], 4 + 44);
  EXPECT_TRUE(std::filesystem::exists(dir + "/erc.png"));
}

TEST(EvalCli, CalibrateAddsTheMonotone0To100Scale) {
  const std::string dir = scratch_dir("eval-cli-calibrate");
  std::vector<double> percentiles;
  for (int i = 0; i <= 100; ++i) percentiles.push_back(0.4 + 0.005 * i);  // 0.4 .. 0.9
  std::ofstream(dir + "/cal.json") << nlohmann::json{{"percentiles", percentiles}}.dump();
  std::ofstream(dir + "/s.json") << R"([{"image": "a.png", "faces": [{"quality": 0.65}]},
    {"image": "b.png", "faces": [{"quality": 0.2}, {"quality": 0.95}]}, {"image": "c.png", "error": "x"}])";
  const auto r = run_eval_cli("calibrate --calibration " + dir + "/cal.json " + dir + "/s.json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j[0]["faces"][0]["quality_100"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(j[1]["faces"][0]["quality_100"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j[1]["faces"][1]["quality_100"].get<double>(), 100.0);
  std::ofstream(dir + "/s.csv") << "image,face,quality,error\n\"a, b.png\",0,0.65,\n\"c.png\",,,\"bad\"\n";
  const auto c = run_eval_cli("calibrate --calibration " + dir + "/cal.json " + dir + "/s.csv");
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(c.out, "image,face,quality,error,quality_100\n\"a, b.png\",0,0.65,,50.000\n\"c.png\",,,\"bad\",\n");
}

}  // namespace
}  // namespace faceqan::test
