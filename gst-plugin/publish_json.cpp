#include "publish_json.h"

#include <opencv2/imgcodecs.hpp>

#include <string>
#include <vector>

#include "face_meta.h"

namespace faceqan::gst {
namespace {

using nlohmann::ordered_json;

ordered_json value_json(const GValue* value) {
  const GType type = G_VALUE_TYPE(value);
  if (type == G_TYPE_BOOLEAN) return static_cast<bool>(g_value_get_boolean(value));
  if (type == G_TYPE_INT) return g_value_get_int(value);
  if (type == G_TYPE_UINT) return g_value_get_uint(value);
  if (type == G_TYPE_INT64) return g_value_get_int64(value);
  if (type == G_TYPE_UINT64) {
    const guint64 v = g_value_get_uint64(value);
    return v == GST_CLOCK_TIME_NONE ? ordered_json(nullptr) : ordered_json(v);
  }
  if (type == G_TYPE_FLOAT) return g_value_get_float(value);
  if (type == G_TYPE_DOUBLE) return g_value_get_double(value);
  if (type == G_TYPE_STRING) {
    const char* s = g_value_get_string(value);
    return s != nullptr ? ordered_json(s) : ordered_json(nullptr);
  }
  if (type == GST_TYPE_ARRAY || type == GST_TYPE_LIST) {
    ordered_json array = ordered_json::array();
    const guint n = type == GST_TYPE_ARRAY ? gst_value_array_get_size(value)
                                           : gst_value_list_get_size(value);
    for (guint i = 0; i < n; ++i) {
      array.push_back(value_json(type == GST_TYPE_ARRAY ? gst_value_array_get_value(value, i)
                                                        : gst_value_list_get_value(value, i)));
    }
    return array;
  }
  if (type == GST_TYPE_STRUCTURE) return structure_json(gst_value_get_structure(value));
  return nullptr;  // buffers and other types are not JSON
}

std::string underscored(const char* name) {
  std::string s = name;
  for (char& c : s) {
    if (c == '-') c = '_';
  }
  return s;
}

void copy_field(ordered_json& to, const char* name, const GstStructure* from, const char* field) {
  if (const GValue* value = gst_structure_get_value(from, field)) to[name] = value_json(value);
}

}  // namespace

ordered_json structure_json(const GstStructure* structure) {
  ordered_json object = ordered_json::object();
  if (structure == nullptr) return object;
  const int n = gst_structure_n_fields(structure);
  for (int i = 0; i < n; ++i) {
    const char* name = gst_structure_nth_field_name(structure, i);
    object[underscored(name)] = value_json(gst_structure_get_value(structure, name));
  }
  return object;
}

int count_faces(GstBuffer* buffer) {
  const GQuark face_type = g_quark_from_static_string(kFaceRoiType);
  int faces = 0;
  gpointer state = nullptr;
  while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
             buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    if (reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta)->roi_type == face_type) ++faces;
  }
  return faces;
}

ordered_json frame_body(GstBuffer* buffer, int width, int height) {
  const GQuark face_type = g_quark_from_static_string(kFaceRoiType);
  ordered_json objects = ordered_json::array();
  gpointer state = nullptr;
  while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
             buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta);
    if (roi->roi_type != face_type) continue;
    ordered_json object;
    object["x"] = roi->x;
    object["y"] = roi->y;
    object["w"] = roi->w;
    object["h"] = roi->h;
    const GstStructure* faceqan = gst_video_region_of_interest_meta_get_param(roi, "faceqan");
    guint track = 0;
    if (faceqan != nullptr) gst_structure_get_uint(faceqan, "track-id", &track);
    object["id"] = track;
    object["roi_type"] = "face";
    if (const GstStructure* d = gst_video_region_of_interest_meta_get_param(roi, "detection")) {
      ordered_json box;
      copy_field(box, "x_min", d, "x_min");
      copy_field(box, "y_min", d, "y_min");
      copy_field(box, "x_max", d, "x_max");
      copy_field(box, "y_max", d, "y_max");
      ordered_json detection;
      detection["bounding_box"] = std::move(box);
      copy_field(detection, "confidence", d, "confidence");
      copy_field(detection, "label", d, "label");
      copy_field(detection, "label_id", d, "label_id");
      object["detection"] = std::move(detection);
    }
    if (faceqan != nullptr) {
      // json-location's "faceqan" object: a face never scored has no quality fields at all.
      ordered_json q;
      copy_field(q, "quality", faceqan, "quality");
      copy_field(q, "mean_similarity", faceqan, "mean-similarity");
      copy_field(q, "std_similarity", faceqan, "std-similarity");
      copy_field(q, "symmetry", faceqan, "symmetry");
      copy_field(q, "scored", faceqan, "scored");
      copy_field(q, "landmarks", faceqan, "landmarks");
      copy_field(q, "quality_100", faceqan, "quality-100");
      copy_field(q, "embedding_norm", faceqan, "embedding-norm");
      object["faceqan"] = std::move(q);
    }
    objects.push_back(std::move(object));
  }
  ordered_json body;
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  body["timestamp"] = GST_CLOCK_TIME_IS_VALID(pts) ? ordered_json(pts) : ordered_json(nullptr);
  body["resolution"] = {{"width", width}, {"height", height}};
  body["objects"] = std::move(objects);
  return body;
}

ordered_json track_body(const GstStructure* track, bool with_crop) {
  ordered_json body;
  copy_field(body, "event", track, "event");
  copy_field(body, "track_id", track, "track-id");
  copy_field(body, "person_id", track, "person-id");
  copy_field(body, "quality", track, "quality");
  copy_field(body, "quality_100", track, "quality-100");
  copy_field(body, "embedding_norm", track, "embedding-norm");
  copy_field(body, "timestamp", track, "timestamp");
  copy_field(body, "reason", track, "reason");
  if (gst_structure_has_field(track, "width")) {
    ordered_json box;
    copy_field(box, "x", track, "x");
    copy_field(box, "y", track, "y");
    copy_field(box, "w", track, "width");
    copy_field(box, "h", track, "height");
    body["box"] = std::move(box);
  }
  copy_field(body, "embedding", track, "embedding");
  int width = 0, height = 0;
  const GValue* crop = gst_structure_get_value(track, "crop");
  if (with_crop && crop != nullptr && G_VALUE_HOLDS(crop, GST_TYPE_BUFFER) &&
      gst_structure_get_int(track, "crop-width", &width) &&
      gst_structure_get_int(track, "crop-height", &height)) {
    GstBuffer* pixels = gst_value_get_buffer(crop);
    GstMapInfo map;
    if (pixels != nullptr && gst_buffer_map(pixels, &map, GST_MAP_READ)) {
      if (map.size >= static_cast<gsize>(width) * height * 3) {
        const cv::Mat bgr(height, width, CV_8UC3, map.data);
        std::vector<unsigned char> jpeg;
        if (cv::imencode(".jpg", bgr, jpeg)) body["crop"] = base64(jpeg.data(), jpeg.size());
      }
      gst_buffer_unmap(pixels, &map);
    }
  }
  return body;
}

std::string base64(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < size; i += 3) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kDigits[v >> 18];
    out += kDigits[(v >> 12) & 63];
    out += kDigits[(v >> 6) & 63];
    out += kDigits[v & 63];
  }
  if (i < size) {
    const unsigned v = (data[i] << 16) | (i + 1 < size ? data[i + 1] << 8 : 0);
    out += kDigits[v >> 18];
    out += kDigits[(v >> 12) & 63];
    out += i + 1 < size ? kDigits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace faceqan::gst
