// The MQTT publisher against a real Mosquitto broker (started by each test on a free loopback
// port), and the file method.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "faceqan/publish/publisher.h"
#include "mqtt_test_support.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

using faceqan::publish::MessageKind;
using faceqan::publish::MqttSettings;
using faceqan::publish::PublishError;
using faceqan::publish::Publisher;
using faceqan::publish::PublisherCallbacks;
using namespace std::chrono_literals;

// What the publisher reported from its thread.
struct Reports {
  std::mutex mutex;
  std::vector<std::string> warnings, errors;
  std::vector<faceqan::publish::PublishFailure> kinds;
  PublisherCallbacks callbacks() {
    PublisherCallbacks c;
    c.on_warning = [this](const std::string& w) {
      std::lock_guard<std::mutex> lock(mutex);
      warnings.push_back(w);
    };
    c.on_error = [this](faceqan::publish::PublishFailure kind, const std::string& e) {
      std::lock_guard<std::mutex> lock(mutex);
      errors.push_back(e);
      kinds.push_back(kind);
    };
    return c;
  }
  std::string first_error() {
    std::lock_guard<std::mutex> lock(mutex);
    return errors.empty() ? "" : errors.front();
  }
  bool wait_error(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!first_error().empty()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

MqttSettings settings_for(const MosquittoBroker& broker) {
  MqttSettings s;
  s.address = broker.address();
  s.topic = "test";
  s.max_reconnect_interval = 0.5;
  return s;
}

nlohmann::ordered_json frame_body(int i) {
  return {{"timestamp", i * 33333333ull}, {"objects", nlohmann::json::array()}};
}

// Sequence numbers of the messages, in arrival order.
std::vector<std::uint64_t> sequences(const std::vector<ReceivedMessage>& messages) {
  std::vector<std::uint64_t> out;
  for (const auto& m : messages) out.push_back(m.body.value("sequence", 0ull));
  return out;
}

std::vector<std::uint64_t> one_to(std::uint64_t n) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = 1; i <= n; ++i) out.push_back(i);
  return out;
}

