// What the MQTT publisher and the listener check and share before connecting. Private to
// publish/.
#pragma once

#include <memory>
#include <string>

#include "faceqan/publish/publisher.h"

namespace faceqan::publish::detail {

// mosquitto_lib_init/cleanup once per process, for as long as a client lives.
class MosquittoLibrary {
 public:
  static std::shared_ptr<MosquittoLibrary> get();
  ~MosquittoLibrary();

 private:
  MosquittoLibrary();
};

// The first line of a password file. Throws PublishError naming the file if it cannot be read.
std::string read_password(const std::string& path);

// The settings checked before any connection: the password read from its file, whether TLS is
// on (its files readable), the client id (made up when empty). Throws PublishError naming the
// setting that cannot work.
struct CheckedConnection {
  std::string client_id;
  std::string password;
  bool tls = false;
};
CheckedConnection check_connection(const MqttSettings& settings);

}  // namespace faceqan::publish::detail
