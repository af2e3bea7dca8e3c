#include "stream_events.h"

namespace faceqan::gst {

GstEvent* make_camera_event(const std::string& camera_id) {
  return gst_event_new_custom(
      GST_EVENT_CUSTOM_DOWNSTREAM_STICKY,
      gst_structure_new(kCameraEvent, "camera-id", G_TYPE_STRING, camera_id.c_str(), nullptr));
}

GstEvent* make_stream_event(GstStructure* structure) {
  return gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, structure);
}

std::string camera_of(GstEvent* event) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_DOWNSTREAM_STICKY) return "";
  const GstStructure* s = gst_event_get_structure(event);
  if (s == nullptr || !gst_structure_has_name(s, kCameraEvent)) return "";
  const char* camera = gst_structure_get_string(s, "camera-id");
  return camera != nullptr ? camera : "";
}

}  // namespace faceqan::gst
