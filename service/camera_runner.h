// One camera under supervision, on its own thread: builds its pipeline, watches its bus and a
// no-data watchdog, and when the source fails (error, a live source's EOS, a silent stall) ends
// faceqan's stream with EOS (after a "faceqan-end-reason" event: source-error) so that track
// end events go out, tears the pipeline down and starts it again after an exponential back-off.
// The other cameras never wait for it.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "camera_pipeline.h"
#include "config.h"

namespace faceqan::service {

// Sent into faceqan's sink pad just before an EOS the service injects or lets through after a
// source failure: a custom serialized downstream event with the string field "reason"
// ("source-error"), so that the tracks open at that EOS end with that reason instead of "eos".
// The same name as faceqan::gst::kEndReasonEvent (gst-plugin/stream_events.h): the service uses
// the elements only through GStreamer and does not include the plugin's headers.
inline constexpr const char* kEndReasonEvent = "faceqan-end-reason";
// Sent into faceqan's sink pad before the first frame of each run: a custom serialized downstream
// event with the camera's restarts, reconnects (guint) and outage-seconds (gdouble) so far, which
// faceqanpublish puts into the camera's stats messages ("source"). The same name as
// faceqan::gst::kSourceStatsEvent.
inline constexpr const char* kSourceStatsEvent = "faceqan-source-stats";

struct CameraStatus {
  std::string state;  // starting, running, restarting, finished, stopped
  std::uint64_t frames = 0;  // frames into faceqan, every run together
  std::uint64_t faces_detected = 0, faces_scored = 0, skipped = 0, dropped = 0;
  unsigned restarts = 0;    // pipeline starts after a failure
  unsigned reconnects = 0;  // of those, the ones after which frames came again
  double outage_s = 0;      // seconds from the last frame before a failure to the first after it
  bool outage_open = false;  // failed and not yet back
};

class CameraRunner {
 public:
  CameraRunner(const ServiceConfig& config, CameraConfig camera, CameraPipeline pipeline);
  ~CameraRunner();
  CameraRunner(const CameraRunner&) = delete;
  CameraRunner& operator=(const CameraRunner&) = delete;

  const std::string& id() const { return camera_.id; }
  void start();
  // Asks the camera to end: EOS into faceqan, flush, tear down. Returns at once.
  void request_stop();
  bool finished() const { return finished_; }
  void join();
  CameraStatus status() const;

 private:
  enum class Outcome { kEnded, kLooped, kFailed, kStopped };
  void run();
  Outcome watch(GstElement* pipeline, std::string& why, bool& eos_passed);
  void end_stream(GstElement* pipeline, bool source_error);
  bool sleep_unless_stopped(double seconds);
  void on_stats(const GstStructure* stats);
  void set_state(const char* state);
  static GstPadProbeReturn on_faceqan_input(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  // The first frame of a run (streaming thread): closes an open outage and tells faceqanpublish.
  void on_first_frame(GstPad* faceqan_sink);

  const ServiceConfig& config_;
  const CameraConfig camera_;
  const CameraPipeline pipeline_;
  double drain_timeout_s_ = 20;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> finished_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_changed_;

  // Written by the streaming thread's probe.
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::int64_t> last_frame_ns_{0};  // steady clock
  std::atomic<bool> failing_{false};  // an EOS now passing is a source failure
  std::atomic<bool> run_has_frames_{false};  // this run's first frame has come

  mutable std::mutex status_mutex_;
  CameraStatus status_;
  CameraStatus previous_runs_;  // faceqan's counters of the runs before this one
  std::chrono::steady_clock::time_point failed_at_;  // the last frame before the open outage
};

}  // namespace faceqan::service
