#include "camera_runner.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "service_log.h"

namespace faceqan::service {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

std::uint64_t counter(const GstStructure* s, const char* name) {
  const GValue* value = gst_structure_get_value(s, name);
  if (!value) return 0;
  if (G_VALUE_HOLDS_UINT64(value)) return g_value_get_uint64(value);
  if (G_VALUE_HOLDS_UINT(value)) return g_value_get_uint(value);
  if (G_VALUE_HOLDS_INT(value)) return static_cast<std::uint64_t>(std::max(0, g_value_get_int(value)));
  return 0;
}

std::string seconds_text(double seconds) {
  std::ostringstream out;
  out.precision(seconds < 10 ? 2 : 3);
  out << seconds << " s";
  return out.str();
}

}  // namespace

CameraRunner::CameraRunner(const ServiceConfig& config, CameraConfig camera,
                           CameraPipeline pipeline)
    : config_(config), camera_(std::move(camera)), pipeline_(std::move(pipeline)) {
  // EOS waits for faceqanpublish to flush (its flush-timeout, 5 s by default) and faceqan to
  // finish the frames it holds.
  double flush_s = 5;
  Properties publish = config_.publish;
  for (const auto& [name, value] : camera_.publish) publish[name] = value;
  if (auto it = publish.find("flush-timeout"); it != publish.end()) flush_s = std::stod(it->second) / 1000;
  drain_timeout_s_ = std::max(config_.stop_timeout_s, flush_s + 5);
  status_.state = "starting";
}

CameraRunner::~CameraRunner() {
  request_stop();
  join();
}

void CameraRunner::start() { thread_ = std::thread([this] { run(); }); }

void CameraRunner::request_stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stop_requested_ = true;
  }
  stop_changed_.notify_all();
}

void CameraRunner::join() {
  if (thread_.joinable()) thread_.join();
}

CameraStatus CameraRunner::status() const {
  std::lock_guard<std::mutex> lock(status_mutex_);
  CameraStatus status = status_;
  status.frames = frames_;
  status.faces_detected += previous_runs_.faces_detected;
  status.faces_scored += previous_runs_.faces_scored;
  status.skipped += previous_runs_.skipped;
  status.dropped += previous_runs_.dropped;
  if (status.outage_open)
    status.outage_s += std::chrono::duration<double>(Clock::now() - failed_at_).count();
  return status;
}

void CameraRunner::set_state(const char* state) {
  std::lock_guard<std::mutex> lock(status_mutex_);
  status_.state = state;
}

void CameraRunner::on_stats(const GstStructure* stats) {
  std::lock_guard<std::mutex> lock(status_mutex_);
  status_.faces_detected = counter(stats, "faces-detected");
  status_.faces_scored = counter(stats, "faces-scored");
  status_.skipped = counter(stats, "skipped");
  status_.dropped = counter(stats, "dropped");
}

GstPadProbeReturn CameraRunner::on_faceqan_input(GstPad* pad, GstPadProbeInfo* info,
                                                 gpointer data) {
  auto* self = static_cast<CameraRunner*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    self->frames_.fetch_add(1);
    self->last_frame_ns_.store(now_ns());
    if (!self->run_has_frames_.exchange(true)) self->on_first_frame(pad);
    return GST_PAD_PROBE_OK;
  }
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  // A live source that ends by itself has dropped (rtspsrc over TCP sends EOS when the server
  // goes): faceqan hears why before the EOS. The service's own EOS (stop, or after an error)
  // sets failing_ or stop_requested_ and sends its reason itself.
  if (event && GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->pipeline_.live &&
      !self->stop_requested_ && !self->failing_.exchange(true)) {
    gst_pad_send_event(pad, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM,
        gst_structure_new(kEndReasonEvent, "reason", G_TYPE_STRING, "source-error", nullptr)));
  }
  return GST_PAD_PROBE_OK;
}

