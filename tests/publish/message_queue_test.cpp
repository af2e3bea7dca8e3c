// The publisher's queue and address parsing: no broker.
#include <gtest/gtest.h>

#include "faceqan/publish/broker_address.h"
#include "faceqan/publish/message_queue.h"
#include "faceqan/publish/publisher.h"

namespace faceqan::publish {
namespace {

Message make(MessageKind kind, const std::string& payload) {
  Message m;
  m.kind = kind;
  m.topic = std::string("t/cam/") + kind_name(kind);
  m.payload = payload;
  return m;
}

std::vector<std::string> drain(MessageQueue& queue) {
  std::vector<std::string> out;
  while (auto m = queue.pop()) out.push_back(m->payload);
  return out;
}

TEST(MessageQueueTest, KeepsOrderAcrossKinds) {
  MessageQueue queue(10);
  queue.push(make(MessageKind::kFrames, "f1"));
  queue.push(make(MessageKind::kTracks, "t1"));
  queue.push(make(MessageKind::kStats, "s1"));
  queue.push(make(MessageKind::kFrames, "f2"));
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"f1", "t1", "s1", "f2"}));
  EXPECT_EQ(queue.dropped_total(), 0u);
}

TEST(MessageQueueTest, DropsOldestFramesFirstAndTrackEventsLast) {
  MessageQueue queue(3);
  queue.push(make(MessageKind::kTracks, "t1"));
  queue.push(make(MessageKind::kFrames, "f1"));
  queue.push(make(MessageKind::kStats, "s1"));
  queue.push(make(MessageKind::kFrames, "f2"));  // drops f1
  queue.push(make(MessageKind::kTracks, "t2"));  // drops f2
  EXPECT_EQ(queue.dropped(MessageKind::kFrames), 2u);
  queue.push(make(MessageKind::kFrames, "f3"));  // the only frames message is the new one: it goes
  EXPECT_EQ(queue.dropped(MessageKind::kFrames), 3u);
  EXPECT_EQ(queue.dropped(MessageKind::kTracks), 0u);
  queue.push(make(MessageKind::kTracks, "t3"));  // no frames left: the stats message goes
  EXPECT_EQ(queue.dropped(MessageKind::kStats), 1u);
  queue.push(make(MessageKind::kTracks, "t4"));  // only track events: the oldest goes
  EXPECT_EQ(queue.dropped(MessageKind::kTracks), 1u);
  EXPECT_EQ(queue.dropped_total(), 5u);
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"t2", "t3", "t4"}));
}

TEST(MessageQueueTest, PutBackRestoresOrderAndBound) {
  MessageQueue queue(4);
  for (int i = 1; i <= 4; ++i) queue.push(make(MessageKind::kFrames, "f" + std::to_string(i)));
  std::vector<Message> taken;
  taken.push_back(*queue.pop());
  taken.push_back(*queue.pop());
  queue.push(make(MessageKind::kTracks, "t1"));
  queue.push(make(MessageKind::kFrames, "f5"));
  std::swap(taken[0], taken[1]);
  queue.put_back(std::move(taken));  // 6 messages for 4 places: f1 and f2 go again
  EXPECT_EQ(queue.dropped(MessageKind::kFrames), 2u);
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"f3", "f4", "t1", "f5"}));
}

TEST(BrokerAddressTest, ParsesHostAndPort) {
  EXPECT_EQ(parse_broker_address("127.0.0.1:1883").host, "127.0.0.1");
  EXPECT_EQ(parse_broker_address("127.0.0.1:1883").port, 1883);
  EXPECT_EQ(parse_broker_address("broker.local:8883").host, "broker.local");
  EXPECT_EQ(parse_broker_address("[::1]:1884").host, "::1");
  EXPECT_EQ(parse_broker_address("[::1]:1884").port, 1884);
}

TEST(BrokerAddressTest, RejectsWhatIsNotHostColonPort) {
  for (const char* bad : {"", "localhost", ":1883", "host:", "host:0", "host:65536", "host:12ab",
                          "::1:1883", "[::1]1883", "a b:1883", "host:-1"}) {
    try {
      parse_broker_address(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const PublishError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("address \"") + bad + "\""),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace faceqan::publish
