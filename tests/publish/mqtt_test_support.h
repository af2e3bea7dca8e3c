// Real MQTT parts for tests: a Mosquitto broker started as a child process on a free loopback
// port (never 1883), and a subscriber with a fixed client id, a persistent session
// (clean_session=false) and QoS 1, so that it loses nothing across a broker restart.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct mosquitto;

namespace faceqan::test {

class MosquittoBroker {
 public:
  struct Tls {
    std::string ca_file, cert_file, key_file;
  };
  // Writes DIR/mosquitto.conf for a free loopback port; persistence in DIR. With a password
  // file, anonymous clients are refused.
  explicit MosquittoBroker(std::string dir, std::string password_file = "", Tls tls = {});
  ~MosquittoBroker();
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  // Starts /usr/sbin/mosquitto -c DIR/mosquitto.conf and waits until the port accepts; a test
  // failure (with the broker's log) if it does not within 10 s.
  bool start();
  // SIGTERM by pid and wait (mosquitto saves its persistence file on the way out).
  void stop();
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const;

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A loopback TCP port nobody listens on now.
int free_loopback_port();

struct ReceivedMessage {
  std::string topic;
  nlohmann::json body;
};

class TestSubscriber {
 public:
  // Subscribes to `filter` at QoS 1 as `client_id` with a persistent session; reconnects by
  // itself after a broker restart.
  // With ca_file, over TLS; with user, with that user name and password.
  TestSubscriber(const std::string& client_id, int port, const std::string& filter,
                 const std::string& ca_file = "", const std::string& user = "",
                 const std::string& password = "");
  ~TestSubscriber();
  TestSubscriber(const TestSubscriber&) = delete;
  TestSubscriber& operator=(const TestSubscriber&) = delete;

  // Waits until the first SUBACK (true) or the timeout.
  bool wait_subscribed(std::chrono::milliseconds timeout);
  // Waits until `done(messages)` holds (true) or the timeout.
  bool wait_until(const std::function<bool(const std::vector<ReceivedMessage>&)>& done,
                  std::chrono::milliseconds timeout);
  std::vector<ReceivedMessage> messages() const;

 private:
  mosquitto* mosq_ = nullptr;
  std::string filter_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ReceivedMessage> messages_;
  bool subscribed_ = false;
};

// Messages on topics ending in "/<kind>", duplicates (same topic and sequence) removed, in
// arrival order.
std::vector<ReceivedMessage> unique_of_kind(const std::vector<ReceivedMessage>& all,
                                            const std::string& kind);

// Runs a shell command; its exit status.
int run_shell(const std::string& command);

// A test CA, a server certificate for 127.0.0.1 (subjectAltName=IP:127.0.0.1) and its key,
// made by openssl in `dir`; and a mosquitto password file with one user.
MosquittoBroker::Tls make_test_certificates(const std::string& dir);
std::string make_password_file(const std::string& dir, const std::string& user,
                               const std::string& password);

}  // namespace faceqan::test
