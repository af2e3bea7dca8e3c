// One camera's pipeline, as a gst-launch description: logged at start-up exactly as built, so
// that an operator can run one camera by hand with gst-launch-1.0.
#pragma once

#include <string>

#include "config.h"

namespace faceqan::service {

struct CameraPipeline {
  std::string description;  // for gst_parse_launch
  bool live = false;        // rtsp, http(s), v4l2: paced by the source, EOS means it dropped
};

// Element names in every camera pipeline.
inline constexpr const char* kFaceqanName = "faceqan";
inline constexpr const char* kSinkName = "sink";

// `with_camera_id`: the installed faceqan has the camera-id property.
CameraPipeline build_camera_pipeline(const ServiceConfig& config, const CameraConfig& camera,
                                     bool with_camera_id);

// `pattern` with every %s replaced by `id` (%% and the element's own integer conversion stay).
std::string substitute_camera_id(const std::string& pattern, const std::string& id);

// A property value quoted for a gst-launch description.
std::string quote_value(const std::string& value);

}  // namespace faceqan::service
