#include "camera_pipeline.h"

namespace faceqan::service {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

std::string source_of(const CameraConfig& camera) {
  if (starts_with(camera.uri, "v4l2://"))
    return "v4l2src device=" + quote_value(camera.uri.substr(7)) + " ! decodebin";
  // uridecodebin picks rtspsrc, souphttpsrc or filesrc and the decoders; only its video pad is
  // linked (an audio track stays unlinked, which decodebin accepts while another stream is).
  return "uridecodebin uri=" + quote_value(camera.uri);
}

void append_properties(std::string& out, const Properties& properties) {
  for (const auto& [name, value] : properties) out += " " + name + "=" + quote_value(value);
}

}  // namespace

std::string substitute_camera_id(const std::string& pattern, const std::string& id) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size()) {
      if (pattern[i + 1] == 's') {
        out += id;
        ++i;
        continue;
      }
      if (pattern[i + 1] == '%') {
        out += "%%";
        ++i;
        continue;
      }
    }
    out += pattern[i];
  }
  return out;
}

std::string quote_value(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

CameraPipeline build_camera_pipeline(const ServiceConfig& config, const CameraConfig& camera,
                                     bool with_camera_id) {
  CameraPipeline pipeline;
  pipeline.live = !starts_with(camera.uri, "file://");

  // Later entries win: service defaults, then the file's element/best, then the camera's own.
  Properties faceqan;
  faceqan["shared-scorer"] = "true";  // faces of all cameras batched in one scorer
  // block would stall a live source (rtspsrc's jitter buffer overflows, v4l2 drops anyway)
  if (pipeline.live) faceqan["overload"] = "skip";
  if (config.stats_interval_s > 0)
    faceqan["stats-interval"] = std::to_string(static_cast<unsigned>(config.stats_interval_s + 0.5));
  if (config.publish_enabled || !config.best.empty()) faceqan["best-frames"] = "true";
  for (const auto& [name, value] : config.best)
    faceqan[name] = name == "best-location" ? substitute_camera_id(value, camera.id) : value;
  for (const auto& [name, value] : config.element) faceqan[name] = value;
  for (const auto& [name, value] : camera.element) faceqan[name] = value;
  if (with_camera_id) faceqan["camera-id"] = camera.id;

  std::string& d = pipeline.description;
  d = source_of(camera);
  // A live source must never wait for faceqan: a short leaky queue hands it off.
  if (pipeline.live) d += " ! queue max-size-buffers=4 max-size-time=0 max-size-bytes=0 leaky=downstream";
  d += " ! videoconvert ! faceqan name=" + std::string(kFaceqanName);
  append_properties(d, faceqan);
  if (config.publish_enabled) {
    Properties publish = config.publish;
    for (const auto& [name, value] : camera.publish) publish[name] = value;
    // Named after the camera: faceqanpublish's camera id when faceqan has no camera-id.
    d += " ! faceqanpublish name=" + quote_value(camera.id);
    append_properties(d, publish);
  }
  const bool sync = !pipeline.live && camera.realtime;
  d += " ! fakesink name=" + std::string(kSinkName) + " sync=" + (sync ? "true" : "false") +
       " async=false";
  return pipeline;
}

}  // namespace faceqan::service