void CameraRunner::on_first_frame(GstPad* faceqan_sink) {
  GstStructure* source = nullptr;
  {
    std::lock_guard<std::mutex> lock(status_mutex_);
    // Frames again after a failure: the camera is back.
    if (status_.outage_open) {
      const double outage = std::chrono::duration<double>(Clock::now() - failed_at_).count();
      status_.outage_open = false;
      status_.outage_s += outage;
      ++status_.reconnects;
      log_line("camera " + camera_.id + ": frames again after " + seconds_text(outage) +
               " without (reconnect " + std::to_string(status_.reconnects) + ")");
    }
    status_.state = "running";
    source = gst_structure_new(kSourceStatsEvent, "restarts", G_TYPE_UINT, status_.restarts,
                               "reconnects", G_TYPE_UINT, status_.reconnects, "outage-seconds",
                               G_TYPE_DOUBLE, status_.outage_s, nullptr);
  }
  // From the buffer probe: the event goes ahead of the frame, in stream order.
  gst_pad_send_event(faceqan_sink, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, source));
}

CameraRunner::Outcome CameraRunner::watch(GstElement* pipeline, std::string& why,
                                          bool& eos_passed) {
  GstBus* bus = gst_element_get_bus(pipeline);
  Outcome outcome = Outcome::kStopped;
  while (true) {
    if (stop_requested_) break;
    GstMessage* message = gst_bus_timed_pop(bus, 100 * GST_MSECOND);
    if (message) {
      const GstMessageType type = GST_MESSAGE_TYPE(message);
      if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_WARNING) {
        GError* error = nullptr;
        gchar* debug = nullptr;
        if (type == GST_MESSAGE_ERROR) gst_message_parse_error(message, &error, &debug);
        else gst_message_parse_warning(message, &error, &debug);
        const std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " +
                                 (error ? error->message : "?");
        g_clear_error(&error);
        g_free(debug);
        if (type == GST_MESSAGE_ERROR) {
          why = "error from " + text;
          outcome = Outcome::kFailed;
          gst_message_unref(message);
          break;
        }
        log_line("camera " + camera_.id + ": warning from " + text);
      } else if (type == GST_MESSAGE_EOS) {
        eos_passed = true;
        gst_message_unref(message);
        if (pipeline_.live) {
          why = "the source ended (a live camera does not: it dropped)";
          outcome = Outcome::kFailed;
        } else {
          outcome = camera_.loop ? Outcome::kLooped : Outcome::kEnded;
        }
        break;
      } else if (type == GST_MESSAGE_ELEMENT) {
        const GstStructure* s = gst_message_get_structure(message);
        if (s && gst_structure_has_name(s, "faceqan-stats")) on_stats(s);
      }
      gst_message_unref(message);
    }
    const double silent_s = (now_ns() - last_frame_ns_) / 1e9;
    if (silent_s > config_.watchdog_s) {
      why = "no frames for " + seconds_text(silent_s) + " (watchdog)";
      outcome = Outcome::kFailed;
      break;
    }
  }
  gst_object_unref(bus);
  return outcome;
}

void CameraRunner::end_stream(GstElement* pipeline, bool source_error) {
  GstElement* faceqan = gst_bin_get_by_name(GST_BIN(pipeline), kFaceqanName);
  if (!faceqan) return;
  GstPad* pad = gst_element_get_static_pad(faceqan, "sink");
  // failing_ keeps the probe from adding a second reason event ahead of our EOS.
  failing_ = true;
  if (source_error)
    gst_pad_send_event(pad, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM,
        gst_structure_new(kEndReasonEvent, "reason", G_TYPE_STRING, "source-error", nullptr)));
  gst_pad_send_event(pad, gst_event_new_eos());
  gst_object_unref(pad);
  // EOS reaches the sink once faceqan has finished its frames and faceqanpublish has flushed.
  GstBus* bus = gst_element_get_bus(pipeline);
  const auto deadline = Clock::now() + std::chrono::duration<double>(drain_timeout_s_);
  bool drained = false;
  while (!drained && Clock::now() < deadline) {
    GstMessage* message = gst_bus_timed_pop_filtered(
        bus, 100 * GST_MSECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ELEMENT));
    if (!message) continue;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
      drained = true;
    } else if (const GstStructure* s = gst_message_get_structure(message);
               s && gst_structure_has_name(s, "faceqan-stats")) {
      on_stats(s);
    }
    gst_message_unref(message);
  }
  gst_object_unref(bus);
  if (!drained) {
    log_line("camera " + camera_.id + ": EOS did not reach the end within " +
             seconds_text(drain_timeout_s_) + "; stopping without it");
    // faceqan's queue still holds the reason; the element after it (faceqanpublish) ends its open
    // tracks when stopped, and with the reason given here they end as "source-error", not
    // "stopped". Sent past faceqan: its queue is stuck, its output pad is not.
    if (source_error) {
      GstPad* src = gst_element_get_static_pad(faceqan, "src");
      if (GstPad* next = gst_pad_get_peer(src)) {
        gst_pad_send_event(next, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM,
            gst_structure_new(kEndReasonEvent, "reason", G_TYPE_STRING, "source-error", nullptr)));
        gst_object_unref(next);
      }
      gst_object_unref(src);
    }
  }
  gst_object_unref(faceqan);
}

