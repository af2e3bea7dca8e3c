// `faceqan run`'s config: the loader against the installed plugin's real GObject properties, the
// resolved camera pipelines, and the CLI's exit status 2 with a message naming line and key.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "camera_pipeline.h"
#include "child_process.h"
#include "config.h"
#include "element_properties.h"
#include "test_support.h"

namespace faceqan::service {
namespace {

class ServiceConfigTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gst_init(nullptr, nullptr); }
  ServiceConfig parse(const std::string& text) { return parse_config(text, "cams.yaml", checker_); }
  // The ConfigError's message, or "" if the text was accepted.
  std::string error_of(const std::string& text) {
    try {
      parse(text);
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "";
  }
  GstPropertyChecker checker_;
};

TEST_F(ServiceConfigTest, ReadsTheIssueExample) {
  const ServiceConfig config = parse(
      "element: {iterations: 2, samples: 4}\n"
      "best: {location: best/%s/%05u.png}\n"
      "stats-interval: 5\n"
      "restart: {min-delay: 0.5, max-delay: 30}\n"
      "stop-timeout: 25\n"
      "cameras:\n"
      "  - {id: door,  uri: \"rtsp://10.0.0.5/stream1\"}\n"
      "  - {id: lobby, uri: \"file:///videos/lobby.mp4\", element: {detection-interval: 2}, loop: true}\n"
      "  - {id: desk,  uri: \"v4l2:///dev/video0\"}\n");
  ASSERT_EQ(config.cameras.size(), 3u);
  EXPECT_EQ(config.cameras[1].id, "lobby");
  EXPECT_EQ(config.cameras[1].line, 8);
  EXPECT_TRUE(config.cameras[1].loop);
  EXPECT_EQ(config.cameras[1].element.at("detection-interval"), "2");
  EXPECT_EQ(config.element.at("iterations"), "2");
  EXPECT_EQ(config.best.at("best-location"), "best/%s/%05u.png");
  EXPECT_DOUBLE_EQ(config.stats_interval_s, 5);
  EXPECT_DOUBLE_EQ(config.restart.min_delay_s, 0.5);
  EXPECT_DOUBLE_EQ(config.restart.max_delay_s, 30);
  EXPECT_DOUBLE_EQ(config.stop_timeout_s, 25);
  EXPECT_FALSE(config.publish_enabled);
}

TEST_F(ServiceConfigTest, EachMistakeNamesItsLineAndKey) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"cameras:\n  - {id: a, uri: \"file:///x.mp4\"}\nbogus: 1\n", "cams.yaml:3: key 'bogus': unknown key"},
      {"cameras:\n  - {id: a, uri: \"file:///x.mp4\", colour: red}\n",
       "cams.yaml:2: key 'colour': unknown camera key"},
      {"element: {iterations: 2,\n  no-such-thing: 3}\ncameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n",
       "cams.yaml:2: key 'element.no-such-thing': faceqan: unknown property 'no-such-thing'"},
      {"element: {iterations: many}\ncameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n",
       "cams.yaml:1: key 'element.iterations': faceqan: wrong type: 'many' is not a valid guint"},
      {"element: {overload: sometimes}\ncameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n",
       "key 'element.overload': faceqan: wrong type: 'sometimes'"},
      {"element: {draw: 7}\ncameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n",
       "key 'element.draw': faceqan: wrong type"},
      {"stats-interval: soon\ncameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n",
       "cams.yaml:1: key 'stats-interval': wrong type: 'soon' is not a number"},
      {"cameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n  - {id: a, uri: \"file:///y.mp4\"}\n",
       "cams.yaml:3: key 'id': duplicate camera id 'a' (first on line 2)"},
      {"cameras:\n  - {id: \"door 1\", uri: \"file:///x.mp4\"}\n",
       "cams.yaml:2: key 'id': invalid camera id 'door 1'"},
      {"cameras:\n  - {id: a, uri: \"ftp://host/x.mp4\"}\n", "cams.yaml:2: key 'uri': unsupported uri"},
      {"cameras:\n  - {uri: \"file:///x.mp4\"}\n", "cams.yaml:2: key 'id': missing"},
      {"element: {camera-id: x}\ncameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n",
       "key 'element.camera-id': set by the service"},
      {"best: {location: \"b/%05u.png\"}\ncameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n"
       "  - {id: b, uri: \"file:///y.mp4\"}\n",
       "cams.yaml:1: key 'best.location': several cameras would write the same files"},
      {"restart: {min-delay: 5, max-delay: 1}\ncameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n",
       "key 'restart.max-delay': must not be below"},
      {"cameras: []\n", "key 'cameras': missing or empty"},
      {"cameras:\n  - {id: a, uri: [1, 2]}\n", "cams.yaml:2: key 'uri': wrong type"},
      {"cameras:\n  - {id: a, uri: \"file:///x.mp4\"\n", "cams.yaml:"},  // YAML syntax
  };
  for (const Case& c : cases) {
    const std::string error = error_of(c.text);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "config:\n" << c.text << "expected: " << c.expected << "\ngot: " << error;
  }
}

