#include "publish_settings.h"

namespace faceqan::gst {
namespace {

enum {
  PROP_0,
  PROP_METHOD,
  PROP_ADDRESS,
  PROP_TOPIC,
  PROP_CLIENT_ID,
  PROP_QOS,
  PROP_MAX_CONNECT_ATTEMPTS,
  PROP_MAX_RECONNECT_INTERVAL,
  PROP_FLUSH_TIMEOUT,
  PROP_FILE_PATH,
  PROP_STATS_INTERVAL,
  PROP_MAX_QUEUED,
  PROP_PUBLISH_FRAMES,
  PROP_ATTACH_CROP,
  PROP_TLS_CA_FILE,
  PROP_TLS_CERT_FILE,
  PROP_TLS_KEY_FILE,
  PROP_USERNAME,
  PROP_PASSWORD_FILE,
};

GType method_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(PublishMethod::kMqtt), "An MQTT broker (address)", "mqtt"},
      {static_cast<gint>(PublishMethod::kFile), "A JSON-lines file (file-path)", "file"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    g_once_init_leave(&type, g_enum_register_static("GstFaceQanPublishMethod", values));
  }
  return type;
}

GType frames_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(PublishFrames::kAll), "Every frame", "all"},
      {static_cast<gint>(PublishFrames::kWithFaces), "Frames with at least one face", "with-faces"},
      {static_cast<gint>(PublishFrames::kNone), "No frames messages (tracks and stats only)",
       "none"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    g_once_init_leave(&type, g_enum_register_static("GstFaceQanPublishFrames", values));
  }
  return type;
}

constexpr GParamFlags kFlags = static_cast<GParamFlags>(
    G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

void string_property(GObjectClass* klass, guint id, const char* name, const char* blurb,
                     const char* fallback) {
  g_object_class_install_property(klass, id,
                                  g_param_spec_string(name, name, blurb, fallback, kFlags));
}

void set_string(std::string& to, const GValue* value) {
  const char* s = g_value_get_string(value);
  to = s != nullptr ? s : "";
}

}  // namespace

void install_publish_properties(GObjectClass* klass) {
  g_object_class_install_property(
      klass, PROP_METHOD,
      g_param_spec_enum("method", "Method", "Where the messages go", method_type(),
                        static_cast<gint>(PublishMethod::kMqtt), kFlags));
  string_property(klass, PROP_ADDRESS, "address",
                  "The MQTT broker as host:port ([address]:port for IPv6)", "127.0.0.1:1883");
  string_property(klass, PROP_TOPIC, "topic",
                  "Topic prefix: messages go to <topic>/<camera-id>/frames, .../tracks and "
                  ".../stats",
                  "faceqan");
  string_property(klass, PROP_CLIENT_ID, "mqtt-client-id",
                  "MQTT client id (empty: faceqan-<host>-<pid>-<n>; two publishers must not share "
                  "one, the broker would disconnect the older)",
                  "");
  g_object_class_install_property(
      klass, PROP_QOS,
      g_param_spec_uint("qos", "QoS",
                        "MQTT quality of service: 1 = at least once (acknowledged, resent after a "
                        "reconnect; remove duplicates by sequence), 0 = at most once",
                        0, 1, 1, kFlags));
  g_object_class_install_property(
      klass, PROP_MAX_CONNECT_ATTEMPTS,
      g_param_spec_uint("max-connect-attempts", "Max connect attempts",
                        "Failed connection attempts in a row before the element fails with an "
                        "error (0: retry for ever; a broker that is down only warns)",
                        0, G_MAXUINT, 0, kFlags));
  g_object_class_install_property(
      klass, PROP_MAX_RECONNECT_INTERVAL,
      g_param_spec_uint("max-reconnect-interval", "Max reconnect interval",
                        "Seconds: the ceiling of the reconnection back-off (0.1 s, doubling)", 1,
                        3600, 10, kFlags));
  g_object_class_install_property(
      klass, PROP_FLUSH_TIMEOUT,
      g_param_spec_uint("flush-timeout", "Flush timeout",
                        "Milliseconds EOS and stopping wait for the queued messages to be "
                        "acknowledged before going on",
                        0, 3600000, 5000, kFlags));
  string_property(klass, PROP_FILE_PATH, "file-path",
                  "method=file: the JSON-lines file, one {\"topic\", \"message\"} object per line",
                  "");
  g_object_class_install_property(
      klass, PROP_STATS_INTERVAL,
      g_param_spec_uint("stats-interval", "Stats interval",
                        "Seconds between stats messages (0: only at EOS)", 0, 86400, 10, kFlags));
  g_object_class_install_property(
      klass, PROP_MAX_QUEUED,
      g_param_spec_uint("max-queued", "Max queued",
                        "Messages kept while the broker is unreachable; beyond it the oldest "
                        "frames messages are dropped first (never a track event while a frames "
                        "message is left) and counted in stats",
                        1, 10000000, 10000, kFlags));
  g_object_class_install_property(
      klass, PROP_PUBLISH_FRAMES,
      g_param_spec_enum("publish-frames", "Publish frames", "Which frames get a frames message",
                        frames_type(), static_cast<gint>(PublishFrames::kWithFaces), kFlags));
  g_object_class_install_property(
      klass, PROP_ATTACH_CROP,
      g_param_spec_boolean("attach-crop", "Attach crop",
                           "Put the track's best aligned crop in update and end events as a "
                           "base64 JPEG (\"crop\")",
                           FALSE, kFlags));
  string_property(klass, PROP_TLS_CA_FILE, "tls-ca-file",
                  "PEM file of the CA that signed the broker's certificate: connect with TLS",
                  "");
  string_property(klass, PROP_TLS_CERT_FILE, "tls-cert-file",
                  "PEM client certificate (with tls-key-file), for brokers that require one", "");
  string_property(klass, PROP_TLS_KEY_FILE, "tls-key-file", "PEM key of tls-cert-file", "");
  string_property(klass, PROP_USERNAME, "username", "MQTT user name", "");
  string_property(klass, PROP_PASSWORD_FILE, "password-file",
                  "File whose first line is the MQTT password (needs username); a password is "
                  "never given on the command line",
                  "");
}

