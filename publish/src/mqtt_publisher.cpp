// method=mqtt on libmosquitto. libmosquitto does not retry a failed first connect, drops QoS 0
// publishes while disconnected and queues QoS 1 ones without bound, so this keeps its own connect
// loop (exponential back-off) and its own bounded queue, hands messages to libmosquitto only while
// connected, and counts acknowledgements in on_publish.
//
// One thread (the worker) owns the mosquitto handle: it connects, hands messages over, runs
// libmosquitto's loop and gets its callbacks. A fresh handle per connection: what libmosquitto
// still held from a lost one is dropped, and the unacknowledged messages are sent again from this
// queue (QoS 1 is at-least-once: a message the broker got but whose PUBACK was lost arrives twice;
// consumers remove duplicates by sequence number).
#include <mosquitto.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "faceqan/publish/broker_address.h"
#include "faceqan/publish/publisher.h"
#include "mqtt_setup.h"

namespace faceqan::publish {
namespace {

using detail::check_connection;
using detail::CheckedConnection;
using detail::MosquittoLibrary;

using Clock = std::chrono::steady_clock;

// Messages handed to libmosquitto and not yet acknowledged, at most.
constexpr std::size_t kInFlightWindow = 100;
constexpr auto kConnackTimeout = std::chrono::seconds(10);
constexpr double kFirstRetrySeconds = 0.1;

class MqttPublisher : public Publisher {
 public:
  MqttPublisher(const MqttSettings& settings, PublisherCallbacks callbacks)
      : Publisher(settings.topic),
        settings_(settings),
        callbacks_(std::move(callbacks)),
        address_(parse_broker_address(settings.address)),
        queue_(settings.max_queued),
        library_(MosquittoLibrary::get()) {
    const CheckedConnection checked = check_connection(settings_);
    settings_.client_id = checked.client_id;
    password_ = checked.password;
    tls_ = checked.tls;
    worker_ = std::thread([this] { run(); });
  }

  ~MqttPublisher() override { stop(); }

  bool flush(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] {
      return failed_ || (queue_.empty() && in_flight_count_ == 0);
    }) && !failed_;
  }

