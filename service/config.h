// The YAML camera list of `faceqan run` (docs/DEPLOYMENT.md): what it may contain, and its loading
// and checking. Everything wrong with a file is found here, before any camera starts: the error
// names the file, the line and the key.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace faceqan::service {

// A config file that cannot be used; what() reads "FILE:LINE: key 'KEY': what is wrong".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Element properties as the file gives them (GStreamer's string form: "true", "skip", "2"),
// in the file's order of keys being irrelevant: a map by property name.
using Properties = std::map<std::string, std::string>;

struct CameraConfig {
  std::string id;   // [A-Za-z0-9_-]+, unique: the faceqan camera-id and the MQTT topic level
  std::string uri;  // rtsp://, http(s)://, file:// or v4l2:///dev/videoN
  Properties element;  // faceqan properties for this camera only (over the file's `element`)
  Properties publish;  // faceqanpublish properties for this camera only (over `publish`)
  bool loop = false;   // file cameras: start again at the end instead of finishing
  // File cameras: paced at the clip's frame rate as a camera would be (true), or as fast as
  // faceqan goes (false). Ignored for live sources, which pace themselves.
  bool realtime = true;
  int line = 0;  // where the camera is in the file, for messages
};

struct RestartPolicy {
  double min_delay_s = 1.0;   // the first restart of a failed camera waits this long...
  double max_delay_s = 60.0;  // ...doubling up to this
  // A camera that delivered frames this long since its last start counts as recovered: its next
  // failure waits min_delay_s again.
  double reset_after_s = 30.0;
};

struct ServiceConfig {
  std::string path;
  bool publish_enabled = false;  // a `publish:` section is present: faceqanpublish ends each pipeline
  Properties publish;            // faceqanpublish properties for every camera
  Properties element;            // faceqan properties for every camera
  Properties best;               // best-* faceqan properties, `location` may hold `%s` (the camera id)
  double stats_interval_s = 10.0;  // one status line per camera this often; 0: none
  // No frame from a running camera for this long is a stall (a silent source posts nothing on
  // the bus): the camera is restarted as after an error.
  double watchdog_s = 10.0;
  // How long a camera's EOS may take to reach the end (faceqan finishing the frames it holds,
  // faceqanpublish flushing) before the pipeline is stopped without it; at least the publisher's
  // flush-timeout plus 5 s.
  double stop_timeout_s = 20.0;
  RestartPolicy restart;
  std::vector<CameraConfig> cameras;
};

// Checks an element property before anything starts: "" if `value` is a valid value of property
// `name` of element `factory`, otherwise why not ("no such property", "not a valid boolean" ...).
// Given so that the parser stays testable without GStreamer.
struct PropertyChecker {
  virtual ~PropertyChecker() = default;
  virtual std::string check(const std::string& factory, const std::string& name,
                            const std::string& value) const = 0;
};

// Reads and checks a config file; throws ConfigError.
ServiceConfig load_config(const std::string& path, const PropertyChecker& properties);
// The same from text (`path` only names it in messages).
ServiceConfig parse_config(const std::string& text, const std::string& path,
                           const PropertyChecker& properties);

// [A-Za-z0-9_-]+
bool valid_camera_id(const std::string& id);

}  // namespace faceqan::service
