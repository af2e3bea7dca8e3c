// Subscribes to a broker and hands each message over as it arrives: `faceqan listen` shows what
// faceqanpublish sends. QoS 1; with a client id, a persistent session (clean_session=false), so
// that a listener that comes back gets what was published while it was away.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "faceqan/publish/publisher.h"

namespace faceqan::publish {

struct ListenSettings {
  std::string address = "127.0.0.1:1883";
  std::string topic = "faceqan";  // listens to <topic>/#
  std::string filter;             // another subscription than <topic>/# (e.g. faceqan/+/tracks)
  std::string client_id;          // empty: a clean session under a made-up id
  std::string tls_ca_file, username, password_file;
  long count = 0;         // stop after this many messages (0: never)
  double timeout = 0;     // stop after this many seconds (0: never)
  // Set by another thread or a signal handler: return within about 0.1 s.
  const std::atomic<bool>* stop = nullptr;
  // Called once the broker has acknowledged the subscription (SUBACK), on every connection.
  std::function<void()> on_subscribed;
};

// Connects, subscribes and calls on_message(topic, payload) until count or timeout (returns the
// number of messages), or on_message returns false. Throws PublishError if the broker cannot be
// reached or refuses.
long listen(const ListenSettings& settings,
            const std::function<bool(const std::string&, const std::string&)>& on_message);

}  // namespace faceqan::publish