TEST(MqttPublisherTest, DeliversEveryMessageInOrderWithTheEnvelope) {
  MosquittoBroker broker(scratch_dir("publish_deliver"));
  ASSERT_TRUE(broker.start());
  TestSubscriber subscriber("faceqan-test-deliver", broker.port(), "test/#");
  ASSERT_TRUE(subscriber.wait_subscribed(5s));
  Reports reports;
  auto publisher = faceqan::publish::make_mqtt_publisher(settings_for(broker), reports.callbacks());
  for (int i = 0; i < 300; ++i) {
    publisher->publish(MessageKind::kFrames, "cam1", frame_body(i));
    if (i % 50 == 0) publisher->publish(MessageKind::kTracks, "cam1", {{"event", "new"}});
  }
  publisher->publish(MessageKind::kFrames, "cam2", frame_body(0));
  ASSERT_TRUE(publisher->flush(10s)) << reports.first_error();
  ASSERT_TRUE(subscriber.wait_until([](const auto& m) { return m.size() >= 307; }, 10s));
  const auto all = subscriber.messages();
  std::vector<ReceivedMessage> cam1_frames;
  for (const auto& m : all) {
    if (m.topic == "test/cam1/frames") cam1_frames.push_back(m);
  }
  EXPECT_EQ(sequences(cam1_frames), one_to(300));  // in order, none twice (no reconnect here)
  const auto tracks = unique_of_kind(all, "tracks");
  EXPECT_EQ(sequences(tracks), one_to(6));
  const auto& first = cam1_frames.front().body;
  EXPECT_EQ(first["camera_id"], "cam1");
  EXPECT_EQ(first["timestamp"], 0);
  ASSERT_TRUE(first["wall_time"].is_string());
  EXPECT_EQ(first["wall_time"].get<std::string>().size(), 24u);  // 2026-12-06T03:20:52.123Z
  EXPECT_EQ(first["wall_time"].get<std::string>().back(), 'Z');
  const auto stats = publisher->stats();
  EXPECT_EQ(stats.queued, 307u);
  EXPECT_EQ(stats.acknowledged, 307u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_TRUE(stats.connected);
  EXPECT_TRUE(reports.warnings.empty());
}

TEST(MqttPublisherTest, BrokerDownAtStartIsAWarningAndARetry) {
  MosquittoBroker broker(scratch_dir("publish_down_at_start"));
  Reports reports;
  auto publisher = faceqan::publish::make_mqtt_publisher(settings_for(broker), reports.callbacks());
  for (int i = 0; i < 20; ++i) publisher->publish(MessageKind::kFrames, "cam", frame_body(i));
  EXPECT_FALSE(publisher->flush(300ms));
  {
    std::lock_guard<std::mutex> lock(reports.mutex);
    ASSERT_FALSE(reports.warnings.empty());
    EXPECT_NE(reports.warnings.front().find("cannot connect to the MQTT broker at " +
                                            broker.address()),
              std::string::npos)
        << reports.warnings.front();
  }
  ASSERT_TRUE(broker.start());
  // Nobody is subscribed yet: the broker acknowledges and keeps nothing, which is enough here.
  EXPECT_TRUE(publisher->flush(10s));
  EXPECT_EQ(publisher->stats().acknowledged, 20u);
  EXPECT_TRUE(reports.first_error().empty()) << reports.first_error();
}

// The broker stops mid-stream and comes back: every message published meanwhile arrives (QoS 1,
// at least once: a message whose PUBACK was lost arrives twice; duplicates are removed by
// sequence number), and publish() never waited.
TEST(MqttPublisherTest, NothingLostAcrossABrokerRestart) {
  MosquittoBroker broker(scratch_dir("publish_restart"));
  ASSERT_TRUE(broker.start());
  {
    TestSubscriber subscriber("faceqan-test-restart", broker.port(), "test/#");
    ASSERT_TRUE(subscriber.wait_subscribed(5s));
  }  // the session (clean_session=false) keeps the subscription and queues for it
  TestSubscriber subscriber("faceqan-test-restart", broker.port(), "test/#");
  ASSERT_TRUE(subscriber.wait_subscribed(5s));
  Reports reports;
  auto publisher = faceqan::publish::make_mqtt_publisher(settings_for(broker), reports.callbacks());
  constexpr int kMessages = 150;
  std::chrono::nanoseconds longest_publish{0};
  for (int i = 0; i < kMessages; ++i) {
    if (i == 50) broker.stop();
    if (i == 110) ASSERT_TRUE(broker.start());
    const auto before = std::chrono::steady_clock::now();
    publisher->publish(MessageKind::kFrames, "cam", frame_body(i));
    longest_publish = std::max(longest_publish, std::chrono::steady_clock::now() - before);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(publisher->flush(15s)) << reports.first_error();
  ASSERT_TRUE(subscriber.wait_until(
      [](const auto& m) { return unique_of_kind(m, "frames").size() >= kMessages; }, 15s))
      << "received " << unique_of_kind(subscriber.messages(), "frames").size();
  EXPECT_EQ(sequences(unique_of_kind(subscriber.messages(), "frames")), one_to(kMessages));
  const auto stats = publisher->stats();
  EXPECT_GE(stats.reconnects, 1u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.acknowledged, kMessages);
  EXPECT_LT(longest_publish, 500ms);  // publish() waiting for the outage would take seconds
  std::printf("restart: %d published, %zu received (%zu with duplicates), %llu reconnects, "
              "longest publish() %.3f ms\n",
              kMessages, unique_of_kind(subscriber.messages(), "frames").size(),
              subscriber.messages().size(), static_cast<unsigned long long>(stats.reconnects),
              std::chrono::duration<double, std::milli>(longest_publish).count());
}

TEST(MqttPublisherTest, OverflowDropsOldestFramesAndCountsThem) {
  MosquittoBroker broker(scratch_dir("publish_overflow"));
  ASSERT_TRUE(broker.start());
  // The subscriber's session exists before the outage, so the broker keeps what comes for it.
  TestSubscriber subscriber("faceqan-test-overflow", broker.port(), "test/#");
  ASSERT_TRUE(subscriber.wait_subscribed(5s));
  broker.stop();
  Reports reports;
  MqttSettings s = settings_for(broker);
  s.max_queued = 10;
  auto publisher = faceqan::publish::make_mqtt_publisher(s, reports.callbacks());
  publisher->publish(MessageKind::kTracks, "cam", {{"event", "new"}});
  for (int i = 1; i <= 25; ++i) publisher->publish(MessageKind::kFrames, "cam", frame_body(i));
  publisher->publish(MessageKind::kTracks, "cam", {{"event", "end"}});
  const auto stats = publisher->stats();
  EXPECT_EQ(stats.queued, 27u);
  EXPECT_EQ(stats.dropped, 17u);
  EXPECT_EQ(stats.dropped_frames, 17u);
  EXPECT_EQ(stats.dropped_tracks, 0u);
  EXPECT_EQ(stats.pending, 10u);

  ASSERT_TRUE(broker.start());
  ASSERT_TRUE(publisher->flush(10s)) << reports.first_error();
  ASSERT_TRUE(subscriber.wait_until(
      [](const auto& m) {
        return unique_of_kind(m, "frames").size() >= 8 && unique_of_kind(m, "tracks").size() >= 2;
      },
      10s));
  // The oldest 17 frames went; both track events and the newest 8 frames arrived, the gap in the
  // sequence numbers showing the drop.
  EXPECT_EQ(sequences(unique_of_kind(subscriber.messages(), "frames")),
            (std::vector<std::uint64_t>{18, 19, 20, 21, 22, 23, 24, 25}));
  const auto tracks = unique_of_kind(subscriber.messages(), "tracks");
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[0].body["event"], "new");
  EXPECT_EQ(tracks[1].body["event"], "end");
  EXPECT_EQ(publisher->stats().dropped, 17u);
}

TEST(MqttPublisherTest, TlsWithPasswordAcceptsTheRightCredentialsAndRefusesWrongOnes) {
  const std::string dir = scratch_dir("publish_tls");
  const MosquittoBroker::Tls tls = make_test_certificates(dir);
  const std::string passwords = make_password_file(dir, "camera", "right horse battery");
  MosquittoBroker broker(dir + "/broker", passwords, tls);
  ASSERT_TRUE(broker.start());
  {
    std::ofstream(dir + "/right.txt") << "right horse battery\n";
    std::ofstream(dir + "/wrong.txt") << "wrong\n";
  }
  MqttSettings s = settings_for(broker);
  s.tls_ca_file = tls.ca_file;
  s.username = "camera";
  s.password_file = dir + "/right.txt";
  {
    Reports reports;
    auto publisher = faceqan::publish::make_mqtt_publisher(s, reports.callbacks());
    for (int i = 0; i < 10; ++i) publisher->publish(MessageKind::kFrames, "cam", frame_body(i));
    EXPECT_TRUE(publisher->flush(10s)) << reports.first_error() << "\n" << broker.log();
    EXPECT_EQ(publisher->stats().acknowledged, 10u);
  }
  {
    Reports reports;
    s.password_file = dir + "/wrong.txt";
    auto publisher = faceqan::publish::make_mqtt_publisher(s, reports.callbacks());
    publisher->publish(MessageKind::kFrames, "cam", frame_body(0));
    ASSERT_TRUE(reports.wait_error(10s));
    EXPECT_NE(reports.first_error().find("refused"), std::string::npos) << reports.first_error();
    EXPECT_NE(reports.first_error().find("CONNACK 5"), std::string::npos) << reports.first_error();
    EXPECT_EQ(reports.kinds.front(), faceqan::publish::PublishFailure::kRefused);
    EXPECT_FALSE(publisher->flush(100ms));
  }
  {
    Reports reports;
    MqttSettings anonymous = s;
    anonymous.username.clear();
    anonymous.password_file.clear();
    auto publisher = faceqan::publish::make_mqtt_publisher(anonymous, reports.callbacks());
    ASSERT_TRUE(reports.wait_error(10s));
    EXPECT_NE(reports.first_error().find("refused"), std::string::npos) << reports.first_error();
  }
  {
    // Plain MQTT to a TLS listener is not a broker that is down: it fails, not retried forever.
    Reports reports;
    MqttSettings plain = s;
    plain.tls_ca_file.clear();
    plain.password_file = dir + "/right.txt";
    plain.max_connect_attempts = 3;
    auto publisher = faceqan::publish::make_mqtt_publisher(plain, reports.callbacks());
    ASSERT_TRUE(reports.wait_error(15s));
    std::printf("plain MQTT to the TLS port: %s\n", reports.first_error().c_str());
  }
}

TEST(MqttPublisherTest, BadSettingsFailAtOnceNamingTheCause) {
  auto error_of = [](const MqttSettings& s) -> std::string {
    try {
      auto publisher = faceqan::publish::make_mqtt_publisher(s, {});
    } catch (const PublishError& e) {
      return e.what();
    }
    return "";
  };
  MqttSettings s;
  s.address = "127.0.0.1";
  EXPECT_NE(error_of(s).find("address \"127.0.0.1\""), std::string::npos) << error_of(s);
  s = MqttSettings{};
  s.tls_ca_file = "/nonexistent/ca.crt";
  EXPECT_NE(error_of(s).find("tls-ca-file \"/nonexistent/ca.crt\""), std::string::npos)
      << error_of(s);
  s = MqttSettings{};
  s.username = "u";
  s.password_file = "/nonexistent/password";
  EXPECT_NE(error_of(s).find("password-file \"/nonexistent/password\""), std::string::npos)
      << error_of(s);
  s = MqttSettings{};
  s.password_file = "/etc/hostname";
  EXPECT_NE(error_of(s).find("needs a username"), std::string::npos) << error_of(s);
  s = MqttSettings{};
  s.tls_ca_file = "/etc/hostname";
  s.tls_cert_file = "/etc/hostname";
  EXPECT_NE(error_of(s).find("tls-key-file"), std::string::npos) << error_of(s);
}

TEST(MqttPublisherTest, GivesUpAfterMaxConnectAttempts) {
  Reports reports;
  MqttSettings s;
  s.address = "127.0.0.1:" + std::to_string(free_loopback_port());
  s.max_connect_attempts = 3;
  s.max_reconnect_interval = 0.2;
  auto publisher = faceqan::publish::make_mqtt_publisher(s, reports.callbacks());
  ASSERT_TRUE(reports.wait_error(10s));
  EXPECT_NE(reports.first_error().find("after 3 attempts"), std::string::npos)
      << reports.first_error();
  EXPECT_EQ(reports.kinds.front(), faceqan::publish::PublishFailure::kGaveUp);
}

TEST(FilePublisherTest, WritesOneJsonObjectPerLineWithItsTopic) {
  const std::string path = scratch_dir("publish_file") + "/messages.jsonl";
  {
    auto publisher = faceqan::publish::make_file_publisher(path, "site");
    publisher->publish(MessageKind::kFrames, "door", frame_body(1));
    publisher->publish(MessageKind::kTracks, "door", {{"event", "new"}, {"track_id", 3}});
    EXPECT_TRUE(publisher->flush(1s));
    EXPECT_EQ(publisher->stats().acknowledged, 2u);
  }
  std::ifstream in(path);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["topic"], "site/door/frames");
  EXPECT_EQ(lines[0]["message"]["sequence"], 1);
  EXPECT_EQ(lines[0]["message"]["timestamp"], 33333333);
  EXPECT_EQ(lines[1]["topic"], "site/door/tracks");
  EXPECT_EQ(lines[1]["message"]["track_id"], 3);
  EXPECT_EQ(lines[1]["message"]["camera_id"], "door");
  EXPECT_THROW(faceqan::publish::make_file_publisher("/nonexistent/dir/x.jsonl", "t"),
               PublishError);
}

}  // namespace
}  // namespace faceqan::test

