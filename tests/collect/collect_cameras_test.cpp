// `faceqan collect` with real parts: a clip of the identities/ photos (each person once, blank
// frames between people), built here as PNG frames, is played by two cameras (gst-launch-1.0:
// faceqan attach-embedding=true ! faceqanpublish attach-crop=true), the second started later, to a
// real Mosquitto. collect is stopped (SIGTERM) while the first camera plays and started again
// after the second has begun: its persistent session keeps what was published meanwhile.
// Afterwards: one person per identity shown, each seen by both cameras and with one crop, no two
// identities in one person, every end event counted; bad messages are counted and change nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <set>
#include <thread>

#include "child_process.h"
#include "mqtt_test_support.h"
#include "test_support.h"

namespace faceqan::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kWidth = 320, kHeight = 240;
constexpr int kFaceFrames = 2;   // frames each person is on screen
constexpr int kBlankFrames = 4;  // frames between people: more than track-max-missed=2
constexpr std::uint64_t kFrameNs = 100000000;  // 10 frames/s

struct Shown {
  std::string identity;
  int first = 0, last = 0;  // frame numbers
};

// The photo scaled to fit the frame, centred on black.
cv::Mat letterbox(const cv::Mat& photo) {
  const double scale = std::min(double(kWidth) / photo.cols, double(kHeight) / photo.rows);
  cv::Mat resized;
  cv::resize(photo, resized, cv::Size(), scale, scale, cv::INTER_AREA);
  cv::Mat frame = cv::Mat::zeros(kHeight, kWidth, CV_8UC3);
  resized.copyTo(frame(cv::Rect((kWidth - resized.cols) / 2, (kHeight - resized.rows) / 2,
                                resized.cols, resized.rows)));
  return frame;
}

// DIR/frame-%05d.png: blank frames, then each identity's first photo (sorted by name), each
// followed by blank frames. Returns who is on which frames, and the number of frames in `frames`.
std::vector<Shown> build_clip(const std::string& dir, int* frames) {
  std::vector<std::string> identities;
  for (const auto& entry : fs::directory_iterator(data_file("identities"))) {
    if (entry.is_directory()) identities.push_back(entry.path().string());
  }
  std::sort(identities.begin(), identities.end());
  const cv::Mat blank = cv::Mat::zeros(kHeight, kWidth, CV_8UC3);
  int n = 0;
  auto write = [&](const cv::Mat& frame) {
    char name[32];
    std::snprintf(name, sizeof name, "/frame-%05d.png", n++);
    EXPECT_TRUE(cv::imwrite(dir + name, frame));
  };
  std::vector<Shown> shown;
  for (int i = 0; i < kBlankFrames; ++i) write(blank);
  for (const std::string& folder : identities) {
    const std::vector<std::string> photos = list_images(folder);
    if (photos.empty()) continue;
    const cv::Mat photo = cv::imread(photos.front(), cv::IMREAD_COLOR);
    EXPECT_FALSE(photo.empty()) << photos.front();
    if (photo.empty()) continue;
    const cv::Mat frame = letterbox(photo);
    shown.push_back({fs::path(folder).filename().string(), n, n + kFaceFrames - 1});
    for (int i = 0; i < kFaceFrames; ++i) write(frame);
    for (int i = 0; i < kBlankFrames; ++i) write(blank);
  }
  *frames = n;
  return shown;
}

// gst-launch-1.0 quotes each argument as one word: the pipeline goes in word by word (the paths
// are the test's own, without spaces).
std::vector<std::string> camera_command(const std::string& clip, int frames,
                                        const std::string& camera, const std::string& broker) {
  const std::string pipeline =
      "multifilesrc location=" + clip + "/frame-%05d.png index=0 stop-index=" +
      std::to_string(frames - 1) +
      " caps=image/png,framerate=10/1 ! pngdec ! videoconvert ! video/x-raw,format=BGR ! "
      "faceqan camera-id=" + camera +
      " iterations=1 samples=2 threads=2 scoring=every-face best-frames=true "
      "attach-embedding=true track-max-missed=2 ! faceqanpublish address=" + broker +
      " attach-crop=true publish-frames=none ! fakesink sync=false";
  std::vector<std::string> argv = {"/usr/bin/gst-launch-1.0", "-e"};
  std::istringstream words(pipeline);
  for (std::string word; words >> word;) argv.push_back(word);
  return argv;
}

