// `faceqan run` against real servers: an RTSP server (faceqan-rtsp-test-server, a looped clip)
// and a Mosquitto broker, both children of the test on free loopback ports. Two cameras on the
// server, one over TCP (rtspt://: the server's death is a warning and EOS) and one as rtsp://
// (UDP first: an error). The server is killed, stays away 5 s and comes back: both cameras
// reconnect and publish again, the tracks the outage cut end with reason "source-error", and
// SIGTERM ends the service with status 0 after every queued message was delivered.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "child_process.h"
#include "mqtt_test_support.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::size_t count_where(const std::vector<ReceivedMessage>& all, const std::string& topic,
                        const std::function<bool(const nlohmann::json&)>& match = nullptr) {
  std::size_t n = 0;
  for (const auto& m : all)
    if (m.topic == topic && (!match || match(m.body))) ++n;
  return n;
}

class RtspServer {
 public:
  RtspServer(std::string dir, int port, std::string clip)
      : dir_(std::move(dir)), port_(port), clip_(std::move(clip)) {}
  bool start() {
    process_.start({build_dir() + "/tests/faceqan-rtsp-test-server", "--port", std::to_string(port_),
                    "--clip", clip_, "--frames", "90", "--width", "640", "--height", "360"},
                   dir_ + "/rtsp-server.log");
    return wait_for_port(port_, 30s);
  }
  void kill() { process_.kill(); }
  void signal(int signal) { process_.signal(signal); }
  std::string url(const std::string& scheme) const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + "/clip";
  }

 private:
  std::string dir_;
  int port_;
  std::string clip_;
  ChildProcess process_;
};

