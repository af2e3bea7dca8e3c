// json-location: the JSON-lines export in gvametaconvert's layout. No pipeline, no models.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "faceqan/stream/best_frames.h"
#include "json_export.h"

namespace faceqan::gst {
namespace {

TEST(JsonLinesExport, WritesGvaMetaConvertLayout) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("faceqan-json-" + std::to_string(::getpid()));
  {
    JsonLinesExport out;
    out.open(path.string());
    FaceRecord face;
    face.box = cv::Rect2f(64, 36, 32, 36);
    face.confidence = 0.9f;
    face.track_id = 5;
    FaceResult result;
    result.quality.quality = 0.75;
    result.scored = result.has_quality = true;
    out.write_frame(40, 640, 360, {face}, {result});
    out.write_frame(80, 640, 360, {}, {});  // no faces: no line
    BestFrame best;
    best.track = 5;
    best.quality = 0.75;
    best.timestamp = 40;
    out.write_best(best);
  }
  std::ifstream in(path);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  const nlohmann::json& object = lines[0]["objects"].at(0);
  EXPECT_EQ(lines[0]["timestamp"], 40);
  EXPECT_EQ(lines[0]["resolution"]["width"], 640);
  EXPECT_EQ(object["id"], 5);
  EXPECT_EQ(object["x"], 64);
  EXPECT_EQ(object["w"], 32);
  EXPECT_EQ(object["roi_type"], "face");
  EXPECT_NEAR(object["detection"]["bounding_box"]["x_min"].get<double>(), 0.1, 1e-6);
  EXPECT_EQ(object["detection"]["label"], "face");
  EXPECT_EQ(object["faceqan"]["quality"], 0.75);
  EXPECT_EQ(object["faceqan"]["scored"], true);
  EXPECT_EQ(lines[1]["event"], "best");
  EXPECT_EQ(lines[1]["id"], 5);
  EXPECT_TRUE(lines[1]["crop_location"].is_null());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace faceqan::gst
