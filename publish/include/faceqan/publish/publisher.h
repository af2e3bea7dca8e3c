// Publishes faceqan's results: each message gets its camera, a per-camera-and-topic sequence
// number (assigned before queueing, so that drops show as gaps), the wall-clock time, and goes to
// <topic>/<camera-id>/<kind> (docs/METADATA.md, "Publishing"). Two ways out: an MQTT broker
// (make_mqtt_publisher) and a JSON-lines file (make_file_publisher).
//
// publish() never waits for the network: it queues and returns. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "faceqan/publish/message_queue.h"

namespace faceqan::publish {

// A setting that cannot work (an unparsable address, a missing file, refused credentials).
class PublishError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The publisher's own counters (in the stats messages as "publisher").
struct PublisherStats {
  std::uint64_t queued = 0;        // messages published (accepted into the queue)
  std::uint64_t sent = 0;          // handed to the broker connection (resends counted again)
  std::uint64_t acknowledged = 0;  // QoS 1: PUBACK received; QoS 0 and files: written
  std::uint64_t dropped = 0;       // dropped because the queue was full
  std::uint64_t dropped_frames = 0, dropped_tracks = 0, dropped_stats = 0;
  std::uint64_t reconnects = 0;    // connections made after the first one
  std::uint64_t pending = 0;       // queued or in flight now
  bool connected = false;
};

// Why a publisher gave up.
enum class PublishFailure {
  kRefused,  // the broker refused the connection (CONNACK 1, 2, 4 or 5: credentials, client id)
  kTls,      // the TLS handshake failed (certificate, CA, or plain MQTT to a TLS port)
  kGaveUp,   // max-connect-attempts failed attempts in a row
  kOther,    // a host name that does not resolve, out of memory
};

// What goes wrong while running, reported from the publisher's thread. A warning: the broker is
// unreachable or the connection was lost (it keeps retrying). An error: it gave up (refused
// credentials, a TLS failure, max-connect-attempts reached); nothing more is sent.
struct PublisherCallbacks {
  std::function<void(const std::string&)> on_warning;
  std::function<void(PublishFailure, const std::string&)> on_error;
  std::function<void(const std::string&)> on_connected;
};

class Publisher {
 public:
  explicit Publisher(std::string topic_prefix) : topic_prefix_(std::move(topic_prefix)) {}
  virtual ~Publisher() = default;
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Adds "camera_id", "sequence" and "wall_time" to `body` (first, in that order) and queues it
  // for <topic>/<camera>/<kind>.
  void publish(MessageKind kind, const std::string& camera, const nlohmann::ordered_json& body);

  // Waits until every queued message is acknowledged (true), or the timeout passes or the
  // publisher has failed (false).
  virtual bool flush(std::chrono::milliseconds timeout) = 0;
  // Stops sending; what is still queued is discarded. Idempotent; the destructor calls it.
  virtual void stop() = 0;
  virtual PublisherStats stats() const = 0;

  std::string topic(const std::string& camera, MessageKind kind) const;

 protected:
  virtual void enqueue(Message message) = 0;

 private:
  std::string topic_prefix_;
  std::mutex sequence_mutex_;
  std::map<std::string, std::uint64_t> sequences_;  // by topic
};

struct MqttSettings {
  std::string address = "127.0.0.1:1883";
  std::string topic = "faceqan";
  std::string client_id;     // empty: made from the host name and process id
  int qos = 1;               // 0 or 1
  unsigned max_connect_attempts = 0;  // consecutive failed attempts before giving up; 0: never
  double max_reconnect_interval = 10.0;  // seconds: the back-off's ceiling (it starts at 0.1 s)
  std::size_t max_queued = 10000;
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  std::string username, password_file;
  int keepalive = 30;  // seconds
};

// Checks the settings (address, files) and starts connecting in the background; a broker that is
// down is retried, not an error. Throws PublishError naming a setting that cannot work.
std::unique_ptr<Publisher> make_mqtt_publisher(const MqttSettings& settings,
                                               PublisherCallbacks callbacks);

// Writes each message as one line {"topic": ..., "message": {...}}; creates (truncates) the file.
// Throws PublishError if it cannot.
std::unique_ptr<Publisher> make_file_publisher(const std::string& path, const std::string& topic);

// The current time as RFC 3339 in UTC with milliseconds ("2026-12-06T03:20:52.123Z").
std::string rfc3339_now();

}  // namespace faceqan::publish