bool set_publish_property(PublishSettings& s, guint id, const GValue* value) {
  switch (id) {
    case PROP_METHOD: s.method = static_cast<PublishMethod>(g_value_get_enum(value)); break;
    case PROP_ADDRESS: set_string(s.mqtt.address, value); break;
    case PROP_TOPIC: set_string(s.mqtt.topic, value); break;
    case PROP_CLIENT_ID: set_string(s.mqtt.client_id, value); break;
    case PROP_QOS: s.mqtt.qos = static_cast<int>(g_value_get_uint(value)); break;
    case PROP_MAX_CONNECT_ATTEMPTS: s.mqtt.max_connect_attempts = g_value_get_uint(value); break;
    case PROP_MAX_RECONNECT_INTERVAL:
      s.mqtt.max_reconnect_interval = g_value_get_uint(value);
      break;
    case PROP_FLUSH_TIMEOUT: s.flush_timeout = g_value_get_uint(value); break;
    case PROP_FILE_PATH: set_string(s.file_path, value); break;
    case PROP_STATS_INTERVAL: s.stats_interval = g_value_get_uint(value); break;
    case PROP_MAX_QUEUED: s.mqtt.max_queued = g_value_get_uint(value); break;
    case PROP_PUBLISH_FRAMES: s.frames = static_cast<PublishFrames>(g_value_get_enum(value)); break;
    case PROP_ATTACH_CROP: s.attach_crop = g_value_get_boolean(value); break;
    case PROP_TLS_CA_FILE: set_string(s.mqtt.tls_ca_file, value); break;
    case PROP_TLS_CERT_FILE: set_string(s.mqtt.tls_cert_file, value); break;
    case PROP_TLS_KEY_FILE: set_string(s.mqtt.tls_key_file, value); break;
    case PROP_USERNAME: set_string(s.mqtt.username, value); break;
    case PROP_PASSWORD_FILE: set_string(s.mqtt.password_file, value); break;
    default: return false;
  }
  return true;
}

bool get_publish_property(const PublishSettings& s, guint id, GValue* value) {
  switch (id) {
    case PROP_METHOD: g_value_set_enum(value, static_cast<gint>(s.method)); break;
    case PROP_ADDRESS: g_value_set_string(value, s.mqtt.address.c_str()); break;
    case PROP_TOPIC: g_value_set_string(value, s.mqtt.topic.c_str()); break;
    case PROP_CLIENT_ID: g_value_set_string(value, s.mqtt.client_id.c_str()); break;
    case PROP_QOS: g_value_set_uint(value, static_cast<guint>(s.mqtt.qos)); break;
    case PROP_MAX_CONNECT_ATTEMPTS: g_value_set_uint(value, s.mqtt.max_connect_attempts); break;
    case PROP_MAX_RECONNECT_INTERVAL:
      g_value_set_uint(value, static_cast<guint>(s.mqtt.max_reconnect_interval));
      break;
    case PROP_FLUSH_TIMEOUT: g_value_set_uint(value, s.flush_timeout); break;
    case PROP_FILE_PATH: g_value_set_string(value, s.file_path.c_str()); break;
    case PROP_STATS_INTERVAL: g_value_set_uint(value, s.stats_interval); break;
    case PROP_MAX_QUEUED: g_value_set_uint(value, static_cast<guint>(s.mqtt.max_queued)); break;
    case PROP_PUBLISH_FRAMES: g_value_set_enum(value, static_cast<gint>(s.frames)); break;
    case PROP_ATTACH_CROP: g_value_set_boolean(value, s.attach_crop); break;
    case PROP_TLS_CA_FILE: g_value_set_string(value, s.mqtt.tls_ca_file.c_str()); break;
    case PROP_TLS_CERT_FILE: g_value_set_string(value, s.mqtt.tls_cert_file.c_str()); break;
    case PROP_TLS_KEY_FILE: g_value_set_string(value, s.mqtt.tls_key_file.c_str()); break;
    case PROP_USERNAME: g_value_set_string(value, s.mqtt.username.c_str()); break;
    case PROP_PASSWORD_FILE: g_value_set_string(value, s.mqtt.password_file.c_str()); break;
    default: return false;
  }
  return true;
}

}  // namespace faceqan::gst
