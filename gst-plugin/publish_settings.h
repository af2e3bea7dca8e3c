// faceqanpublish's properties (installed and read in publish_settings.cpp).
#pragma once

#include <gst/gst.h>

#include <string>

#include "faceqan/publish/publisher.h"

namespace faceqan::gst {

enum class PublishMethod { kMqtt, kFile };
enum class PublishFrames { kAll, kWithFaces, kNone };

struct PublishSettings {
  PublishMethod method = PublishMethod::kMqtt;
  publish::MqttSettings mqtt;  // address, topic, client id, qos, retries, queue, TLS, credentials
  std::string file_path;
  PublishFrames frames = PublishFrames::kWithFaces;
  bool attach_crop = false;
  guint stats_interval = 10;     // seconds; 0: only at EOS
  guint flush_timeout = 5000;    // milliseconds
};

void install_publish_properties(GObjectClass* klass);
// Property access for the element's set/get_property (under its object lock).
bool set_publish_property(PublishSettings& s, guint id, const GValue* value);
bool get_publish_property(const PublishSettings& s, guint id, GValue* value);

}  // namespace faceqan::gst
