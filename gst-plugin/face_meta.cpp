#include "face_meta.h"

#include <algorithm>
#include <cmath>

namespace faceqan::gst {
namespace {

// Number of values in the "landmarks" field: x1, y1, ..., x5, y5.
constexpr guint kLandmarkValues = 10;

double value_as_double(const GValue* value) {
  if (G_VALUE_HOLDS_DOUBLE(value)) return g_value_get_double(value);
  if (G_VALUE_HOLDS_FLOAT(value)) return g_value_get_float(value);
  if (G_VALUE_HOLDS_INT(value)) return g_value_get_int(value);
  if (G_VALUE_HOLDS_UINT(value)) return g_value_get_uint(value);
  return NAN;
}

// Landmarks from any parameter structure with a "landmarks" array of ten numbers.
std::optional<FaceLandmarks> landmarks_from_params(GstVideoRegionOfInterestMeta* meta) {
  for (GList* l = meta->params; l != nullptr; l = l->next) {
    const GValue* array = gst_structure_get_value(GST_STRUCTURE(l->data), "landmarks");
    if (array == nullptr || !GST_VALUE_HOLDS_ARRAY(array) ||
        gst_value_array_get_size(array) != kLandmarkValues) {
      continue;
    }
    FaceLandmarks points;
    bool valid = true;
    for (guint i = 0; i < points.size(); ++i) {
      const double x = value_as_double(gst_value_array_get_value(array, 2 * i));
      const double y = value_as_double(gst_value_array_get_value(array, 2 * i + 1));
      valid = valid && std::isfinite(x) && std::isfinite(y);
      points[i] = cv::Point2f(static_cast<float>(x), static_cast<float>(y));
    }
    if (valid) return points;
  }
  return std::nullopt;
}

void append_double(GValue* array, double number) {
  GValue value = G_VALUE_INIT;
  g_value_init(&value, G_TYPE_DOUBLE);
  g_value_set_double(&value, number);
  gst_value_array_append_and_take_value(array, &value);
}

GstStructure* detection_structure(const FaceRecord& face, const GstVideoInfo& info) {
  const double width = GST_VIDEO_INFO_WIDTH(&info);
  const double height = GST_VIDEO_INFO_HEIGHT(&info);
  auto unit = [](double v) { return std::clamp(v, 0.0, 1.0); };
  return gst_structure_new("detection",
                           "x_min", G_TYPE_DOUBLE, unit(face.box.x / width),
                           "y_min", G_TYPE_DOUBLE, unit(face.box.y / height),
                           "x_max", G_TYPE_DOUBLE, unit((face.box.x + face.box.width) / width),
                           "y_max", G_TYPE_DOUBLE, unit((face.box.y + face.box.height) / height),
                           "confidence", G_TYPE_DOUBLE, static_cast<double>(face.confidence),
                           "label_id", G_TYPE_INT, 0,
                           "label", G_TYPE_STRING, "face", nullptr);
}

GstStructure* faceqan_structure(const FaceRecord& face, const FaceResult& result,
                                bool with_embedding, const std::string& model_name) {
  // Unscored faces carry their track's latest score, flagged by scored=false. A face whose track
  // has no score yet has no quality fields at all: a 0 would read as the worst quality.
  // label, model_name and confidence (= the quality): the only fields DL Streamer's
  // gvametaconvert exports from a params structure (strings label and model_name, and
  // confidence), so that its consumers see the quality.
  const FaceQuality& q = result.quality;
  GstStructure* s = gst_structure_new("faceqan",
                                      "label", G_TYPE_STRING, kFaceRoiType,
                                      "model_name", G_TYPE_STRING, model_name.c_str(),
                                      "scored", G_TYPE_BOOLEAN, result.scored,
                                      "track-id", G_TYPE_UINT, face.track_id, nullptr);
  if (result.has_quality) {
    gst_structure_set(s, "quality", G_TYPE_DOUBLE, q.quality,
                      "mean-similarity", G_TYPE_DOUBLE, q.mean_similarity,
                      "std-similarity", G_TYPE_DOUBLE, q.std_similarity,
                      "symmetry", G_TYPE_DOUBLE, q.symmetry,
                      "confidence", G_TYPE_DOUBLE, q.quality, nullptr);
  }
  if (result.quality_100) gst_structure_set(s, "quality-100", G_TYPE_DOUBLE, *result.quality_100, nullptr);
  if (result.embedding_norm)
    gst_structure_set(s, "embedding-norm", G_TYPE_DOUBLE, *result.embedding_norm, nullptr);
  GValue landmarks = G_VALUE_INIT;
  gst_value_array_init(&landmarks, kLandmarkValues);
  for (const cv::Point2f& point : face.landmarks) {
    append_double(&landmarks, point.x);
    append_double(&landmarks, point.y);
  }
  gst_structure_take_value(s, "landmarks", &landmarks);
  if (with_embedding && result.scored) {
    GValue embedding = G_VALUE_INIT;
    gst_value_array_init(&embedding, static_cast<guint>(q.embedding.size()));
    for (float element : q.embedding) {
      GValue value = G_VALUE_INIT;
      g_value_init(&value, G_TYPE_FLOAT);
      g_value_set_float(&value, element);
      gst_value_array_append_and_take_value(&embedding, &value);
    }
    gst_structure_take_value(s, "embedding", &embedding);
  }
  return s;
}

// The buffer's index-th region-of-interest meta, in iteration order.
GstVideoRegionOfInterestMeta* nth_region_meta(GstBuffer* buffer, guint index) {
  gpointer state = nullptr;
  guint position = 0;
  while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
             buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    if (position++ == index) return reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta);
  }
  return nullptr;
}

}  // namespace

