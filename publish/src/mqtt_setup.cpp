#include "mqtt_setup.h"

#include <mosquitto.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>

namespace faceqan::publish::detail {
namespace {

void require_readable(const std::string& setting, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw PublishError(setting + " \"" + path + "\": cannot read the file (" +
                       std::strerror(errno) + ")");
  }
}

std::string default_client_id() {
  char host[64] = "host";
  gethostname(host, sizeof host - 1);
  static std::atomic<unsigned> counter{0};
  return std::string("faceqan-") + host + "-" + std::to_string(getpid()) + "-" +
         std::to_string(counter++);
}

}  // namespace

std::shared_ptr<MosquittoLibrary> MosquittoLibrary::get() {
  static std::mutex mutex;
  static std::weak_ptr<MosquittoLibrary> current;
  std::lock_guard<std::mutex> lock(mutex);
  auto library = current.lock();
  if (!library) {
    library = std::shared_ptr<MosquittoLibrary>(new MosquittoLibrary);
    current = library;
  }
  return library;
}

MosquittoLibrary::MosquittoLibrary() { mosquitto_lib_init(); }
MosquittoLibrary::~MosquittoLibrary() { mosquitto_lib_cleanup(); }

std::string read_password(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw PublishError("password-file \"" + path + "\": cannot read the file (" +
                       std::strerror(errno) + ")");
  }
  std::string password;
  std::getline(in, password);  // the first line; its newline is not part of it
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

CheckedConnection check_connection(const MqttSettings& s) {
  CheckedConnection checked;
  if (s.qos != 0 && s.qos != 1) throw PublishError("qos must be 0 or 1");
  checked.client_id = s.client_id.empty() ? default_client_id() : s.client_id;
  if (!s.password_file.empty()) {
    if (s.username.empty()) throw PublishError("password-file needs a username");
    checked.password = read_password(s.password_file);
  }
  checked.tls = !s.tls_ca_file.empty() || !s.tls_cert_file.empty() || !s.tls_key_file.empty();
  if (checked.tls) {
    if (s.tls_ca_file.empty()) throw PublishError("TLS needs tls-ca-file");
    if (s.tls_cert_file.empty() != s.tls_key_file.empty()) {
      throw PublishError("tls-cert-file and tls-key-file go together");
    }
    require_readable("tls-ca-file", s.tls_ca_file);
    if (!s.tls_cert_file.empty()) {
      require_readable("tls-cert-file", s.tls_cert_file);
      require_readable("tls-key-file", s.tls_key_file);
    }
  }
  return checked;
}

}  // namespace faceqan::publish::detail
