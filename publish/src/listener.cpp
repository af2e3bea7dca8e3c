#include "faceqan/publish/listener.h"

#include <mosquitto.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "faceqan/publish/broker_address.h"
#include "mqtt_setup.h"

namespace faceqan::publish {
namespace {

struct Session {
  const std::function<bool(const std::string&, const std::string&)>* on_message = nullptr;
  const std::function<void()>* on_subscribed = nullptr;
  long received = 0;
  long count = 0;
  bool stop = false;
  int connack = -1;
};

}  // namespace

long listen(const ListenSettings& settings,
            const std::function<bool(const std::string&, const std::string&)>& on_message) {
  const BrokerAddress address = parse_broker_address(settings.address);
  const std::string password =
      settings.password_file.empty() ? "" : detail::read_password(settings.password_file);
  mosquitto_lib_init();
  struct Cleanup {
    mosquitto* mosq = nullptr;
    ~Cleanup() {
      if (mosq != nullptr) mosquitto_destroy(mosq);
      mosquitto_lib_cleanup();
    }
  } cleanup;
  Session session;
  session.on_message = &on_message;
  session.on_subscribed = &settings.on_subscribed;
  session.count = settings.count;
  const bool persistent = !settings.client_id.empty();
  const std::string id =
      persistent ? settings.client_id : "faceqan-listen-" + std::to_string(getpid());
  mosquitto* mosq = cleanup.mosq = mosquitto_new(id.c_str(), !persistent, &session);
  if (mosq == nullptr) throw PublishError("cannot create an MQTT client");
  if (!settings.username.empty()) {
    mosquitto_username_pw_set(mosq, settings.username.c_str(),
                              settings.password_file.empty() ? nullptr : password.c_str());
  }
  if (!settings.tls_ca_file.empty() &&
      mosquitto_tls_set(mosq, settings.tls_ca_file.c_str(), nullptr, nullptr, nullptr, nullptr) !=
          MOSQ_ERR_SUCCESS) {
    throw PublishError("tls-ca-file \"" + settings.tls_ca_file + "\": cannot use it");
  }
  const std::string filter = settings.filter.empty() ? settings.topic + "/#" : settings.filter;
  mosquitto_connect_callback_set(mosq, [](mosquitto*, void* self, int code) {
    static_cast<Session*>(self)->connack = code;
  });
  mosquitto_subscribe_callback_set(mosq, [](mosquitto*, void* self, int, int, const int*) {
    auto* s = static_cast<Session*>(self);
    if (*s->on_subscribed) (*s->on_subscribed)();
  });
  mosquitto_message_callback_set(mosq, [](mosquitto*, void* self, const mosquitto_message* m) {
    auto* s = static_cast<Session*>(self);
    if (s->stop) return;
    const std::string payload(static_cast<const char*>(m->payload),
                              static_cast<std::size_t>(m->payloadlen));
    ++s->received;
    if (!(*s->on_message)(m->topic, payload) || (s->count > 0 && s->received >= s->count)) {
      s->stop = true;
    }
  });
  const int rc = mosquitto_connect(mosq, address.host.c_str(), address.port, 30);
  if (rc != MOSQ_ERR_SUCCESS) {
    throw PublishError("cannot connect to the MQTT broker at " + settings.address + ": " +
                       (rc == MOSQ_ERR_ERRNO ? std::string(strerror(errno)) : mosquitto_strerror(rc)));
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  bool subscribed = false;
  while (!session.stop && !(settings.stop != nullptr && settings.stop->load())) {
    if (settings.timeout > 0 &&
        std::chrono::duration<double>(Clock::now() - start).count() >= settings.timeout) {
      break;
    }
    const int loop = mosquitto_loop(mosq, 100, 1);
    if (session.connack > 0) {
      throw PublishError(std::string("the broker refused the connection: ") +
                         mosquitto_connack_string(session.connack));
    }
    if (session.connack == 0 && !subscribed) {
      mosquitto_subscribe(mosq, nullptr, filter.c_str(), 1);
      subscribed = true;
    }
    if (loop != MOSQ_ERR_SUCCESS) {
      throw PublishError("lost the connection to the MQTT broker at " + settings.address + ": " +
                         mosquitto_strerror(loop));
    }
  }
  // Acknowledgements of the last messages go out before leaving, so they are not sent again.
  mosquitto_loop(mosq, 50, 1);
  mosquitto_disconnect(mosq);
  mosquitto_loop(mosq, 50, 1);
  return session.received;
}

}  // namespace faceqan::publish