std::vector<FaceRecord> read_upstream_faces(GstBuffer* buffer) {
  std::vector<FaceRecord> faces;
  const GQuark face_type = g_quark_from_static_string(kFaceRoiType);
  gpointer state = nullptr;
  guint position = 0;
  while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
             buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta);
    const guint index = position++;
    if (roi->roi_type != face_type || roi->w == 0 || roi->h == 0) continue;
    FaceRecord face;
    face.box = cv::Rect2f(roi->x, roi->y, roi->w, roi->h);
    face.upstream_meta_index = index;
    double confidence = 1.0;
    if (GstStructure* detection = gst_video_region_of_interest_meta_get_param(roi, "detection")) {
      gst_structure_get_double(detection, "confidence", &confidence);
    }
    face.confidence = static_cast<float>(confidence);
    face.landmarks = landmarks_from_params(roi).value_or(landmarks_from_box(face.box));
    faces.push_back(face);
  }
  return faces;
}

void attach_face_metas(GstBuffer* buffer, const GstVideoInfo& info,
                       const std::vector<FaceRecord>& faces,
                       const std::vector<FaceResult>& results, bool with_embedding,
                       const std::string& model_name) {
  const int width = GST_VIDEO_INFO_WIDTH(&info);
  const int height = GST_VIDEO_INFO_HEIGHT(&info);
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const FaceRecord& face = faces[i];
    const FaceResult result = i < results.size() ? results[i] : FaceResult{};
    GstVideoRegionOfInterestMeta* roi = nullptr;
    if (face.upstream_meta_index) roi = nth_region_meta(buffer, *face.upstream_meta_index);
    if (roi == nullptr) {
      // The meta's box is in whole pixels inside the frame; the detector's may reach past it.
      const cv::Rect box = pixel_box(face.box, width, height);
      roi = gst_buffer_add_video_region_of_interest_meta(buffer, kFaceRoiType, box.x, box.y,
                                                         box.width, box.height);
    }
    if (gst_video_region_of_interest_meta_get_param(roi, "detection") == nullptr) {
      gst_video_region_of_interest_meta_add_param(roi, detection_structure(face, info));
    }
    gst_video_region_of_interest_meta_add_param(roi,
                                                faceqan_structure(face, result, with_embedding,
                                                                  model_name));
  }
}