TEST_F(ServiceConfigTest, BestPropertiesAreCheckedAsFaceqansBestProperties) {
  EXPECT_EQ(error_of("best: {location: \"b/%s/%05u.png\", interval: 2}\n"
                     "cameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n"),
            "");
  EXPECT_NE(error_of("best: {locaton: x}\ncameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n")
                .find("key 'best.locaton': faceqan: unknown property 'best-locaton'"),
            std::string::npos);
}

TEST_F(ServiceConfigTest, CameraIds) {
  EXPECT_TRUE(valid_camera_id("door_1-B"));
  EXPECT_FALSE(valid_camera_id(""));
  EXPECT_FALSE(valid_camera_id("door/1"));
  EXPECT_FALSE(valid_camera_id("caméra"));
  EXPECT_FALSE(valid_camera_id("a+b"));
}

TEST(CameraPipelineTest, SubstitutesTheCameraIdAndKeepsTheIntegerConversion) {
  EXPECT_EQ(substitute_camera_id("best/%s/%05u.png", "door"), "best/door/%05u.png");
  EXPECT_EQ(substitute_camera_id("%s-%s_%%_%u", "a"), "a-a_%%_%u");
  EXPECT_EQ(quote_value("say \"hi\" \\"), "\"say \\\"hi\\\" \\\\\"");
}

TEST(CameraPipelineTest, LiveCamerasSkipFilesBlockAndCameraSettingsWin) {
  ServiceConfig config;
  config.element["iterations"] = "2";
  config.best["best-location"] = "b/%s/%05u.png";
  CameraConfig door{"door", "rtsp://10.0.0.5/s", {}, {}, false, true, 1};
  CameraConfig lobby{"lobby", "file:///v/lobby.mp4", {{"iterations", "3"}}, {}, false, true, 2};
  const CameraPipeline live = build_camera_pipeline(config, door, true);
  EXPECT_TRUE(live.live);
  EXPECT_NE(live.description.find("uridecodebin uri=\"rtsp://10.0.0.5/s\""), std::string::npos);
  EXPECT_NE(live.description.find("overload=\"skip\""), std::string::npos) << live.description;
  EXPECT_NE(live.description.find("camera-id=\"door\""), std::string::npos);
  EXPECT_NE(live.description.find("best-location=\"b/door/%05u.png\""), std::string::npos);
  EXPECT_NE(live.description.find("shared-scorer=\"true\""), std::string::npos);
  EXPECT_NE(live.description.find("sync=false"), std::string::npos);
  const CameraPipeline file = build_camera_pipeline(config, lobby, false);
  EXPECT_FALSE(file.live);
  EXPECT_EQ(file.description.find("overload="), std::string::npos) << file.description;
  EXPECT_EQ(file.description.find("camera-id="), std::string::npos);
  EXPECT_NE(file.description.find("iterations=\"3\""), std::string::npos);
  EXPECT_NE(file.description.find("sync=true"), std::string::npos);  // paced like a camera
  CameraConfig desk{"desk", "v4l2:///dev/video0", {}, {}, false, true, 3};
  EXPECT_EQ(build_camera_pipeline(config, desk, true).description.rfind("v4l2src device=\"/dev/video0\"", 0),
            0u);
}

