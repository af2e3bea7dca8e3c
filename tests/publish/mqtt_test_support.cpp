#include "mqtt_test_support.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace faceqan::test {
namespace {

constexpr const char* kMosquitto = "/usr/sbin/mosquitto";

bool port_accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return ok;
}

}  // namespace

int free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

MosquittoBroker::MosquittoBroker(std::string dir, std::string password_file, Tls tls)
    : dir_(std::move(dir)), port_(free_loopback_port()) {
  std::filesystem::create_directories(dir_);
  std::ofstream conf(dir_ + "/mosquitto.conf");
  // Started as root, mosquitto drops to user "mosquitto", who cannot read the test folder.
  if (geteuid() == 0) conf << "user root\n";
  conf << "persistence true\npersistence_location " << dir_ << "/\n"
       << "log_dest file " << dir_ << "/mosquitto.log\nlog_type all\n"
       << "listener " << port_ << " 127.0.0.1\n";
  if (!tls.ca_file.empty()) {
    conf << "cafile " << tls.ca_file << "\ncertfile " << tls.cert_file << "\nkeyfile "
         << tls.key_file << "\n";
  }
  if (password_file.empty()) {
    conf << "allow_anonymous true\n";
  } else {
    conf << "allow_anonymous false\npassword_file " << password_file << "\n";
  }
}

MosquittoBroker::~MosquittoBroker() { stop(); }

std::string MosquittoBroker::log() const {
  std::ifstream in(dir_ + "/mosquitto.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool MosquittoBroker::start() {
  if (pid_ > 0) return true;
  if (access(kMosquitto, X_OK) != 0) {
    ADD_FAILURE() << kMosquitto << " is missing: install the Debian package mosquitto "
                  << "(scripts/install-deps.sh)";
    return false;
  }
  const std::string conf = dir_ + "/mosquitto.conf";
  pid_ = fork();
  if (pid_ == 0) {
    execl(kMosquitto, kMosquitto, "-c", conf.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "mosquitto exited at start (status " << status << "); its log:\n" << log();
      return false;
    }
    if (port_accepts(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "mosquitto did not accept on 127.0.0.1:" << port_ << " within 10 s; log:\n"
                << log();
  stop();
  return false;
}

void MosquittoBroker::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

TestSubscriber::TestSubscriber(const std::string& client_id, int port, const std::string& filter,
                               const std::string& ca_file, const std::string& user,
                               const std::string& password)
    : filter_(filter) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(client_id.c_str(), false, this);
  if (!ca_file.empty()) {
    EXPECT_EQ(mosquitto_tls_set(mosq_, ca_file.c_str(), nullptr, nullptr, nullptr, nullptr),
              MOSQ_ERR_SUCCESS);
  }
  if (!user.empty()) mosquitto_username_pw_set(mosq_, user.c_str(), password.c_str());
  mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
  mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int code) {
    if (code == 0) {
      auto* s = static_cast<TestSubscriber*>(self);
      mosquitto_subscribe(m, nullptr, s->filter_.c_str(), 1);
    }
  });
  mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) {
    auto* s = static_cast<TestSubscriber*>(self);
    std::lock_guard<std::mutex> lock(s->mutex_);
    s->subscribed_ = true;
    s->changed_.notify_all();
  });
  mosquitto_message_callback_set(
      mosq_, [](mosquitto*, void* self, const mosquitto_message* message) {
        auto* s = static_cast<TestSubscriber*>(self);
        ReceivedMessage received;
        received.topic = message->topic;
        received.body = nlohmann::json::parse(
            static_cast<const char*>(message->payload),
            static_cast<const char*>(message->payload) + message->payloadlen, nullptr, false);
        std::lock_guard<std::mutex> lock(s->mutex_);
        s->messages_.push_back(std::move(received));
        s->changed_.notify_all();
      });
  // Synchronous first connect (the broker is up); loop_start reconnects after that.
  EXPECT_EQ(mosquitto_connect(mosq_, "127.0.0.1", port, 30), MOSQ_ERR_SUCCESS)
      << "the test subscriber cannot connect to 127.0.0.1:" << port;
  mosquitto_loop_start(mosq_);
}

TestSubscriber::~TestSubscriber() {
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, true);
  mosquitto_destroy(mosq_);
  mosquitto_lib_cleanup();
}

bool TestSubscriber::wait_subscribed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return subscribed_; });
}

bool TestSubscriber::wait_until(
    const std::function<bool(const std::vector<ReceivedMessage>&)>& done,
    std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return done(messages_); });
}

std::vector<ReceivedMessage> TestSubscriber::messages() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_;
}

std::vector<ReceivedMessage> unique_of_kind(const std::vector<ReceivedMessage>& all,
                                            const std::string& kind) {
  std::vector<ReceivedMessage> unique;
  std::set<std::pair<std::string, std::uint64_t>> seen;
  const std::string suffix = "/" + kind;
  for (const ReceivedMessage& m : all) {
    if (m.topic.size() < suffix.size() ||
        m.topic.compare(m.topic.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    if (!m.body.is_object() || !m.body.contains("sequence")) {
      unique.push_back(m);  // malformed: kept so that the test sees it
      continue;
    }
    if (seen.insert({m.topic, m.body["sequence"].get<std::uint64_t>()}).second) {
      unique.push_back(m);
    }
  }
  return unique;
}

int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

MosquittoBroker::Tls make_test_certificates(const std::string& dir) {
  std::filesystem::create_directories(dir);
  {
    std::ofstream ext(dir + "/server.ext");
    ext << "subjectAltName=IP:127.0.0.1\n";
  }
  const std::string d = "'" + dir + "'";
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string commands =
      "cd " + d + " && openssl req -x509 " + ec + " -keyout ca.key -out ca.crt -days 2 " +
      "-subj '/CN=faceqan test CA' 2>openssl.log && openssl req " + ec +
      " -keyout server.key -out server.csr -subj '/CN=127.0.0.1' 2>>openssl.log && " +
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial " +
      "-out server.crt -days 2 -extfile server.ext 2>>openssl.log";
  EXPECT_EQ(run_shell(commands), 0) << "openssl could not make the test certificates in " << dir
                                    << " (openssl.log there)";
  return {dir + "/ca.crt", dir + "/server.crt", dir + "/server.key"};
}

std::string make_password_file(const std::string& dir, const std::string& user,
                               const std::string& password) {
  const std::string path = dir + "/passwords";
  std::filesystem::remove(path);
  EXPECT_EQ(run_shell("mosquitto_passwd -c -b '" + path + "' '" + user + "' '" + password +
                      "' >/dev/null 2>&1"),
            0)
      << "mosquitto_passwd failed (package mosquitto)";
  return path;
}

}  // namespace faceqan::test
