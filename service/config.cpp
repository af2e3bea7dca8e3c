// Loading the camera list: yaml-cpp for the syntax, then every key checked against what the
// service knows and every element property against the element's own GObject properties.
#include "config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace faceqan::service {
namespace {

class Reader {
 public:
  Reader(std::string path, const PropertyChecker& properties)
      : path_(std::move(path)), properties_(properties) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                         const std::string& what) const {
    std::ostringstream message;
    message << path_ << ':' << node.Mark().line + 1 << ": ";
    if (!key.empty()) message << "key '" << key << "': ";
    message << what;
    throw ConfigError(message.str());
  }

  void expect_map(const YAML::Node& node, const std::string& key) const {
    if (!node.IsMap()) fail(node, key, "wrong type: expected a mapping of keys to values");
  }

  std::string scalar(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "wrong type: expected a single value");
    return node.Scalar();
  }

  double number(const YAML::Node& node, const std::string& key, double min) const {
    const std::string text = scalar(node, key);
    double value = 0;
    std::size_t used = 0;
    try {
      value = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() || !std::isfinite(value))
      fail(node, key, "wrong type: '" + text + "' is not a number");
    if (value < min) {
      std::ostringstream bound;
      bound << "must be at least " << min << ", got " << text;
      fail(node, key, bound.str());
    }
    return value;
  }

  bool boolean(const YAML::Node& node, const std::string& key) const {
    const std::string text = scalar(node, key);
    if (text == "true") return true;
    if (text == "false") return false;
    fail(node, key, "wrong type: '" + text + "' is not true or false");
  }

  // A mapping of element properties, each checked against `factory`'s GObject properties
  // (`prefix` + key: the `best` section's `location` is faceqan's `best-location`).
  void properties(const YAML::Node& node, const std::string& section, const std::string& factory,
                  const std::string& prefix, Properties& into) const {
    expect_map(node, section);
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      const std::string name = prefix + key;
      if (name == "camera-id")
        fail(entry.first, section + "." + key, "set by the service from the camera's id");
      const std::string value = scalar(entry.second, section + "." + key);
      const std::string problem = properties_.check(factory, name, value);
      if (!problem.empty()) fail(entry.first, section + "." + key, factory + ": " + problem);
      into[name] = value;
    }
  }

  CameraConfig camera(const YAML::Node& node) const {
    if (!node.IsMap()) fail(node, "cameras", "wrong type: each camera is a mapping with id and uri");
    CameraConfig camera;
    camera.line = node.Mark().line + 1;
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      const YAML::Node& value = entry.second;
      if (key == "id") {
        camera.id = scalar(value, key);
        if (!valid_camera_id(camera.id))
          fail(value, key, "invalid camera id '" + camera.id + "': use letters, digits, _ and -");
      } else if (key == "uri") {
        camera.uri = scalar(value, key);
        const auto scheme_end = camera.uri.find("://");
        static const std::set<std::string> schemes{"rtsp", "rtspt", "rtspu", "rtsps", "http",
                                                  "https", "file", "v4l2"};
        if (scheme_end == std::string::npos || !schemes.count(camera.uri.substr(0, scheme_end)))
          fail(value, key, "unsupported uri '" + camera.uri +
                               "': use rtsp:// (rtspt:// TCP only, rtspu:// UDP only), http(s)://, file:// or v4l2:///dev/videoN");
      } else if (key == "element") {
        properties(value, "element", "faceqan", "", camera.element);
      } else if (key == "publish") {
        properties(value, "publish", "faceqanpublish", "", camera.publish);
      } else if (key == "loop") {
        camera.loop = boolean(value, key);
      } else if (key == "realtime") {
        camera.realtime = boolean(value, key);
      } else {
        fail(entry.first, key, "unknown camera key (known: id, uri, element, publish, loop, realtime)");
      }
    }
    if (camera.id.empty()) fail(node, "id", "missing: every camera needs an id");
    if (camera.uri.empty()) fail(node, "uri", "missing: camera '" + camera.id + "' needs a uri");
    return camera;
  }

  ServiceConfig read(const YAML::Node& root) const {
    ServiceConfig config;
    config.path = path_;
    if (!root.IsMap()) fail(root, "", "a config file is a mapping with at least `cameras`");
    YAML::Node cameras;
    for (const auto& entry : root) {
      const std::string key = entry.first.Scalar();
      const YAML::Node& value = entry.second;
      if (key == "publish") {
        config.publish_enabled = true;
        properties(value, key, "faceqanpublish", "", config.publish);
      } else if (key == "element") {
        properties(value, key, "faceqan", "", config.element);
      } else if (key == "best") {
        properties(value, key, "faceqan", "best-", config.best);
      } else if (key == "stats-interval") {
        config.stats_interval_s = number(value, key, 0);
      } else if (key == "watchdog") {
        config.watchdog_s = number(value, key, 0.5);
      } else if (key == "stop-timeout") {
        config.stop_timeout_s = number(value, key, 1);
      } else if (key == "restart") {
        read_restart(value, config.restart);
      } else if (key == "cameras") {
        cameras = value;
      } else {
        fail(entry.first, key,
             "unknown key (known: publish, element, best, stats-interval, watchdog, stop-timeout, "
             "restart, cameras)");
      }
    }
    if (!cameras || !cameras.IsSequence() || cameras.size() == 0)
      fail(cameras ? cameras : root, "cameras", "missing or empty: list at least one camera");
    std::map<std::string, int> seen;
    for (const auto& node : cameras) {
      CameraConfig camera = this->camera(node);
      auto [where, inserted] = seen.emplace(camera.id, camera.line);
      if (!inserted)
        fail(node["id"], "id", "duplicate camera id '" + camera.id + "' (first on line " +
                                   std::to_string(where->second) + ")");
      config.cameras.push_back(std::move(camera));
    }
    auto location = config.best.find("best-location");
    if (location != config.best.end() && config.cameras.size() > 1 &&
        location->second.find("%s") == std::string::npos)
      fail(root["best"], "best.location",
           "several cameras would write the same files: put %s (the camera id) in it");
    return config;
  }

  void read_restart(const YAML::Node& node, RestartPolicy& restart) const {
    expect_map(node, "restart");
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      if (key == "min-delay") {
        restart.min_delay_s = number(entry.second, "restart." + key, 0.01);
      } else if (key == "max-delay") {
        restart.max_delay_s = number(entry.second, "restart." + key, 0.01);
      } else if (key == "reset-after") {
        restart.reset_after_s = number(entry.second, "restart." + key, 0);
      } else {
        fail(entry.first, "restart." + key, "unknown key (known: min-delay, max-delay, reset-after)");
      }
    }
    if (restart.max_delay_s < restart.min_delay_s)
      fail(node, "restart.max-delay", "must not be below restart.min-delay");
  }

 private:
  std::string path_;
  const PropertyChecker& properties_;
};

}  // namespace

bool valid_camera_id(const std::string& id) {
  if (id.empty()) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

ServiceConfig parse_config(const std::string& text, const std::string& path,
                           const PropertyChecker& properties) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& error) {
    throw ConfigError(path + ':' + std::to_string(error.mark.line + 1) + ": " + error.msg);
  }
  return Reader(path, properties).read(root);
}

ServiceConfig load_config(const std::string& path, const PropertyChecker& properties) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the config file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, properties);
}

}  // namespace faceqan::service