// The CLI: exit status 2 and the message on stderr, before any camera starts.
TEST(RunCommandTest, BadConfigExitsTwoWithLineAndKey) {
  const std::string dir = faceqan::test::scratch_dir("service-config");
  const std::string path = dir + "/bad.yaml";
  std::ofstream(path) << "stats-interval: 5\ncameras:\n  - {id: door, uri: \"file:///nowhere.mp4\"}\n"
                         "  - {id: door, uri: \"file:///nowhere2.mp4\"}\n";
  const auto result = faceqan::test::run_faceqan("run '" + path + "'", "service-config-run");
  EXPECT_EQ(result.status, 2) << result.err;
  EXPECT_NE(result.err.find(path + ":4: key 'id': duplicate camera id 'door'"), std::string::npos)
      << result.err;
  EXPECT_EQ(result.err.find("starting"), std::string::npos) << "a camera started: " << result.err;

  const auto missing = faceqan::test::run_faceqan("run '" + dir + "/absent.yaml'", "service-config-run");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("absent.yaml: cannot read the config file"), std::string::npos)
      << missing.err;

  const std::string typo = dir + "/typo.yaml";
  std::ofstream(typo) << "element:\n  iterations: 2\n  sampels: 4\ncameras:\n  - {id: a, uri: \"file:///x.mp4\"}\n";
  const auto typo_result = faceqan::test::run_faceqan("run '" + typo + "'", "service-config-run");
  EXPECT_EQ(typo_result.status, 2);
  EXPECT_NE(typo_result.err.find(typo + ":3: key 'element.sampels': faceqan: unknown property"),
            std::string::npos)
      << typo_result.err;
}

TEST(RunCommandTest, CheckPrintsEachCameraAndItsPipeline) {
  const std::string dir = faceqan::test::scratch_dir("service-check");
  const std::string path = dir + "/ok.yaml";
  std::ofstream(path) << "element: {iterations: 2, samples: 4}\ncameras:\n"
                         "  - {id: door, uri: \"rtsp://127.0.0.1:9/clip\"}\n"
                         "  - {id: lobby, uri: \"file:///videos/lobby.mp4\"}\n";
  const auto result = faceqan::test::run_faceqan("run --check '" + path + "'", "service-check-run");
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.err.find("camera door (live): uridecodebin uri=\"rtsp://127.0.0.1:9/clip\""),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("camera lobby (file): uridecodebin uri=\"file:///videos/lobby.mp4\""),
            std::string::npos);
  EXPECT_NE(result.err.find("is valid (2 cameras)"), std::string::npos);
}

// A file camera ends at its EOS and the service with it (status 0); with loop it starts again.
TEST(RunCommandTest, FileCameraEndsAtEosUnlessLoop) {
  const std::string dir = faceqan::test::scratch_dir("service-file");
  const std::string clip = faceqan::test::data_file("video/faceapi_clip.mp4");  // 5 frames
  const std::string once = dir + "/once.yaml";
  std::ofstream(once) << "element: {iterations: 1, samples: 2, threads: 1}\nstats-interval: 1\n"
                         "cameras:\n  - {id: once, uri: \"file://" << clip << "\", realtime: false}\n";
  const auto ended = faceqan::test::run_faceqan("run '" + once + "'", "service-file-run");
  EXPECT_EQ(ended.status, 0) << ended.err;
  EXPECT_NE(ended.err.find("camera once: end of file://"), std::string::npos) << ended.err;
  EXPECT_NE(ended.err.find("camera once: finished after 5 frames"), std::string::npos) << ended.err;

  // loop: the clip starts again at its end until the service is stopped (status 0).
  const std::string looped = dir + "/loop.yaml";
  std::ofstream(looped) << "element: {iterations: 1, samples: 2, threads: 1}\nstats-interval: 1\n"
                           "cameras:\n  - {id: looped, uri: \"file://" << clip << "\", loop: true}\n";
  const std::string log = dir + "/loop.log";
  faceqan::test::ChildProcess service;
  service.start({faceqan::test::build_dir() + "/bin/faceqan", "run", looped}, log);
  const std::regex frames("camera looped: running fps=\\S+ frames=([0-9]+)");
  bool went_round = false;
  for (int i = 0; i < 1200 && !went_round; ++i) {
    const std::string text = faceqan::test::read_text(log);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), frames); it != std::sregex_iterator(); ++it)
      if (std::stoi((*it)[1]) > 10) went_round = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(went_round) << "more than 10 frames of a 5-frame clip: " << faceqan::test::read_text(log);
  service.signal(SIGTERM);
  EXPECT_EQ(service.wait(std::chrono::seconds(60)), 0) << faceqan::test::read_text(log);
  EXPECT_EQ(faceqan::test::read_text(log).find("camera looped: end of"), std::string::npos);
}

}  // namespace
}  // namespace faceqan::service
