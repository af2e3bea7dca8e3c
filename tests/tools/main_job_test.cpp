// The README's main job (scripts/main-job.sh, shortened): its annotated video shows the drawing
// exactly where its JSON-lines log says the faces are.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <cstdlib>
#include <fstream>

#include "test_support.h"

namespace faceqan::test {
namespace {

// Mean absolute difference between two frames inside a mask.
double mean_difference(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
  cv::Mat difference;
  cv::absdiff(a, b, difference);
  const cv::Scalar mean = cv::mean(difference, mask);
  return (mean[0] + mean[1] + mean[2]) / 3.0;
}

TEST(MainJob, DrawsEachLoggedFaceWhereTheLogSaysItIs) {
  const std::string out = scratch_dir("main-job");
  const std::string root = std::string(FACEQAN_SOURCE_DIR);
  const std::string command = "FACEQAN_MAIN_JOB=short FACEQAN_MAIN_JOB_OUT=" + out + " bash " + root +
                              "/scripts/main-job.sh > " + out + "/stdout.txt 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << "main-job.sh failed; see " << out << "/stdout.txt";

  std::vector<nlohmann::json> frames;
  std::ifstream log(out + "/hamilton_faces.jsonl");
  for (std::string line; std::getline(log, line);) {
    const auto message = nlohmann::json::parse(line);
    if (message["message"] == "faceqan") frames.push_back(message);
  }
  ASSERT_EQ(frames.size(), 30u) << "one message per frame of the shortened job";

  cv::VideoCapture annotated(out + "/hamilton_annotated.mp4");
  cv::VideoCapture source(data_file("video/hamilton_clip.mp4"));
  ASSERT_TRUE(annotated.isOpened());
  ASSERT_TRUE(source.isOpened());
  int faces_checked = 0;
  size_t decoded = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    cv::Mat drawn, original;
    // `identity eos-after` before x264enc/mp4mux loses the very last frame from the file, with or
    // without faceqan in the pipeline (checked by hand with GStreamer alone); allow for it.
    if (!annotated.read(drawn)) break;
    ++decoded;
    ASSERT_TRUE(source.read(original)) << "frame " << i;
    ASSERT_EQ(drawn.size(), original.size());
    // Where the drawing may be: a band around each box, the landmarks inside it, the label above.
    cv::Mat anywhere_drawn = cv::Mat::zeros(drawn.size(), CV_8U);
    std::vector<cv::Mat> bands;
    for (const auto& face : frames[i]["faces"]) {
      const cv::Rect box(face["x"].get<int>(), face["y"].get<int>(), face["width"].get<int>(),
                         face["height"].get<int>());
      cv::Mat band = cv::Mat::zeros(drawn.size(), CV_8U);
      cv::rectangle(band, box, cv::Scalar(255), 3);  // the 1-2 pixel line, with compression blur
      bands.push_back(band);
      cv::rectangle(anywhere_drawn, box - cv::Point(0, 40) + cv::Size(120, 40), cv::Scalar(255), cv::FILLED);
      cv::rectangle(anywhere_drawn, box, cv::Scalar(255), 8);
    }
    cv::Mat background;
    cv::bitwise_not(anywhere_drawn, background);
    const double noise = mean_difference(drawn, original, background);
    for (const cv::Mat& band : bands) {
      const double line = mean_difference(drawn, original, band);
      EXPECT_GT(line, 3.0 * noise + 4.0) << "frame " << i << ": no drawing on a logged box "
                                         << "(band " << line << ", elsewhere " << noise << ")";
      ++faces_checked;
    }
  }
  EXPECT_GE(decoded + 1, frames.size());
  EXPECT_GT(faces_checked, 30) << "the first 30 frames of the clip hold several faces each";
}

}  // namespace
}  // namespace faceqan::test
