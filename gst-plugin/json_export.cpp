#include "json_export.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace faceqan::gst {
namespace {

using nlohmann::ordered_json;

ordered_json timestamp_json(std::uint64_t timestamp) {
  return timestamp == UINT64_MAX ? ordered_json(nullptr) : ordered_json(timestamp);
}

ordered_json landmarks_json(const FaceLandmarks& landmarks) {
  ordered_json points = ordered_json::array();
  for (const cv::Point2f& p : landmarks) {
    points.push_back(p.x);
    points.push_back(p.y);
  }
  return points;
}

// The box in whole pixels clipped to the frame, as the region meta has it.
void put_pixel_box(ordered_json& object, const cv::Rect2f& box, int width, int height) {
  const cv::Rect pixels = pixel_box(box, width, height);
  object["x"] = pixels.x;
  object["y"] = pixels.y;
  object["w"] = pixels.width;
  object["h"] = pixels.height;
}

}  // namespace

void JsonLinesExport::open(const std::string& path) {
  close();
  out_.open(path, std::ios::out | std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot create " + path);
  path_ = path;
}

void JsonLinesExport::close() {
  if (out_.is_open()) out_.close();
}

void JsonLinesExport::write_line(const std::string& line) {
  out_ << line << '\n';
  // Flushed per line: a consumer tailing the file sees whole frames, and a crash loses nothing.
  out_.flush();
  if (!out_) throw std::runtime_error("cannot write to " + path_);
}

void JsonLinesExport::write_frame(std::uint64_t timestamp, int width, int height,
                                  const std::vector<FaceRecord>& faces,
                                  const std::vector<FaceResult>& results) {
  if (!out_.is_open() || faces.empty()) return;
  auto unit = [](double v) { return std::clamp(v, 0.0, 1.0); };
  ordered_json objects = ordered_json::array();
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const FaceRecord& face = faces[i];
    const FaceResult result = i < results.size() ? results[i] : FaceResult{};
    ordered_json object;
    put_pixel_box(object, face.box, width, height);
    object["id"] = face.track_id;
    object["roi_type"] = "face";
    object["detection"] = {
        {"bounding_box",
         {{"x_min", unit(face.box.x / width)},
          {"y_min", unit(face.box.y / height)},
          {"x_max", unit((face.box.x + face.box.width) / width)},
          {"y_max", unit((face.box.y + face.box.height) / height)}}},
        {"confidence", face.confidence},
        {"label", "face"},
        {"label_id", 0}};
    // A face whose track has no score yet has no quality fields (0 would read as the worst).
    ordered_json quality = ordered_json::object();
    if (result.has_quality) {
      quality = {{"quality", result.quality.quality},
                 {"mean_similarity", result.quality.mean_similarity},
                 {"std_similarity", result.quality.std_similarity},
                 {"symmetry", result.quality.symmetry}};
    }
    quality["scored"] = result.scored;
    quality["landmarks"] = landmarks_json(face.landmarks);
    object["faceqan"] = std::move(quality);
    if (result.quality_100) object["faceqan"]["quality_100"] = *result.quality_100;
    if (result.embedding_norm) object["faceqan"]["embedding_norm"] = *result.embedding_norm;
    objects.push_back(std::move(object));
  }
  ordered_json line;
  line["timestamp"] = timestamp_json(timestamp);
  line["resolution"] = {{"width", width}, {"height", height}};
  line["objects"] = std::move(objects);
  write_line(line.dump());
}

void JsonLinesExport::write_best(const BestFrame& best) {
  if (!out_.is_open()) return;
  const int width = best.frame_width, height = best.frame_height;
  ordered_json line;
  line["event"] = "best";
  line["id"] = best.track;
  line["person"] = best.person_id();
  line["person_best"] = best.person_best;
  line["quality"] = best.quality;
  if (best.quality_100) line["quality_100"] = *best.quality_100;
  if (best.embedding_norm) line["embedding_norm"] = *best.embedding_norm;
  line["timestamp"] = timestamp_json(best.timestamp);
  line["resolution"] = {{"width", width}, {"height", height}};
  put_pixel_box(line, best.box, width, height);
  line["landmarks"] = landmarks_json(best.landmarks);
  line["crop_location"] = best.crop_path.empty() ? ordered_json(nullptr) : ordered_json(best.crop_path);
  line["frame_location"] = best.frame_path.empty() ? ordered_json(nullptr) : ordered_json(best.frame_path);
  write_line(line.dump());
}

}  // namespace faceqan::gst