TEST(ServiceRtspTest, CamerasReconnectAfterTheServerComesBackAndSigtermFlushes) {
  const std::string dir = scratch_dir("service-rtsp");
  const std::string clip = data_file("video/hamilton_clip.mp4");
  MosquittoBroker broker(dir + "/broker");
  ASSERT_TRUE(broker.start());
  TestSubscriber subscriber("service-rtsp-test", broker.port(), "faceqan/#");
  ASSERT_TRUE(subscriber.wait_subscribed(10s));

  RtspServer server(dir, free_loopback_port(), clip);
  ASSERT_TRUE(server.start()) << read_text(dir + "/rtsp-server.log");

  const std::string config = dir + "/cameras.yaml";
  std::ofstream(config) << "publish: {address: \"" << broker.address()
                        << "\", topic: faceqan, stats-interval: 1}\n"
                        << "element: {iterations: 1, samples: 2, threads: 1, detection-interval: 2}\n"
                        << "stats-interval: 1\nwatchdog: 4\n"
                        << "restart: {min-delay: 0.5, max-delay: 1}\n"
                        << "cameras:\n"
                        << "  - {id: tcp, uri: \"" << server.url("rtspt") << "\"}\n"
                        << "  - {id: udp, uri: \"" << server.url("rtsp") << "\"}\n";
  const std::string log = dir + "/faceqan-run.log";
  ChildProcess service;
  service.start({build_dir() + "/bin/faceqan", "run", config}, log);

  const std::vector<std::string> cameras{"tcp", "udp"};
  auto new_track = [](const nlohmann::json& b) { return b.value("event", "") == "new"; };
  // Both cameras publish frames with faces, and tracks are open (faceqan's best-frames).
  const bool publishing = subscriber.wait_until(
      [&](const std::vector<ReceivedMessage>& all) {
        for (const auto& id : cameras)
          if (count_where(all, "faceqan/" + id + "/frames") < 5) return false;
        return true;
      },
      120s);
  ASSERT_TRUE(publishing) << "the cameras did not publish frames; log:\n" << read_text(log);
  std::this_thread::sleep_for(2s);
  for (const auto& id : cameras)
    EXPECT_GE(count_where(subscriber.messages(), "faceqan/" + id + "/tracks", new_track), 1u)
        << id << ": no track event before the outage";

  // The outage: the server dies, stays away 5 s, comes back on the same port.
  const std::size_t before = subscriber.messages().size();
  server.kill();
  const auto killed = Clock::now();
  std::this_thread::sleep_for(5s);
  ASSERT_TRUE(server.start()) << read_text(dir + "/rtsp-server.log");
  const auto restarted = Clock::now();
  const std::size_t at_restart = subscriber.messages().size();

  auto received_after = [&](std::size_t index, const std::vector<ReceivedMessage>& all,
                            const std::string& topic,
                            const std::function<bool(const nlohmann::json&)>& match) {
    const std::vector<ReceivedMessage> later(all.begin() + static_cast<long>(index), all.end());
    return count_where(later, topic, match);
  };
  auto after_outage = [&](const std::vector<ReceivedMessage>& all, const std::string& topic,
                          const std::function<bool(const nlohmann::json&)>& match) {
    return received_after(before, all, topic, match);
  };
  auto cut_by_outage = [](const nlohmann::json& b) {
    return b.value("event", "") == "end" && b.value("reason", "") == "source-error";
  };
  // The service's log line when a camera's frames come again: the outage in seconds, or 0.
  auto log_says_back = [&](const std::string& id) {
    const std::string text = read_text(log);
    const std::regex again("camera " + id + ": frames again after ([0-9.]+) s without");
    std::smatch match;
    return std::regex_search(text, match, again) ? std::stod(match[1]) : 0.0;
  };
  const bool back = subscriber.wait_until(
      [&](const std::vector<ReceivedMessage>& all) {
        for (const auto& id : cameras)
          if (received_after(at_restart, all, "faceqan/" + id + "/frames", nullptr) < 5 ||
              log_says_back(id) == 0)
            return false;
        return true;
      },
      90s);
  const double back_s = std::chrono::duration<double>(Clock::now() - restarted).count();
  const std::string log_text = read_text(log);
  ASSERT_TRUE(back) << "the cameras did not publish frames again after the outage; log:\n"
                    << log_text;
  // The tracks the outage cut ended with reason source-error; new ones started afterwards.
  const bool tracks_ended = subscriber.wait_until(
      [&](const std::vector<ReceivedMessage>& all) {
        for (const auto& id : cameras)
          if (after_outage(all, "faceqan/" + id + "/tracks", cut_by_outage) < 1 ||
              after_outage(all, "faceqan/" + id + "/tracks", new_track) < 1)
            return false;
        return true;
      },
      20s);
  std::string track_counts;
  for (const auto& id : cameras) {
    const auto all = subscriber.messages();
    track_counts += "camera " + id + ": " +
                    std::to_string(after_outage(all, "faceqan/" + id + "/tracks", cut_by_outage)) +
                    " source-error ends, " +
                    std::to_string(after_outage(all, "faceqan/" + id + "/tracks", new_track)) +
                    " new tracks after the outage\n";
  }
  EXPECT_TRUE(tracks_ended) << "each camera needs an end event with reason source-error and a "
                               "new track after the outage\n"
                            << track_counts << "log:\n" << read_text(log);
  // The service saw each camera come back and says how long it was away.
  for (const auto& id : cameras) {
    const double outage_s = log_says_back(id);
    EXPECT_GE(outage_s, 4.5) << id;  // the server was away 5 s
    std::cout << "camera " << id << ": outage " << outage_s << " s (server away "
              << std::chrono::duration<double>(restarted - killed).count()
              << " s), all messages flowing again " << back_s << " s after the server came back\n";
  }
  // How each camera noticed (TCP: EOS, or the watchdog when rtspsrc stays silent; UDP: an
  // error), for the record.
  for (const auto& id : cameras) {
    const std::regex failure("camera " + id + ": (.*); restart 1 in");
    std::smatch match;
    if (std::regex_search(log_text, match, failure)) std::cout << "camera " << id << ": " << match[1] << '\n';
  }
  // The status lines come every stats-interval (1 s): the next one after the camera came back
  // counts the reconnect.
  bool counted = false;
  for (auto until = Clock::now() + 10s; !counted && Clock::now() < until;
       std::this_thread::sleep_for(200ms))
    counted = read_text(log).find("reconnects=1") != std::string::npos;
  EXPECT_TRUE(counted) << "status lines count it; log:\n" << read_text(log);
  // So do the cameras' stats messages ("source"), with the outage's length.
  const bool stats_count_it = subscriber.wait_until(
      [&](const std::vector<ReceivedMessage>& all) {
        for (const auto& id : cameras) {
          const auto counts_reconnect = [](const nlohmann::json& b) {
            return b.contains("source") && b["source"].value("reconnects", 0u) == 1u &&
                   b["source"].value("restarts", 0u) >= 1u &&
                   b["source"].value("outage_seconds", 0.0) >= 4.5;
          };
          if (received_after(at_restart, all, "faceqan/" + id + "/stats", counts_reconnect) < 1)
            return false;
        }
        return true;
      },
      10s);
  EXPECT_TRUE(stats_count_it) << "each camera's stats messages count its reconnect under \"source\"";

  // SIGTERM: EOS to both cameras, every queued message flushed, status 0.
  service.signal(SIGTERM);
  EXPECT_EQ(service.wait(60s), 0) << read_text(log);
  const std::string final_log = read_text(log);
  EXPECT_EQ(final_log.find("did not reach the end"), std::string::npos) << final_log;
  // Delivered: the last run of each camera published sequence numbers 1..N on each topic with
  // no gap, and its closing stats message (queued at EOS, after everything else) arrived.
  const bool flushed = subscriber.wait_until(
      [&](const std::vector<ReceivedMessage>& all) {
        for (const auto& id : cameras) {
          const std::string topic = "faceqan/" + id + "/stats";
          bool closing_stats = false;
          for (auto it = all.rbegin(); it != all.rend(); ++it)
            if (it->topic == topic) {
              closing_stats = it->body.value("publisher", nlohmann::json::object()).contains("pending");
              break;
            }
          if (!closing_stats) return false;
        }
        return true;
      },
      20s);
  EXPECT_TRUE(flushed);
  const auto all = subscriber.messages();
  for (const auto& id : cameras) {
    // The frames messages of the last run: from the last sequence 1 on (each run's faceqanpublish
    // counts from 1).
    std::vector<std::uint64_t> sequences;
    for (const auto& m : all) {
      if (m.topic != "faceqan/" + id + "/frames") continue;
      const auto sequence = m.body.value("sequence", std::uint64_t{0});
      if (sequence == 1) sequences.clear();
      sequences.push_back(sequence);
    }
    std::set<std::uint64_t> unique(sequences.begin(), sequences.end());
    ASSERT_FALSE(unique.empty()) << id;
    EXPECT_EQ(unique.size(), *unique.rbegin()) << id << ": a gap in the frames messages";
  }
  server.kill();
}