bool CameraRunner::sleep_unless_stopped(double seconds) {
  std::unique_lock<std::mutex> lock(stop_mutex_);
  return !stop_changed_.wait_for(lock, std::chrono::duration<double>(seconds),
                                 [this] { return stop_requested_.load(); });
}

void CameraRunner::run() {
  unsigned failures_in_a_row = 0;
  while (!stop_requested_) {
    set_state("starting");
    failing_ = false;
    run_has_frames_ = false;
    last_frame_ns_ = now_ns();
    const auto started = Clock::now();
    const std::uint64_t frames_before = frames_;
    GError* error = nullptr;
    GstElement* pipeline = gst_parse_launch(pipeline_.description.c_str(), &error);
    Outcome outcome = Outcome::kFailed;
    std::string why;
    bool eos_passed = false;
    if (!pipeline || error) {
      why = std::string("cannot build the pipeline: ") + (error ? error->message : "?");
      g_clear_error(&error);
    } else {
      GstElement* faceqan = gst_bin_get_by_name(GST_BIN(pipeline), kFaceqanName);
      GstPad* pad = gst_element_get_static_pad(faceqan, "sink");
      gst_pad_add_probe(pad,
          static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
          &CameraRunner::on_faceqan_input, this, nullptr);
      gst_object_unref(pad);
      gst_object_unref(faceqan);
      if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        // The error message on the bus says why; watch() picks it up at once.
      }
      outcome = watch(pipeline, why, eos_passed);
      if (!eos_passed) end_stream(pipeline, outcome == Outcome::kFailed);
      gst_element_set_state(pipeline, GST_STATE_NULL);
    }
    if (pipeline) gst_object_unref(pipeline);
    {
      std::lock_guard<std::mutex> lock(status_mutex_);
      previous_runs_.faces_detected += status_.faces_detected;
      previous_runs_.faces_scored += status_.faces_scored;
      previous_runs_.skipped += status_.skipped;
      previous_runs_.dropped += status_.dropped;
      status_.faces_detected = status_.faces_scored = status_.skipped = status_.dropped = 0;
    }
    if (stop_requested_ || outcome == Outcome::kStopped) break;
    if (outcome == Outcome::kEnded) {
      log_line("camera " + camera_.id + ": end of " + camera_.uri);
      set_state("finished");
      finished_ = true;
      return;
    }
    if (outcome == Outcome::kLooped) continue;

    // A failure: back off 1 s, 2 s, 4 s ... up to max-delay; a camera that had been delivering
    // for reset-after seconds starts again at min-delay.
    const double ran_s = std::chrono::duration<double>(Clock::now() - started).count();
    if (frames_ > frames_before && ran_s >= config_.restart.reset_after_s) failures_in_a_row = 0;
    const double delay = std::min(config_.restart.max_delay_s,
                                  config_.restart.min_delay_s * std::pow(2.0, failures_in_a_row));
    ++failures_in_a_row;
    unsigned restart_number = 0;
    {
      std::lock_guard<std::mutex> lock(status_mutex_);
      if (!status_.outage_open) {
        // The outage began with the last frame, not when the failure was noticed (a silent
        // stall is noticed only after the watchdog's time).
        status_.outage_open = true;
        failed_at_ = Clock::time_point(std::chrono::nanoseconds(last_frame_ns_.load()));
      }
      status_.state = "restarting";
      restart_number = ++status_.restarts;
    }
    log_line("camera " + camera_.id + ": " + why + "; restart " + std::to_string(restart_number) +
             " in " + seconds_text(delay));
    if (!sleep_unless_stopped(delay)) break;
  }
  set_state("stopped");
  finished_ = true;
}

}  // namespace faceqan::service