  void stop() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) {
        if (!worker_.joinable()) return;
      }
      stopping_ = true;
    }
    changed_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  PublisherStats stats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    PublisherStats s = counters_;
    s.dropped_frames = queue_.dropped(MessageKind::kFrames);
    s.dropped_tracks = queue_.dropped(MessageKind::kTracks);
    s.dropped_stats = queue_.dropped(MessageKind::kStats);
    s.dropped = queue_.dropped_total();
    s.pending = queue_.size() + in_flight_count_;
    s.connected = connected_;
    return s;
  }

 protected:
  void enqueue(Message message) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++counters_.queued;
      queue_.push(std::move(message));
    }
    // The worker polls the queue between libmosquitto's loop turns (every few ms).
  }

 private:
  enum class Outcome { kConnected, kUnreachable, kFatal, kStopped };

  struct Handle {
    mosquitto* mosq = nullptr;
    ~Handle() {
      if (mosq != nullptr) mosquitto_destroy(mosq);
    }
  };

  std::string where() const { return address_.host + ":" + std::to_string(address_.port); }

  bool stopping() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
  }

  void fail(PublishFailure kind, const std::string& why) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      failed_ = true;
    }
    changed_.notify_all();
    if (callbacks_.on_error) callbacks_.on_error(kind, why);
  }

  void warn(const std::string& why) {
    if (callbacks_.on_warning) callbacks_.on_warning(why);
  }

  // The worker: connect, serve, and after a failure wait and try again.
  void run() {
    unsigned failures = 0;
    double retry = kFirstRetrySeconds;
    bool ever_connected = false;
    while (!stopping()) {
      Handle handle;
      std::string why;
      const Outcome outcome = connect(handle, why);
      if (outcome == Outcome::kStopped) break;
      if (outcome == Outcome::kFatal) {
        fail(fatal_kind_, why);
        break;
      }
      if (outcome == Outcome::kConnected) {
        failures = 0;
        retry = kFirstRetrySeconds;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (ever_connected) ++counters_.reconnects;
          connected_ = true;
        }
        if (callbacks_.on_connected) callbacks_.on_connected("connected to " + where());
        ever_connected = true;
        why = serve(handle);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          connected_ = false;
        }
        if (stopping()) break;
        warn("lost the connection to the MQTT broker at " + where() + " (" + why +
             "); reconnecting, keeping up to " + std::to_string(settings_.max_queued) +
             " messages meanwhile");
        continue;  // one immediate attempt, then the back-off
      }
      ++failures;
      if (settings_.max_connect_attempts > 0 && failures >= settings_.max_connect_attempts) {
        fail(PublishFailure::kGaveUp, "cannot connect to the MQTT broker at " + where() + " (" + why + ") after " +
             std::to_string(failures) + " attempts (max-connect-attempts)");
        break;
      }
      if (failures == 1) {
        warn("cannot connect to the MQTT broker at " + where() + " (" + why +
             "); retrying with back-off up to " + std::to_string(settings_.max_reconnect_interval) +
             " s");
      }
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait_for(lock, std::chrono::duration<double>(retry), [this] { return stopping_; });
      retry = std::min(retry * 2, std::max(settings_.max_reconnect_interval, kFirstRetrySeconds));
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      connected_ = false;
    }
    changed_.notify_all();
  }

  // One connection attempt, up to the CONNACK.
  Outcome connect(Handle& handle, std::string& why) {
    got_connack_ = false;
    connack_code_ = -1;
    disconnected_ = false;
    last_log_error_.clear();
    fatal_kind_ = PublishFailure::kOther;
    handle.mosq = mosquitto_new(settings_.client_id.c_str(), true, this);
    if (handle.mosq == nullptr) {
      why = std::string("mosquitto_new: ") + std::strerror(errno);
      return Outcome::kFatal;
    }
    mosquitto* mosq = handle.mosq;
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_max_inflight_messages_set(mosq, kInFlightWindow);
    mosquitto_connect_callback_set(mosq, [](mosquitto*, void* self, int code) {
      auto* p = static_cast<MqttPublisher*>(self);
      p->got_connack_ = true;
      p->connack_code_ = code;
    });
    mosquitto_disconnect_callback_set(mosq, [](mosquitto*, void* self, int) {
      static_cast<MqttPublisher*>(self)->disconnected_ = true;
    });
    mosquitto_publish_callback_set(mosq, [](mosquitto*, void* self, int mid) {
      static_cast<MqttPublisher*>(self)->acknowledged(mid);
    });
    mosquitto_log_callback_set(mosq, [](mosquitto*, void* self, int level, const char* text) {
      if (level == MOSQ_LOG_ERR && text != nullptr) {
        static_cast<MqttPublisher*>(self)->last_log_error_ = text;
      }
    });
    if (!settings_.username.empty()) {
      const int rc = mosquitto_username_pw_set(
          mosq, settings_.username.c_str(),
          settings_.password_file.empty() ? nullptr : password_.c_str());
      if (rc != MOSQ_ERR_SUCCESS) {
        why = std::string("username: ") + mosquitto_strerror(rc);
        return Outcome::kFatal;
      }
    }
    if (tls_) {
      const int rc = mosquitto_tls_set(
          mosq, settings_.tls_ca_file.c_str(), nullptr,
          settings_.tls_cert_file.empty() ? nullptr : settings_.tls_cert_file.c_str(),
          settings_.tls_key_file.empty() ? nullptr : settings_.tls_key_file.c_str(), nullptr);
      if (rc != MOSQ_ERR_SUCCESS) {
        why = std::string("TLS settings (tls-ca-file, tls-cert-file, tls-key-file): ") +
              mosquitto_strerror(rc);
        return Outcome::kFatal;
      }
    }
    int rc = mosquitto_connect_async(mosq, address_.host.c_str(), address_.port,
                                     settings_.keepalive);
    if (rc != MOSQ_ERR_SUCCESS) {
      why = error_text(rc);
      // A host name that does not resolve is a setting that cannot work.
      return rc == MOSQ_ERR_EAI ? Outcome::kFatal : Outcome::kUnreachable;
    }
    const auto deadline = Clock::now() + kConnackTimeout;
    while (!got_connack_) {
      if (stopping()) return Outcome::kStopped;
      rc = mosquitto_loop(mosq, 50, 1);
      if (got_connack_) break;
      if (rc == MOSQ_ERR_TLS) {
        fatal_kind_ = PublishFailure::kTls;
        why = "TLS handshake failed" + (last_log_error_.empty() ? "" : ": " + last_log_error_);
        return Outcome::kFatal;
      }
      if (rc != MOSQ_ERR_SUCCESS) {
        why = error_text(rc);
        return Outcome::kUnreachable;
      }
      if (disconnected_) {
        why = "the broker closed the connection";
        return Outcome::kUnreachable;
      }
      if (Clock::now() > deadline) {
        why = "no answer (CONNACK) within 10 s";
        return Outcome::kUnreachable;
      }
    }
    if (connack_code_ == 0) return Outcome::kConnected;
    why = std::string("the broker refused the connection: ") +
          mosquitto_connack_string(connack_code_) + " (CONNACK " +
          std::to_string(connack_code_) + ")";
    // 3: server unavailable, worth a retry; 1, 2, 4, 5 (protocol, client id, credentials, not
    // authorised) will not change by themselves.
    fatal_kind_ = PublishFailure::kRefused;
    return connack_code_ == 3 ? Outcome::kUnreachable : Outcome::kFatal;
  }

  std::string error_text(int rc) const {
    if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
    std::string text = mosquitto_strerror(rc);
    if (!last_log_error_.empty()) text += ": " + last_log_error_;
    return text;
  }

  // Connected: hands queued messages over and runs the loop until the connection ends or the
  // publisher stops. Returns why it ended.
  std::string serve(Handle& handle) {
    mosquitto* mosq = handle.mosq;
    std::string why;
    while (true) {
      if (stopping()) {
        mosquitto_disconnect(mosq);
        mosquitto_loop(mosq, 10, 1);  // sends the DISCONNECT
        why = "stopped";
        break;
      }
      if (!hand_over(mosq, why)) break;
      const int rc = mosquitto_loop(mosq, 5, 1);
      if (rc != MOSQ_ERR_SUCCESS || disconnected_) {
        why = rc != MOSQ_ERR_SUCCESS ? error_text(rc) : "the broker closed the connection";
        break;
      }
    }
    // Whatever was not acknowledged goes back to the queue, to be sent on the next connection.
    std::vector<Message> unacknowledged;
    for (auto& [mid, message] : in_flight_) unacknowledged.push_back(std::move(message));
    in_flight_.clear();
    early_acks_.clear();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.put_back(std::move(unacknowledged));
      in_flight_count_ = 0;
    }
    changed_.notify_all();
    return why;
  }

  // Publishes queued messages while the window has room. False when the connection is gone.
  bool hand_over(mosquitto* mosq, std::string& why) {
    while (in_flight_.size() < kInFlightWindow) {
      std::optional<Message> message;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        message = queue_.pop();
        if (message) ++in_flight_count_;
      }
      if (!message) return true;
      int mid = 0;
      const int rc = mosquitto_publish(mosq, &mid, message->topic.c_str(),
                                       static_cast<int>(message->payload.size()),
                                       message->payload.data(), settings_.qos, false);
      if (rc != MOSQ_ERR_SUCCESS) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          std::vector<Message> back;
          back.push_back(std::move(*message));
          queue_.put_back(std::move(back));
          --in_flight_count_;
        }
        why = error_text(rc);
        return false;
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ++counters_.sent;
      }
      // QoS 0: libmosquitto may report it written (on_publish) before returning the mid.
      if (early_acks_.erase(mid) > 0) continue;
      in_flight_.emplace(mid, std::move(*message));
    }
    return true;
  }

  // on_publish, on the worker's thread (inside mosquitto_loop or mosquitto_publish).
  void acknowledged(int mid) {
    if (in_flight_.erase(mid) == 0) {
      early_acks_.insert(mid);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++counters_.acknowledged;
      --in_flight_count_;
    }
    changed_.notify_all();
  }

  MqttSettings settings_;
  PublisherCallbacks callbacks_;
  BrokerAddress address_;
  std::string password_;
  bool tls_ = false;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  MessageQueue queue_;
  std::size_t in_flight_count_ = 0;  // taken from the queue and not yet acknowledged
  PublisherStats counters_;
  bool connected_ = false;
  bool stopping_ = false;
  bool failed_ = false;

  // Worker only.
  std::map<int, Message> in_flight_;  // by message id
  std::set<int> early_acks_;
  bool got_connack_ = false;
  int connack_code_ = -1;
  bool disconnected_ = false;
  std::string last_log_error_;
  PublishFailure fatal_kind_ = PublishFailure::kOther;

  std::shared_ptr<MosquittoLibrary> library_;
  std::thread worker_;  // last: started when everything else exists
};

}  // namespace

std::unique_ptr<Publisher> make_mqtt_publisher(const MqttSettings& settings,
                                               PublisherCallbacks callbacks) {
  return std::make_unique<MqttPublisher>(settings, std::move(callbacks));
}

}  // namespace faceqan::publish
