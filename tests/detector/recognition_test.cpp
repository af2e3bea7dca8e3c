// Detection + alignment judged by a recognition network: aligned crops must embed like the
// reference ArcFace crops, and verification on real photos must separate people.
#include "detector_test_support.h"
#include "faceqan/face_alignment.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

namespace faceqan {
namespace {

using test::cosine_similarity;
using test::verification_auc;

TEST(Alignment, RealigningArcFaceCropsReproducesTheirEmbeddings) {
  // Each lfw-aligned-112 image is already an ArcFace crop. Padded with black (so the face is
  // well inside the frame), re-detected and re-aligned, it must embed like the original.
  constexpr int kPadding = 56;
  test::FaceEmbedder embedder;
  const std::vector<std::string> images =
      test::list_images(test::data_dir() + "/lfw-aligned-112");
  ASSERT_EQ(images.size(), 20u);
  std::vector<double> similarities;
  for (const std::string& path : images) {
    const cv::Mat crop = test::read_bgr(path);
    ASSERT_EQ(crop.size(), kArcFaceCrop) << path;
    cv::Mat padded;
    cv::copyMakeBorder(crop, padded, kPadding, kPadding, kPadding, kPadding, cv::BORDER_CONSTANT,
                       cv::Scalar::all(0));
    // The most confident face: on 004 a whole-frame false positive (confidence 0.61) is the
    // largest box.
    const std::vector<float> realigned =
        embedder.embed_face(padded, test::FaceEmbedder::Pick::kMostConfident);
    ASSERT_FALSE(realigned.empty()) << "no face found in padded " << path;
    const double similarity = cosine_similarity(embedder.embed_bgr(crop), realigned);
    EXPECT_GE(similarity, 0.85) << test::short_name(path);
    similarities.push_back(similarity);
  }
  const double mean =
      std::accumulate(similarities.begin(), similarities.end(), 0.0) / similarities.size();
  EXPECT_GE(mean, 0.93);
  std::cout << "[          ] lfw-aligned-112 re-alignment: mean cosine " << mean << ", lowest "
            << *std::min_element(similarities.begin(), similarities.end()) << "\n";
}

TEST(Recognition, IdentityCropsSeparatePeoplePerfectly) {
  test::FaceEmbedder embedder;
  std::vector<std::pair<std::string, std::vector<float>>> people;  // (person, embedding)
  for (const char* person :
       {"amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"}) {
    for (const std::string& path : test::list_images(test::data_dir() + "/identities/" + person)) {
      std::vector<float> embedding = embedder.embed_face(test::read_bgr(path));
      ASSERT_FALSE(embedding.empty()) << "no face in " << path;
      people.emplace_back(person, std::move(embedding));
    }
  }
  ASSERT_EQ(people.size(), 40u);
  std::vector<double> same;
  std::vector<double> different;
  for (size_t i = 0; i < people.size(); ++i) {
    for (size_t j = i + 1; j < people.size(); ++j) {
      const double similarity = cosine_similarity(people[i].second, people[j].second);
      (people[i].first == people[j].first ? same : different).push_back(similarity);
    }
  }
  EXPECT_EQ(same.size(), 8u * 10);
  const double auc = verification_auc(same, different);
  EXPECT_EQ(auc, 1.0) << "lowest same-person " << *std::min_element(same.begin(), same.end())
                      << ", highest different-person "
                      << *std::max_element(different.begin(), different.end());
  std::cout << "[          ] identities AUC " << auc << "\n";
}

TEST(Recognition, DeepfacePairsVerify) {
  const std::string dir = test::data_dir() + "/pairs-deepface";
  std::ifstream csv(test::data_file("pairs-deepface/master.csv"), std::ios::binary);
  ASSERT_TRUE(csv) << "cannot read master.csv";
  std::string line;
  std::getline(csv, line);  // header: file_x,file_y,Decision
  struct Pair {
    std::string a, b;
    bool same;
  };
  std::vector<Pair> pairs;
  while (std::getline(csv, line)) {
    if (!line.empty() && line.back() == '\r') {  // CRLF endings
      line.pop_back();
    }
    if (line.empty()) {
      continue;
    }
    std::stringstream fields(line);
    Pair pair;
    std::string decision;
    std::getline(fields, pair.a, ',');
    std::getline(fields, pair.b, ',');
    std::getline(fields, decision, ',');
    ASSERT_TRUE(decision == "Yes" || decision == "No") << line;
    pair.same = decision == "Yes";
    pairs.push_back(pair);
  }
  ASSERT_EQ(pairs.size(), 300u);

  test::FaceEmbedder embedder;
  std::map<std::string, std::vector<float>> embeddings;  // each photo once
  for (const Pair& pair : pairs) {
    for (const std::string& file : {pair.a, pair.b}) {
      if (embeddings.count(file) == 0) {
        embeddings[file] = embedder.embed_face(test::read_bgr(dir + "/" + file));
        EXPECT_FALSE(embeddings[file].empty()) << "no face in pairs-deepface/" << file;
      }
    }
  }
  std::vector<double> same;
  std::vector<double> different;
  for (const Pair& pair : pairs) {
    const double similarity = cosine_similarity(embeddings[pair.a], embeddings[pair.b]);
    (pair.same ? same : different).push_back(similarity);
  }
  const double auc = verification_auc(same, different);
  EXPECT_GE(auc, 0.95);
  std::cout << "[          ] pairs-deepface AUC " << auc << " (" << same.size() << " same, "
            << different.size() << " different)\n";
}

}  // namespace
}  // namespace faceqan