GstStructure* frame_message_structure(GstBuffer* buffer, const GstVideoInfo& info,
                                      const GstSegment& segment,
                                      const std::vector<FaceRecord>& faces,
                                      const std::vector<FaceResult>& results) {
  const GstClockTime timestamp = GST_BUFFER_PTS(buffer);
  const int width = GST_VIDEO_INFO_WIDTH(&info), height = GST_VIDEO_INFO_HEIGHT(&info);
  GValue list = G_VALUE_INIT;
  g_value_init(&list, GST_TYPE_LIST);
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const FaceRecord& face = faces[i];
    const FaceResult result = i < results.size() ? results[i] : FaceResult{};
    // The region meta's box: a face cut by the frame's edge keeps its visible part (clamping
    // only x and y would shift the box and let it reach past the frame).
    const cv::Rect box = pixel_box(face.box, width, height);
    GValue entry = G_VALUE_INIT;
    g_value_init(&entry, GST_TYPE_STRUCTURE);
    GstStructure* s = gst_structure_new(
        "face",
        "x", G_TYPE_UINT, static_cast<guint>(box.x),
        "y", G_TYPE_UINT, static_cast<guint>(box.y),
        "width", G_TYPE_UINT, static_cast<guint>(box.width),
        "height", G_TYPE_UINT, static_cast<guint>(box.height),
        "confidence", G_TYPE_DOUBLE, static_cast<double>(face.confidence),
        "scored", G_TYPE_BOOLEAN, result.scored,
        "track-id", G_TYPE_UINT, face.track_id, nullptr);
    if (result.has_quality) {
      gst_structure_set(s, "quality", G_TYPE_DOUBLE, result.quality.quality, nullptr);
    }
    if (result.quality_100) gst_structure_set(s, "quality-100", G_TYPE_DOUBLE, *result.quality_100, nullptr);
    if (result.embedding_norm)
      gst_structure_set(s, "embedding-norm", G_TYPE_DOUBLE, *result.embedding_norm, nullptr);
    g_value_take_boxed(&entry, s);
    gst_value_list_append_and_take_value(&list, &entry);
  }
  GstStructure* message = gst_structure_new(
      "faceqan",
      "timestamp", G_TYPE_UINT64, timestamp,
      "stream-time", G_TYPE_UINT64, gst_segment_to_stream_time(&segment, GST_FORMAT_TIME, timestamp),
      "running-time", G_TYPE_UINT64, gst_segment_to_running_time(&segment, GST_FORMAT_TIME, timestamp),
      "duration", G_TYPE_UINT64, GST_BUFFER_DURATION(buffer), nullptr);
  gst_structure_take_value(message, "faces", &list);
  return message;
}

GstStructure* best_message_structure(const BestFrame& best) {
  GValue landmarks = G_VALUE_INIT;
  gst_value_array_init(&landmarks, kLandmarkValues);
  for (const cv::Point2f& point : best.landmarks) {
    append_double(&landmarks, point.x);
    append_double(&landmarks, point.y);
  }
  const cv::Rect box = pixel_box(best.box, best.frame_width, best.frame_height);
  GstStructure* s = gst_structure_new(
      "faceqan-best",
      "track-id", G_TYPE_UINT, best.track,
      "person-id", G_TYPE_UINT, best.person_id(),
      "person-best", G_TYPE_BOOLEAN, best.person_best,
      "quality", G_TYPE_DOUBLE, best.quality,
      "timestamp", G_TYPE_UINT64, static_cast<guint64>(best.timestamp),
      "x", G_TYPE_UINT, static_cast<guint>(box.x),
      "y", G_TYPE_UINT, static_cast<guint>(box.y),
      "width", G_TYPE_UINT, static_cast<guint>(box.width),
      "height", G_TYPE_UINT, static_cast<guint>(box.height),
      "crop-location", G_TYPE_STRING, best.crop_path.c_str(),
      "frame-location", G_TYPE_STRING, best.frame_path.c_str(), nullptr);
  gst_structure_take_value(s, "landmarks", &landmarks);
  if (best.quality_100) gst_structure_set(s, "quality-100", G_TYPE_DOUBLE, *best.quality_100, nullptr);
  if (best.embedding_norm)
    gst_structure_set(s, "embedding-norm", G_TYPE_DOUBLE, *best.embedding_norm, nullptr);
  return s;
}

}  // namespace faceqan::gst
