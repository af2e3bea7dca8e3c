// The publisher's bounded queue: messages wait here while the broker is unreachable. Beyond its
// capacity it drops the oldest frames message first, then the oldest stats message, and a track
// event only when nothing else is left: a consumer can miss a frame, but a missed "end" leaves a
// track open forever. Not thread-safe: the publisher locks around it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace faceqan::publish {

// What a message is about; the last part of its topic (<topic>/<camera-id>/<kind>).
enum class MessageKind { kFrames, kTracks, kStats };
inline constexpr int kMessageKinds = 3;
const char* kind_name(MessageKind kind);

struct Message {
  MessageKind kind = MessageKind::kFrames;
  std::string topic;
  std::string payload;  // the JSON text
  // Position in the order of publication (assigned by the queue): messages leave in this order.
  std::uint64_t order = 0;
};

class MessageQueue {
 public:
  explicit MessageQueue(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // Appends a message, then drops what is over the capacity.
  void push(Message message);
  // The oldest message, or nullopt when empty.
  std::optional<Message> pop();
  // Puts back messages taken by pop() but not delivered (a lost connection), in any order: they
  // go back to their places by `order`. Then drops what is over the capacity.
  void put_back(std::vector<Message> messages);

  std::size_t size() const;
  bool empty() const { return size() == 0; }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t dropped(MessageKind kind) const { return dropped_[static_cast<int>(kind)]; }
  std::uint64_t dropped_total() const;

 private:
  void trim();

  std::size_t capacity_;
  std::deque<Message> by_kind_[kMessageKinds];  // each in `order`
  std::uint64_t next_order_ = 0;
  std::uint64_t dropped_[kMessageKinds] = {0, 0, 0};
};

}  // namespace faceqan::publish