namespace faceqan::test {
namespace {

// `faceqan listen` with a fixed client id: a first run makes the session, a second one gets what
// was published in between, as JSON lines in the layout of method=file.
TEST(ListenCommandTest, PrintsWhatWasPublishedAsJsonLines) {
  MosquittoBroker broker(scratch_dir("publish_listen"));
  ASSERT_TRUE(broker.start());
  const std::string common = "listen --address " + broker.address() +
                             " --topic site --client-id faceqan-listen-test";
  CommandResult first = run_faceqan(common + " --timeout 0.5", "publish-listen-1");
  ASSERT_EQ(first.status, 0) << first.err;
  {
    MqttSettings s;
    s.address = broker.address();
    s.topic = "site";
    auto publisher = faceqan::publish::make_mqtt_publisher(s, {});
    publisher->publish(MessageKind::kFrames, "door", {{"timestamp", 5}});
    publisher->publish(MessageKind::kTracks, "door", {{"event", "new"}, {"track_id", 2}});
    ASSERT_TRUE(publisher->flush(5s));
  }
  CommandResult second = run_faceqan(common + " --count 2 --timeout 20", "publish-listen-2");
  ASSERT_EQ(second.status, 0) << second.err;
  std::istringstream out(second.out);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(out, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u) << second.out;
  EXPECT_EQ(lines[0]["topic"], "site/door/frames");
  EXPECT_EQ(lines[0]["message"]["timestamp"], 5);
  EXPECT_EQ(lines[1]["topic"], "site/door/tracks");
  EXPECT_EQ(lines[1]["message"]["event"], "new");

  CommandResult refused = run_faceqan("listen --address 127.0.0.1:" +
                                          std::to_string(free_loopback_port()) + " --timeout 2",
                                      "publish-listen-3");
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("cannot connect to the MQTT broker"), std::string::npos)
      << refused.err;
}

}  // namespace
}  // namespace faceqan::test
