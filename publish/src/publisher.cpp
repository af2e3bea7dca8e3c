#include "faceqan/publish/publisher.h"

#include <ctime>

namespace faceqan::publish {

std::string rfc3339_now() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t seconds = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis));
  return text;
}

std::string Publisher::topic(const std::string& camera, MessageKind kind) const {
  return topic_prefix_ + "/" + camera + "/" + kind_name(kind);
}

void Publisher::publish(MessageKind kind, const std::string& camera,
                        const nlohmann::ordered_json& body) {
  Message message;
  message.kind = kind;
  message.topic = topic(camera, kind);
  nlohmann::ordered_json envelope;
  envelope["camera_id"] = camera;
  // Held until the message is queued: sequence numbers enter the queue in order.
  std::lock_guard<std::mutex> lock(sequence_mutex_);
  envelope["sequence"] = ++sequences_[message.topic];  // the first is 1
  envelope["wall_time"] = rfc3339_now();
  for (const auto& [key, value] : body.items()) {
    if (!envelope.contains(key)) envelope[key] = value;
  }
  message.payload = envelope.dump();
  enqueue(std::move(message));
}

}  // namespace faceqan::publish
