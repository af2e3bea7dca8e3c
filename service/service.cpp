#include "service.h"

#include <gst/gst.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "camera_pipeline.h"
#include "camera_runner.h"
#include "config.h"
#include "element_properties.h"
#include "service_log.h"

namespace faceqan::service {
namespace {

volatile std::sig_atomic_t received_signal = 0;

void on_stop_signal(int signal) { received_signal = signal; }

// Waits up to `seconds` for SIGINT/SIGTERM; the signal (taken), or 0.
int wait_for_signal(double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!received_signal && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int signal = received_signal;
  received_signal = 0;
  return signal;
}

std::string status_line(const std::string& id, const CameraStatus& now, const CameraStatus& before,
                        double interval_s) {
  std::ostringstream line;
  line.setf(std::ios::fixed);
  line.precision(1);
  line << "camera " << id << ": " << now.state
       << " fps=" << (now.frames - before.frames) / interval_s << " frames=" << now.frames
       << " faces=" << now.faces_detected << " scored=" << now.faces_scored
       << " skipped=" << now.skipped << " dropped=" << now.dropped
       << " reconnects=" << now.reconnects << " restarts=" << now.restarts
       << " outage=" << now.outage_s << "s";
  return line.str();
}

}  // namespace

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int run_service(const std::string& config_path, bool check_only) {
  gst_init(nullptr, nullptr);
  ServiceConfig config;
  try {
    config = load_config(config_path, GstPropertyChecker());
  } catch (const ConfigError& error) {
    std::fprintf(stderr, "faceqan run: %s\n", error.what());
    return 2;
  }
  const bool with_camera_id = element_has_property("faceqan", "camera-id");
  std::vector<std::unique_ptr<CameraRunner>> cameras;
  for (const CameraConfig& camera : config.cameras) {
    CameraPipeline pipeline = build_camera_pipeline(config, camera, with_camera_id);
    log_line("camera " + camera.id + " (" + (pipeline.live ? "live" : "file") + "): " +
             pipeline.description);
    cameras.push_back(std::make_unique<CameraRunner>(config, camera, std::move(pipeline)));
  }
  if (check_only) {
    log_line("faceqan run: " + config_path + " is valid (" + std::to_string(cameras.size()) +
             " cameras)");
    return 0;
  }
  install_stop_signals();
  log_line("faceqan run: starting " + std::to_string(cameras.size()) + " cameras from " +
           config_path);
  for (auto& camera : cameras) camera->start();

  std::vector<CameraStatus> previous(cameras.size());
  const double tick_s = config.stats_interval_s > 0 ? config.stats_interval_s : 1.0;
  auto all_finished = [&] {
    for (auto& camera : cameras)
      if (!camera->finished()) return false;
    return true;
  };
  bool stopping = false;
  double since_status_s = 0;
  while (!all_finished()) {
    const double step_s = 0.2;
    const int signal = wait_for_signal(step_s);
    if (signal && stopping) {
      log_line("faceqan run: second signal, exiting without waiting for the cameras");
      std::fflush(nullptr);
      std::_Exit(130);
    }
    if (signal) {
      stopping = true;
      log_line(std::string("faceqan run: ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
               ": EOS to every camera, flushing");
      for (auto& camera : cameras) camera->request_stop();
    }
    since_status_s += step_s;
    if (config.stats_interval_s > 0 && since_status_s + 1e-6 >= tick_s && !stopping) {
      for (std::size_t i = 0; i < cameras.size(); ++i) {
        const CameraStatus now = cameras[i]->status();
        log_line(status_line(cameras[i]->id(), now, previous[i], since_status_s));
        previous[i] = now;
      }
      since_status_s = 0;
    }
  }
  for (auto& camera : cameras) camera->join();
  for (std::size_t i = 0; i < cameras.size(); ++i) {
    const CameraStatus end = cameras[i]->status();
    log_line("camera " + cameras[i]->id() + ": " + end.state + " after " +
             std::to_string(end.frames) + " frames, " + std::to_string(end.reconnects) +
             " reconnects");
  }
  log_line("faceqan run: done");
  return 0;
}

}  // namespace faceqan::service
