// Pair lists, identity folders and score files as `faceqan eval` reads them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "eval_data.h"
#include "test_support.h"

namespace faceqan::eval {
namespace {

TEST(PairList, DeepfaceCsvWithCrlfAndNoFinalNewline) {
  const Dataset d = parse_pair_list("file_x,file_y,Decision\r\nimg1.jpg,img2.jpg,Yes\r\nimg1.jpg,img3.jpg,No", "r", "t.csv");
  ASSERT_EQ(d.pairs.size(), 2u);
  EXPECT_EQ(d.images, (std::vector<std::string>{"img1.jpg", "img2.jpg", "img3.jpg"}));
  EXPECT_TRUE(d.pairs[0].genuine);
  EXPECT_FALSE(d.pairs[1].genuine);
  EXPECT_EQ(d.pairs[1].a, 0u);
  EXPECT_EQ(d.pairs[1].b, 2u);
}

TEST(PairList, LfwPairsTxt) {
  const Dataset d = parse_pair_list("10\t300\nAbel_Pacheco\t1\t4\nAbdel_Madi_Shabneh\t1\tDean_Barker\t1\n", ".", "pairs.txt");
  ASSERT_EQ(d.pairs.size(), 2u);
  EXPECT_EQ(d.images[0], "Abel_Pacheco/Abel_Pacheco_0001.jpg");
  EXPECT_EQ(d.images[1], "Abel_Pacheco/Abel_Pacheco_0004.jpg");
  EXPECT_EQ(d.images[3], "Dean_Barker/Dean_Barker_0001.jpg");
  EXPECT_TRUE(d.pairs[0].genuine);
  EXPECT_FALSE(d.pairs[1].genuine);
}

TEST(PairList, ThreeColumnsWithComments) {
  const Dataset d = parse_pair_list("# image_a image_b same\n000.jpg 001.jpg 1\n\n002.jpg 000.jpg 0\n", ".", "p");
  ASSERT_EQ(d.pairs.size(), 2u);
  EXPECT_TRUE(d.pairs[0].genuine);
  EXPECT_FALSE(d.pairs[1].genuine);
  EXPECT_EQ(d.pairs[1].b, 0u);
}

TEST(PairList, MalformedLinesNameTheLine) {
  try {
    parse_pair_list("a.jpg b.jpg 1\na.jpg b.jpg maybe\n", ".", "p.txt");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("p.txt:2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_pair_list("file_x,file_y\na,b\n", ".", "c.csv"), std::runtime_error);
  EXPECT_THROW(parse_pair_list("# nothing\n", ".", "e.txt"), std::runtime_error);
}

TEST(PairList, ShippedDeepfaceMasterCsv) {
  const Dataset d = load_pair_list(test::data_file("pairs-deepface/master.csv"));
  EXPECT_EQ(d.pairs.size(), 300u);
  size_t genuine = 0;
  for (const auto& p : d.pairs) genuine += p.genuine;
  EXPECT_GT(genuine, 0u);
  EXPECT_LT(genuine, 300u);
}

TEST(IdentityFolders, AllGenuineAndAllOrSampledImpostors) {
  const std::string root = test::scratch_dir("eval_identity_folders");
  for (const auto& [id, n] : std::vector<std::pair<std::string, int>>{{"a", 3}, {"b", 2}, {"c", 1}}) {
    std::filesystem::create_directories(root + "/" + id);
    for (int i = 0; i < n; ++i) std::ofstream(root + "/" + id + "/" + std::to_string(i) + ".png") << "x";
  }
  std::ofstream(root + "/a/notes.txt") << "not an image";
  const Dataset d = load_identity_folders(root, 0, 1);
  EXPECT_EQ(d.identities, 3u);
  EXPECT_EQ(d.images.size(), 6u);
  size_t genuine = 0, impostor = 0;
  for (const auto& p : d.pairs) (p.genuine ? genuine : impostor)++;
  EXPECT_EQ(genuine, 3u + 1u);              // C(3,2) + C(2,2)
  EXPECT_EQ(impostor, 3u * 2 + 3 * 1 + 2 * 1);  // 11
  EXPECT_EQ(d.impostor_pairs_available, 11u);
  const Dataset s1 = load_identity_folders(root, 5, 7);
  const Dataset s2 = load_identity_folders(root, 5, 7);
  EXPECT_EQ(s1.pairs.size(), 4u + 5u);
  for (size_t i = 0; i < s1.pairs.size(); ++i) {
    EXPECT_EQ(s1.pairs[i].a, s2.pairs[i].a);  // seeded: the same sample
    EXPECT_EQ(s1.pairs[i].b, s2.pairs[i].b);
  }
}

TEST(ScoreFiles, JsonKeepsTheLargestFaceAndSkipsErrors) {
  const auto s = parse_score_json(R"([
    {"image": "x/a.png", "faces": [{"quality": 0.5, "mean_similarity": 0.9, "std_similarity": 0.01, "symmetry": 0.95}]},
    {"image": "b.jpg", "width": 100, "height": 100, "faces": [
      {"quality": 0.2, "symmetry": 0.9, "box": [0, 0, 10, 10]},
      {"quality": 0.7, "symmetry": 0.8, "box": [0, 0, 40, 50]}]},
    {"image": "c.jpg", "error": "no such file"}])", "s.json");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_DOUBLE_EQ(s.at("b.jpg").quality, 0.7);
  EXPECT_DOUBLE_EQ(s.at("x/a.png").symmetry, 0.95);
  EXPECT_FALSE(find_score(s, "/data", "c.jpg"));
  EXPECT_DOUBLE_EQ(find_score(s, "/data", "a.png")->quality, 0.5);  // suffix match
  EXPECT_DOUBLE_EQ(find_score(s, "x", "a.png")->quality, 0.5);      // root/path
}

TEST(ScoreFiles, CsvAsFaceqanScoreWritesIt) {
  const auto s = parse_score_csv(
      "image,face,quality,mean_similarity,std_similarity,symmetry,x,y,width,height,confidence,error\n"
      "\"p.jpg\",0,0.3,0.99,0.002,0.9,1,1,10,10,0.99,\n"
      "\"p.jpg\",1,0.6,0.99,0.002,0.9,1,1,30,30,0.99,\n"
      "\"q.jpg\",,,,,,,,,,,\"cannot read image\"\n", "s.csv");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s.at("p.jpg").quality, 0.6);
}

}  // namespace
}  // namespace faceqan::eval