std::size_t count_lines_with(const std::string& path, const std::string& text) {
  std::size_t n = 0;
  std::istringstream in(read_text(path));
  for (std::string line; std::getline(in, line);) n += line.find(text) != std::string::npos;
  return n;
}

template <typename Condition>
bool wait_for(Condition condition, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

json read_index(const std::string& out) {
  const std::string text = read_text(out + "/index.json");
  return text.empty() ? json() : json::parse(text, nullptr, false);
}

TEST(CollectCamerasTest, OnePersonPerIdentityAcrossTwoCamerasAndARestart) {
  const std::string dir = scratch_dir("collect-cameras");
  const std::string clip = dir + "/clip", out = dir + "/enrolled";
  fs::create_directories(clip);
  int frames = 0;
  const std::vector<Shown> shown = build_clip(clip, &frames);
  ASSERT_GE(shown.size(), 10u) << "identities/ should hold at least 10 people";

  MosquittoBroker broker(dir + "/broker");
  ASSERT_TRUE(broker.start());
  // Every end event the cameras publish, to check that collect counted each.
  TestSubscriber watcher("collect-test-watcher", broker.port(), "faceqan/+/tracks");
  ASSERT_TRUE(watcher.wait_subscribed(5s));

  const std::string collect_log = dir + "/collect.log";
  const std::vector<std::string> collect_command = {
      build_dir() + "/bin/faceqan", "collect", "--address", broker.address(), "--out", out,
      "--same-person", "0.6", "--client-id", "collect-test"};
  ChildProcess collect;
  collect.start(collect_command, collect_log);
  ASSERT_TRUE(wait_for([&] { return count_lines_with(collect_log, "subscribed to") >= 1; }, 20s))
      << read_text(collect_log);

  ChildProcess door, lobby;
  door.start(camera_command(clip, frames, "door", broker.address()), dir + "/door.log");
  // collect stops while the door camera plays, once it has a few persons ...
  ASSERT_TRUE(wait_for(
      [&] {
        const json index = read_index(out);
        return index.is_object() && index["persons"].size() >= 3;
      },
      180s))
      << read_text(collect_log) << read_text(dir + "/door.log");
  collect.signal(SIGTERM);
  EXPECT_EQ(collect.wait(20s), 0) << read_text(collect_log);
  const std::size_t persons_at_stop = read_index(out)["persons"].size();
  // ... the second camera starts while collect is away, and collect comes back.
  lobby.start(camera_command(clip, frames, "lobby", broker.address()), dir + "/lobby.log");
  std::this_thread::sleep_for(2s);
  collect.start(collect_command, collect_log);
  EXPECT_EQ(door.wait(240s), 0) << read_text(dir + "/door.log");
  EXPECT_EQ(lobby.wait(240s), 0) << read_text(dir + "/lobby.log");

  // The end events the cameras published (duplicates by camera and sequence removed).
  std::map<std::pair<std::string, unsigned>, std::string> identity_of_track;
  std::size_t end_events = 0;
  // faceqanpublish let EOS through once the broker had acknowledged everything: the watcher's
  // copies are on their way.
  std::this_thread::sleep_for(2s);
  for (const ReceivedMessage& m : unique_of_kind(watcher.messages(), "tracks")) {
    if (m.body.value("event", "") != "end") continue;
    ++end_events;
    const auto frame = static_cast<int>(m.body.value("timestamp", std::uint64_t{0}) / kFrameNs);
    for (const Shown& s : shown) {
      if (frame >= s.first && frame <= s.last) {
        identity_of_track[{m.body.value("camera_id", ""), m.body.value("track_id", 0u)}] =
            s.identity;
      }
    }
  }
  ASSERT_TRUE(wait_for(
      [&] {
        const json index = read_index(out);
        return index.is_object() &&
               index["counts"]["end_events"].get<std::size_t>() >= end_events;
      },
      60s))
      << "collect did not count every end event: " << read_text(collect_log);
  ASSERT_TRUE(read_index(out)["counts"]["rejected"].empty()) << read_text(collect_log);

  // Bad input through the broker: an end event without embedding, one with a corrupt crop, one
  // of an unknown schema, and not JSON at all. collect logs and counts each and keeps running.
  const json persons_before = read_index(out)["persons"];
  const std::string pub = "/usr/bin/mosquitto_pub -p " + std::to_string(broker.port()) +
                          " -q 1 -t faceqan/door/tracks -m ";
  const std::string end_fields =
      R"("camera_id":"door","sequence":1,"wall_time":"2026-12-06T04:00:00Z","event":"end",)"
      R"("track_id":999,"quality":0.99)";
  EXPECT_EQ(run_shell(pub + "'{" + end_fields + R"(,"crop":"AAAA"}')"), 0);
  EXPECT_EQ(run_shell(pub + "'{" + end_fields + R"(,"embedding":[1,0],"crop":"bm90IGFuIGltYWdl"}')"), 0);
  EXPECT_EQ(run_shell(pub + "'{" + end_fields + R"(,"schema":7,"embedding":[1,0],"crop":"AAAA"}')"), 0);
  EXPECT_EQ(run_shell(pub + "'not json'"), 0);
  EXPECT_TRUE(wait_for(
      [&] {
        const json counts = read_index(out)["counts"]["rejected"];
        return counts.value("no_embedding", 0) == 1 && counts.value("corrupt_crop", 0) == 1 &&
               counts.value("unknown_schema", 0) == 1 && counts.value("not_json", 0) == 1;
      },
      20s))
      << read_index(out)["counts"].dump() << read_text(collect_log);
  EXPECT_TRUE(collect.running());
  EXPECT_EQ(read_index(out)["persons"], persons_before) << "bad input changed the persons";
  EXPECT_NE(read_text(collect_log).find("rejected a message on faceqan/door/tracks: corrupt_crop"),
            std::string::npos);

  collect.signal(SIGTERM);
  EXPECT_EQ(collect.wait(20s), 0) << read_text(collect_log);

  const json index = read_index(out);
  ASSERT_TRUE(index.is_object());
  EXPECT_EQ(index["counts"]["end_events"], end_events) << "lost or counted twice";
  std::map<std::string, std::set<std::string>> persons_of_identity, identities_of_person;
  std::set<std::string> crops;
  for (const json& person : index["persons"]) {
    const std::string id = person["person_id"].get<std::string>();
    std::set<std::string> cameras;
    for (const json& track : person["tracks"]) {
      cameras.insert(track["camera"].get<std::string>());
      const auto identity = identity_of_track.find(
          {track["camera"].get<std::string>(), track["track_id"].get<unsigned>()});
      ASSERT_NE(identity, identity_of_track.end()) << track.dump().substr(0, 200);
      persons_of_identity[identity->second].insert(id);
      identities_of_person[id].insert(identity->second);
    }
    EXPECT_EQ(cameras, (std::set<std::string>{"door", "lobby"})) << id;
    const cv::Mat crop = cv::imread(out + "/" + person["crop"].get<std::string>());
    EXPECT_FALSE(crop.empty()) << person["crop"];
    crops.insert(person["crop"].get<std::string>());
  }
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(out)) files.insert(entry.path().filename().string());
  crops.insert("index.json");
  EXPECT_EQ(files, crops) << "one crop per person, nothing else";
  for (const auto& [person, identities] : identities_of_person) {
    EXPECT_EQ(identities.size(), 1u) << person << " joined different people";
  }
  for (const Shown& s : shown) {
    EXPECT_EQ(persons_of_identity[s.identity].size(), 1u) << s.identity;
  }
  std::cout << "identities shown: " << shown.size() << " (twice each, cameras door and lobby); "
            << "persons found: " << index["persons"].size() << "; end events: " << end_events
            << "; persons when collect was stopped: " << persons_at_stop << std::endl;
  EXPECT_EQ(index["persons"].size(), shown.size());
  broker.stop();
}

}  // namespace
}  // namespace faceqan::test