// A silent stall: the server is frozen (SIGSTOP), the TCP connection stays open and nothing
// arrives, so rtspsrc posts nothing; the no-data watchdog restarts the camera, and once the
// server runs again (SIGCONT) the camera is back. No broker: the pipeline ends in fakesink.
TEST(ServiceRtspTest, WatchdogRestartsASilentCamera) {
  const std::string dir = scratch_dir("service-watchdog");
  RtspServer server(dir, free_loopback_port(), data_file("video/hamilton_clip.mp4"));
  ASSERT_TRUE(server.start()) << read_text(dir + "/rtsp-server.log");
  const std::string config = dir + "/cameras.yaml";
  std::ofstream(config) << "element: {iterations: 1, samples: 2, threads: 1, detection-interval: 4}\n"
                        << "stats-interval: 1\nwatchdog: 2\nrestart: {min-delay: 0.5, max-delay: 1}\n"
                        << "cameras:\n  - {id: frozen, uri: \"" << server.url("rtspt") << "\"}\n";
  const std::string log = dir + "/faceqan-run.log";
  ChildProcess service;
  service.start({build_dir() + "/bin/faceqan", "run", config}, log);
  auto wait_for_log = [&](const std::string& text, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (read_text(log).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  ASSERT_TRUE(wait_for_log("camera frozen: running", 120s)) << read_text(log);
  server.signal(SIGSTOP);
  const bool noticed = wait_for_log("(watchdog); restart 1", 30s);
  std::this_thread::sleep_for(2s);
  server.signal(SIGCONT);
  EXPECT_TRUE(noticed) << read_text(log);
  EXPECT_TRUE(wait_for_log("camera frozen: frames again after", 60s)) << read_text(log);
  service.signal(SIGTERM);
  EXPECT_EQ(service.wait(60s), 0) << read_text(log);
  server.kill();
}

}  // namespace
}  // namespace faceqan::test
