// faceqan collect's enrollment folder without a broker: persons joined across cameras, the best
// crop kept, the index read back after a restart, duplicates and reused track ids, and bad input
// counted without harm. Constructed embeddings and crops; the real faces and the real broker are
// in collect_cameras_test.cpp.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "faceqan/collect/enrollment.h"
#include "test_support.h"

namespace faceqan::collect {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string encode_base64(const std::vector<unsigned char>& bytes) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const unsigned n = (bytes[i] << 16) | ((i + 1 < bytes.size() ? bytes[i + 1] : 0) << 8) |
                       (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += kDigits[(n >> 18) & 63];
    out += kDigits[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kDigits[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kDigits[n & 63] : '=';
  }
  return out;
}

// A 112x112 crop of one grey level: which crop a file holds shows in its pixels.
cv::Mat crop_of(int grey) { return cv::Mat(112, 112, CV_8UC3, cv::Scalar(grey, grey, grey)); }

std::string crop_base64(const cv::Mat& crop) {
  std::vector<unsigned char> jpeg;
  cv::imencode(".jpg", crop, jpeg);
  return encode_base64(jpeg);
}

std::vector<float> at_angle(double degrees) {
  const double radians = degrees * M_PI / 180.0;
  return {static_cast<float>(std::cos(radians)), static_cast<float>(std::sin(radians)), 0.f, 0.f};
}

std::string wall(double seconds) {
  char text[64];
  std::snprintf(text, sizeof text, "2026-12-06T04:%02d:%06.3fZ", static_cast<int>(seconds) / 60,
                std::fmod(seconds, 60.0));
  return text;
}

json end_event(const std::string& camera, unsigned track, double at, double quality,
               const std::vector<float>& embedding, int grey) {
  return {{"camera_id", camera}, {"sequence", 1},        {"wall_time", wall(at)},
          {"event", "end"},      {"track_id", track},    {"person_id", track},
          {"quality", quality},  {"timestamp", 1000000}, {"reason", "lost"},
          {"embedding", embedding}, {"crop", crop_base64(crop_of(grey))}};
}

json new_event(const std::string& camera, unsigned track, double at) {
  return {{"camera_id", camera}, {"sequence", 1}, {"wall_time", wall(at)},
          {"event", "new"},      {"track_id", track}, {"person_id", track}};
}

json read_index(const Enrollment& enrollment) {
  std::ifstream in(enrollment.index_path());
  return json::parse(in);
}

int grey_of(const std::string& path) {
  const cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
  return image.empty() ? -1 : image.at<cv::Vec3b>(56, 56)[0];
}

std::string fresh_dir(const std::string& name) {
  const std::string dir = test::scratch_dir("collect-" + name);
  fs::remove_all(dir);
  return dir;
}

TEST(Enrollment, JoinsAcrossCamerasAndKeepsTheBestCrop) {
  const std::string dir = fresh_dir("join");
  Enrollment enrollment(dir, 0.6);
  Outcome first = enrollment.handle(end_event("door", 1, 10, 0.5, at_angle(0), 50).dump());
  EXPECT_EQ(first.kind, Outcome::Kind::kNewPerson);
  EXPECT_EQ(grey_of(enrollment.crop_path(first.person)), 50);
  // The lobby sees the same face better: joined, its crop replaces the door's.
  Outcome better = enrollment.handle(end_event("lobby", 1, 11, 0.7, at_angle(8), 120).dump());
  EXPECT_EQ(better.kind, Outcome::Kind::kJoined);
  EXPECT_EQ(better.person, first.person);
  EXPECT_TRUE(better.crop_replaced);
  EXPECT_NEAR(grey_of(enrollment.crop_path(first.person)), 120, 2);
  // A worse one joins and keeps the crop.
  Outcome worse = enrollment.handle(end_event("door", 2, 20, 0.3, at_angle(4), 200).dump());
  EXPECT_EQ(worse.person, first.person);
  EXPECT_FALSE(worse.crop_replaced);
  EXPECT_NEAR(grey_of(enrollment.crop_path(first.person)), 120, 2);
  // Someone else stays someone else.
  Outcome other = enrollment.handle(end_event("lobby", 2, 21, 0.6, at_angle(90), 30).dump());
  EXPECT_EQ(other.kind, Outcome::Kind::kNewPerson);
  EXPECT_NE(other.person, first.person);

  json index = read_index(enrollment);
  ASSERT_EQ(index["persons"].size(), 2u);
  const json& person = index["persons"][0];
  EXPECT_EQ(person["person_id"], first.person);
  EXPECT_DOUBLE_EQ(person["best_quality"].get<double>(), 0.7);
  EXPECT_EQ(person["camera"], "lobby");
  EXPECT_EQ(person["track_id"], 1);
  EXPECT_EQ(person["time"], wall(11));
  EXPECT_EQ(person["tracks_seen"], 3);
  EXPECT_EQ(person["crop"], first.person + ".png");
  EXPECT_EQ(person["tracks"].size(), 3u);
  EXPECT_EQ(person["tracks"][0]["embedding"].size(), 4u);
  EXPECT_EQ(index["counts"]["new_persons"], 2);
  EXPECT_EQ(index["counts"]["joined"], 2);
  EXPECT_EQ(index["counts"]["crops_replaced"], 1);
  // Nothing half-written is left behind.
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  }
}

TEST(Enrollment, ARestartReadsTheIndexBackAndMatchesLaterArrivals) {
  const std::string dir = fresh_dir("restart");
  std::string amy, bob;
  {
    Enrollment enrollment(dir, 0.6);
    amy = enrollment.handle(end_event("door", 1, 10, 0.6, at_angle(0), 50).dump()).person;
    bob = enrollment.handle(end_event("door", 2, 30, 0.6, at_angle(90), 60).dump()).person;
  }
  Enrollment restarted(dir, 0.6);
  ASSERT_EQ(restarted.persons().size(), 2u);
  EXPECT_EQ(restarted.persons().at(amy).tracks_seen, 1u);
  EXPECT_EQ(restarted.handle(end_event("lobby", 1, 40, 0.5, at_angle(5), 70).dump()).person, amy);
  EXPECT_EQ(restarted.handle(end_event("lobby", 2, 41, 0.5, at_angle(85), 70).dump()).person, bob);
  // A QoS 1 duplicate of an end event handled before the restart is not a second track.
  EXPECT_EQ(restarted.handle(end_event("door", 1, 10, 0.6, at_angle(0), 50).dump()).kind,
            Outcome::Kind::kDuplicate);
  EXPECT_EQ(restarted.counts().end_events, 4u);
  EXPECT_EQ(restarted.counts().duplicates, 1u);
  EXPECT_EQ(restarted.persons().at(amy).tracks_seen, 2u);
}

TEST(Enrollment, OneCameraNeverJoinsTwoFacesOnScreenTogether) {
  const std::string dir = fresh_dir("together");
  Enrollment enrollment(dir, 0.6);
  enrollment.handle(new_event("door", 1, 10).dump());
  enrollment.handle(new_event("door", 2, 11).dump());
  const std::string first =
      enrollment.handle(end_event("door", 1, 14, 0.6, at_angle(0), 50).dump()).person;
  // The same face on the same camera during track 1's wall-clock span: two people.
  const std::string second =
      enrollment.handle(end_event("door", 2, 15, 0.6, at_angle(2), 50).dump()).person;
  EXPECT_NE(first, second);
  // On another camera at the same moment: may be either; joins the most similar.
  EXPECT_EQ(enrollment.handle(end_event("lobby", 5, 12, 0.6, at_angle(-1), 50).dump()).person,
            first);
}

TEST(Enrollment, ATrackIdUsedAgainByANewStreamIsANewTrack) {
  const std::string dir = fresh_dir("reuse");
  Enrollment enrollment(dir, 0.6);
  const std::string first =
      enrollment.handle(end_event("door", 1, 10, 0.6, at_angle(0), 50).dump()).person;
  // The camera restarted: its track ids start at 1 again, and this track 1 is someone else.
  enrollment.handle(new_event("door", 1, 100).dump());
  const Outcome again = enrollment.handle(end_event("door", 1, 105, 0.6, at_angle(90), 60).dump());
  EXPECT_EQ(again.kind, Outcome::Kind::kNewPerson);
  EXPECT_NE(again.person, first);
  EXPECT_EQ(enrollment.persons().size(), 2u);
}

TEST(Enrollment, BadInputIsCountedAndTheIndexStaysConsistent) {
  const std::string dir = fresh_dir("bad");
  Enrollment enrollment(dir, 0.6);
  const std::string person =
      enrollment.handle(end_event("door", 1, 10, 0.6, at_angle(0), 50).dump()).person;
  json no_embedding = end_event("door", 2, 20, 0.9, at_angle(0), 90);
  no_embedding.erase("embedding");
  json no_crop = end_event("door", 3, 21, 0.9, at_angle(0), 90);
  no_crop.erase("crop");
  json corrupt_crop = end_event("door", 4, 22, 0.9, at_angle(0), 90);
  corrupt_crop["crop"] = encode_base64({'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  json not_base64 = end_event("door", 5, 23, 0.9, at_angle(0), 90);
  not_base64["crop"] = "*** not base64 ***";
  json future = end_event("door", 6, 24, 0.9, at_angle(0), 90);
  future["schema"] = 2;
  json unscored = end_event("door", 7, 25, 0.9, at_angle(0), 90);
  unscored.erase("quality");
  json bad_camera = end_event("../etc", 8, 26, 0.9, at_angle(0), 90);
  json bad_embedding = end_event("door", 9, 27, 0.9, at_angle(0), 90);
  bad_embedding["embedding"] = json::array({1.0, "x"});
  json wrong_types = end_event("door", 10, 28, 0.9, at_angle(0), 90);
  wrong_types["event"] = 3;  // not a string: not an event collect knows; ignored
  wrong_types["track_id"] = "ten";
  json bad_track = end_event("door", 11, 29, 0.9, at_angle(0), 90);
  bad_track["track_id"] = -1;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"event\": ", "not_json"},
      {"[1, 2]", "not_json"},
      {no_embedding.dump(), "no_embedding"},
      {bad_embedding.dump(), "no_embedding"},
      {no_crop.dump(), "no_crop"},
      {corrupt_crop.dump(), "corrupt_crop"},
      {not_base64.dump(), "corrupt_crop"},
      {future.dump(), "unknown_schema"},
      {unscored.dump(), "bad_fields"},
      {bad_track.dump(), "bad_fields"},
      {bad_camera.dump(), "bad_camera_id"},
  };
  for (const auto& [payload, reason] : cases) {
    const Outcome outcome = enrollment.handle(payload);
    EXPECT_EQ(outcome.kind, Outcome::Kind::kRejected) << payload.substr(0, 80);
    EXPECT_EQ(outcome.detail.rfind(reason, 0), 0u) << outcome.detail;
  }
  EXPECT_EQ(enrollment.handle(wrong_types.dump()).kind, Outcome::Kind::kIgnored);
  json index = read_index(enrollment);
  EXPECT_EQ(index["counts"]["rejected"]["not_json"], 2);
  EXPECT_EQ(index["counts"]["rejected"]["no_embedding"], 2);
  EXPECT_EQ(index["counts"]["rejected"]["no_crop"], 1);
  EXPECT_EQ(index["counts"]["rejected"]["corrupt_crop"], 2);
  EXPECT_EQ(index["counts"]["rejected"]["unknown_schema"], 1);
  EXPECT_EQ(index["counts"]["rejected"]["bad_fields"], 2);
  EXPECT_EQ(index["counts"]["rejected"]["bad_camera_id"], 1);
  // Nothing of the rejected messages reached the persons or the folder.
  ASSERT_EQ(index["persons"].size(), 1u);
  EXPECT_DOUBLE_EQ(index["persons"][0]["best_quality"].get<double>(), 0.6);
  EXPECT_EQ(grey_of(enrollment.crop_path(person)), 50);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 2u);  // index.json and the one crop
  // The counts survive a restart too.
  EXPECT_EQ(Enrollment(dir, 0.6).counts().rejected.at("corrupt_crop"), 2u);
}

TEST(Enrollment, ACorruptIndexIsNeverOverwritten) {
  const std::string dir = fresh_dir("corrupt-index");
  fs::create_directories(dir);
  { std::ofstream(dir + "/index.json") << "{\"persons\": [trunc"; }
  EXPECT_THROW(Enrollment(dir, 0.6), CollectError);
  std::ifstream in(dir + "/index.json");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "{\"persons\": [trunc");
}

TEST(TrackMessage, Rfc3339AndBase64) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01.5Z"), 1500000000LL);
  EXPECT_EQ(parse_rfc3339("2026-12-06T05:10:31+01:00"), parse_rfc3339("2026-12-06T04:10:31Z"));
  EXPECT_FALSE(parse_rfc3339("2026-13-06T04:10:31Z"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  EXPECT_EQ(decode_base64("aGVsbG8="), (std::vector<unsigned char>{'h', 'e', 'l', 'l', 'o'}));
  EXPECT_FALSE(decode_base64("aGV*bG8="));
  EXPECT_FALSE(decode_base64("aG=Vs"));
}

}  // namespace
}  // namespace faceqan::collect
