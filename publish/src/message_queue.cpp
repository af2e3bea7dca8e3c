#include "faceqan/publish/message_queue.h"

#include <algorithm>

namespace faceqan::publish {

const char* kind_name(MessageKind kind) {
  switch (kind) {
    case MessageKind::kFrames: return "frames";
    case MessageKind::kTracks: return "tracks";
    case MessageKind::kStats: return "stats";
  }
  return "unknown";
}

void MessageQueue::push(Message message) {
  message.order = next_order_++;
  by_kind_[static_cast<int>(message.kind)].push_back(std::move(message));
  trim();
}

std::optional<Message> MessageQueue::pop() {
  std::deque<Message>* oldest = nullptr;
  for (auto& queue : by_kind_) {
    if (!queue.empty() && (oldest == nullptr || queue.front().order < oldest->front().order)) {
      oldest = &queue;
    }
  }
  if (oldest == nullptr) return std::nullopt;
  Message message = std::move(oldest->front());
  oldest->pop_front();
  return message;
}

void MessageQueue::put_back(std::vector<Message> messages) {
  // Taken ones are older than every queued one of their kind: newest first to the front.
  std::sort(messages.begin(), messages.end(),
            [](const Message& a, const Message& b) { return a.order > b.order; });
  for (Message& message : messages) {
    by_kind_[static_cast<int>(message.kind)].push_front(std::move(message));
  }
  trim();
}

std::size_t MessageQueue::size() const {
  std::size_t total = 0;
  for (const auto& queue : by_kind_) total += queue.size();
  return total;
}

std::uint64_t MessageQueue::dropped_total() const {
  return dropped_[0] + dropped_[1] + dropped_[2];
}

void MessageQueue::trim() {
  // Frames first, then stats, and track events last.
  static constexpr MessageKind kDropOrder[] = {MessageKind::kFrames, MessageKind::kStats,
                                               MessageKind::kTracks};
  while (size() > capacity_) {
    for (MessageKind kind : kDropOrder) {
      auto& queue = by_kind_[static_cast<int>(kind)];
      if (queue.empty()) continue;
      queue.pop_front();
      ++dropped_[static_cast<int>(kind)];
      break;
    }
  }
}

}  // namespace faceqan::publish
