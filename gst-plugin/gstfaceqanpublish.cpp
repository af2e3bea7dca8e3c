/**
 * SECTION:element-faceqanpublish
 * @title: faceqanpublish
 *
 * Publishes what an upstream faceqan element found to an MQTT broker (method=mqtt) or a
 * JSON-lines file (method=file), in the manner of DL Streamer's gvametapublish. Every buffer
 * passes on untouched; the element never makes the video wait for the network: messages go into
 * a queue of at most max-queued messages that a thread of its own sends while the broker is
 * reachable.
 *
 * Topics (docs/METADATA.md, "Publishing"), with camera-id from faceqan's camera-id property
 * (this element's name if no faceqan is upstream):
 *
 * * `<topic>/<camera-id>/frames`: one message per frame (publish-frames: with-faces, all, none),
 *   the frame's faces in the layout of faceqan's json-location lines (gvametaconvert's).
 * * `<topic>/<camera-id>/tracks`: with faceqan's best-frames=true, `new` when a track appears,
 *   `update` when its best face improves, `end` when it ends (reason lost, eos, stopped, or
 *   source-error when a faceqan-end-reason event came before EOS, as `faceqan run` sends), with
 *   track_id, person_id, quality (absent while a track has no score), timestamp, box, and with
 *   attach-embedding (faceqan) the embedding, with attach-crop the best crop as base64 JPEG.
 * * `<topic>/<camera-id>/stats`: every stats-interval seconds and at EOS: faceqan's statistics
 *   ("faceqan"), this element's ("publisher": queued, sent, acknowledged, dropped,
 *   reconnects, pending, frames, the longest time a frame spent in this element), and, under
 *   `faceqan run`, the camera's ("source": restarts, reconnects, outage-seconds).
 *
 * Each message carries camera_id, a sequence number per camera and topic (assigned before
 * queueing: drops show as gaps), the frame's timestamp (ns) and wall_time (RFC 3339, UTC).
 *
 * Reliability: QoS 1 by default (at least once). A broker that is down at start or goes away is
 * retried with exponential back-off (0.1 s doubling up to max-reconnect-interval) and only warned
 * about; what was not acknowledged is sent again after the reconnection, so a consumer may see a
 * message twice and removes duplicates by sequence number. Beyond max-queued the oldest frames
 * messages are dropped first, a track event only when no frames message is left; stats count
 * the drops. At EOS the element waits up to flush-timeout for the queue to be acknowledged, then
 * lets EOS on; when stopped without EOS it publishes "end" for the open tracks, with reason
 * "stopped" (or the reason of a faceqan-end-reason event that came without EOS), and waits the
 * same way.
 *
 * Errors (the state change to PAUSED fails, naming the cause): an address that is not
 * host:port, a TLS file or password file that cannot be read. Refused credentials (CONNACK 4 or
 * 5), a failed TLS handshake or max-connect-attempts failed attempts post an error while running.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     faceqan camera-id=door best-frames=true ! faceqanpublish address=127.0.0.1:1883 ! fakesink
 * mosquitto_sub -h 127.0.0.1 -t 'faceqan/#' -v
 * ]| Publishes a clip's faces, tracks and statistics; mosquitto_sub prints them.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! faceqan best-frames=true overload=skip ! \
 *     faceqanpublish address=broker.lan:8883 tls-ca-file=ca.crt username=cam1 \
 *     password-file=/etc/faceqan/cam1.pass publish-frames=none attach-crop=true ! fakesink
 * ]| Only track events (with crops) and statistics, over TLS with a user name and password.
 */

#include "gstfaceqanpublish.h"

#include <gst/video/video.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "faceqan/publish/publisher.h"
#include "publish_json.h"
#include "publish_settings.h"
#include "stream_events.h"

GST_DEBUG_CATEGORY_STATIC(gst_faceqan_publish_debug);
#define GST_CAT_DEFAULT gst_faceqan_publish_debug

namespace {

using faceqan::gst::PublishFrames;
using faceqan::gst::PublishMethod;
using faceqan::gst::PublishSettings;
using faceqan::publish::MessageKind;
using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// Everything an element owns besides its pads; the streaming thread and the state changes use
// it one at a time (the publisher itself is thread-safe).
struct PublishState {
  PublishSettings settings;  // the properties, under the object lock
  PublishSettings active;    // the copy taken at start
  std::unique_ptr<faceqan::publish::Publisher> publisher;
  std::string camera;
  int width = 0, height = 0;
  std::map<guint, ordered_json> open_tracks;  // the latest event of each track not ended
  std::string eos_reason = "eos";  // a faceqan-end-reason event before EOS changes it
  ordered_json faceqan_stats;                 // the latest faceqan-stats from upstream
  ordered_json source_stats;                  // the latest faceqan-source-stats from upstream
  GstClockTime last_timestamp = GST_CLOCK_TIME_NONE;
  Clock::time_point last_stats = Clock::now();
  guint64 frames = 0;
  Clock::duration longest_frame{};
};

}  // namespace

struct _GstFaceQanPublish {
  GstBaseTransform parent;
  PublishState* state;
};

G_DEFINE_TYPE_WITH_CODE(GstFaceQanPublish, gst_faceqan_publish, GST_TYPE_BASE_TRANSFORM,
                        GST_DEBUG_CATEGORY_INIT(gst_faceqan_publish_debug, "faceqanpublish", 0,
                                                "FaceQAN results to MQTT or a file"));
GST_ELEMENT_REGISTER_DEFINE(faceqanpublish, "faceqanpublish", GST_RANK_NONE,
                            GST_TYPE_FACEQAN_PUBLISH);

namespace {

PublishState& state_of(gpointer element) { return *GST_FACEQAN_PUBLISH(element)->state; }

void publish_stats(GstFaceQanPublish* self) {
  PublishState& st = *self->state;
  const faceqan::publish::PublisherStats p = st.publisher->stats();
  ordered_json body;
  body["timestamp"] = GST_CLOCK_TIME_IS_VALID(st.last_timestamp) ? ordered_json(st.last_timestamp)
                                                                 : ordered_json(nullptr);
  if (!st.faceqan_stats.empty()) body["faceqan"] = st.faceqan_stats;
  if (!st.source_stats.empty()) body["source"] = st.source_stats;
  body["publisher"] = {
      {"queued", p.queued},
      {"sent", p.sent},
      {"acknowledged", p.acknowledged},
      {"dropped", p.dropped},
      {"dropped_frames", p.dropped_frames},
      {"dropped_tracks", p.dropped_tracks},
      {"dropped_stats", p.dropped_stats},
      {"reconnects", p.reconnects},
      {"pending", p.pending},
      {"connected", p.connected},
      {"frames", st.frames},
      {"max_frame_latency",
       std::chrono::duration_cast<std::chrono::nanoseconds>(st.longest_frame).count()}};
  st.publisher->publish(MessageKind::kStats, st.camera, body);
  st.last_stats = Clock::now();
}

void maybe_publish_stats(GstFaceQanPublish* self) {
  PublishState& st = *self->state;
  if (st.active.stats_interval == 0) return;
  if (Clock::now() - st.last_stats >= std::chrono::seconds(st.active.stats_interval)) {
    publish_stats(self);
  }
}

// Ends every open track with `reason` (faceqan ended none of them).
void end_open_tracks(GstFaceQanPublish* self, const char* reason) {
  PublishState& st = *self->state;
  for (auto& [track, last] : st.open_tracks) {
    ordered_json body = last;
    body["event"] = "end";
    body["reason"] = reason;
    body.erase("crop");
    st.publisher->publish(MessageKind::kTracks, st.camera, body);
  }
  st.open_tracks.clear();
}

void flush_queue(GstFaceQanPublish* self) {
  PublishState& st = *self->state;
  if (!st.publisher->flush(std::chrono::milliseconds(st.active.flush_timeout))) {
    const auto stats = st.publisher->stats();
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                        ("%llu messages were not acknowledged within flush-timeout (%u ms)",
                         static_cast<unsigned long long>(stats.pending), st.active.flush_timeout),
                        (nullptr));
  }
}

gboolean publish_start(GstBaseTransform* trans) {
  auto* self = GST_FACEQAN_PUBLISH(trans);
  PublishState& st = *self->state;
  GST_OBJECT_LOCK(self);
  st.active = st.settings;
  GST_OBJECT_UNLOCK(self);
  gchar* name = gst_element_get_name(GST_ELEMENT(self));
  st.camera = name;
  g_free(name);
  st.open_tracks.clear();
  st.eos_reason = "eos";
  st.faceqan_stats = ordered_json();
  st.frames = 0;
  st.longest_frame = {};
  st.last_stats = Clock::now();
  try {
    if (st.active.method == PublishMethod::kFile) {
      st.publisher = faceqan::publish::make_file_publisher(st.active.file_path, st.active.mqtt.topic);
    } else {
      faceqan::publish::PublisherCallbacks callbacks;
      GstElement* element = GST_ELEMENT(self);
      // Called on the publisher's thread, which stops before the element goes.
      callbacks.on_warning = [element](const std::string& text) {
        GST_ELEMENT_WARNING(element, RESOURCE, OPEN_WRITE, ("%s", text.c_str()), (nullptr));
      };
      callbacks.on_connected = [element](const std::string& text) {
        GST_INFO_OBJECT(element, "%s", text.c_str());
      };
      callbacks.on_error = [element](faceqan::publish::PublishFailure kind,
                                     const std::string& text) {
        if (kind == faceqan::publish::PublishFailure::kRefused) {
          GST_ELEMENT_ERROR(element, RESOURCE, NOT_AUTHORIZED, ("%s", text.c_str()), (nullptr));
        } else {
          GST_ELEMENT_ERROR(element, RESOURCE, OPEN_WRITE, ("%s", text.c_str()), (nullptr));
        }
      };
      st.publisher = faceqan::publish::make_mqtt_publisher(st.active.mqtt, std::move(callbacks));
    }
  } catch (const faceqan::publish::PublishError& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", e.what()), (nullptr));
    return FALSE;
  }
  return TRUE;
}

gboolean publish_stop(GstBaseTransform* trans) {
  auto* self = GST_FACEQAN_PUBLISH(trans);
  PublishState& st = *self->state;
  if (!st.publisher) return TRUE;
  // Stopped without EOS: the tracks faceqan could not end in the stream end here, with the reason
  // an end-reason event gave (`faceqan run` sends one here when a failed camera's stream cannot
  // drain), else "stopped".
  if (!st.open_tracks.empty()) {
    end_open_tracks(self, st.eos_reason == "eos" ? "stopped" : st.eos_reason.c_str());
    flush_queue(self);
  }
  st.publisher->stop();
  st.publisher.reset();
  return TRUE;
}

GstFlowReturn publish_transform_ip(GstBaseTransform* trans, GstBuffer* buffer) {
  auto* self = GST_FACEQAN_PUBLISH(trans);
  PublishState& st = *self->state;
  const Clock::time_point start = Clock::now();
  ++st.frames;
  st.last_timestamp = GST_BUFFER_PTS(buffer);
  if (st.active.frames != PublishFrames::kNone) {
    if (st.active.frames == PublishFrames::kAll || faceqan::gst::count_faces(buffer) > 0) {
      st.publisher->publish(MessageKind::kFrames, st.camera,
                            faceqan::gst::frame_body(buffer, st.width, st.height));
    }
  }
  maybe_publish_stats(self);
  st.longest_frame = std::max(st.longest_frame, Clock::now() - start);
  return GST_FLOW_OK;
}

void on_track_event(GstFaceQanPublish* self, const GstStructure* s) {
  PublishState& st = *self->state;
  ordered_json body = faceqan::gst::track_body(s, st.active.attach_crop);
  guint track = 0;
  gst_structure_get_uint(s, "track-id", &track);
  const char* event = gst_structure_get_string(s, "event");
  if (event != nullptr && std::string(event) == "end") {
    st.open_tracks.erase(track);
  } else {
    st.open_tracks[track] = body;
  }
  st.publisher->publish(MessageKind::kTracks, st.camera, body);
}

gboolean publish_sink_event(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_FACEQAN_PUBLISH(trans);
  PublishState& st = *self->state;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      GstVideoInfo info;
      if (gst_video_info_from_caps(&info, caps)) {
        st.width = GST_VIDEO_INFO_WIDTH(&info);
        st.height = GST_VIDEO_INFO_HEIGHT(&info);
      }
      break;
    }
    case GST_EVENT_CUSTOM_DOWNSTREAM_STICKY: {
      const std::string camera = faceqan::gst::camera_of(event);
      if (!camera.empty()) st.camera = camera;
      break;
    }
    case GST_EVENT_CUSTOM_DOWNSTREAM: {
      const GstStructure* s = gst_event_get_structure(event);
      if (s != nullptr && st.publisher) {
        if (gst_structure_has_name(s, faceqan::gst::kTrackEvent)) {
          on_track_event(self, s);
        } else if (gst_structure_has_name(s, faceqan::gst::kStatsEvent)) {
          st.faceqan_stats = faceqan::gst::structure_json(s);
        } else if (gst_structure_has_name(s, faceqan::gst::kSourceStatsEvent)) {
          st.source_stats = faceqan::gst::structure_json(s);
        } else if (gst_structure_has_name(s, faceqan::gst::kEndReasonEvent)) {
          if (const char* reason = gst_structure_get_string(s, "reason")) st.eos_reason = reason;
        }
      }
      break;
    }
    case GST_EVENT_EOS:
      if (st.publisher) {
        end_open_tracks(self, st.eos_reason.c_str());
        publish_stats(self);
        flush_queue(self);
      }
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_faceqan_publish_parent_class)->sink_event(trans, event);
}

void publish_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  GST_OBJECT_LOCK(object);
  const bool known = faceqan::gst::set_publish_property(state_of(object).settings, id, value);
  GST_OBJECT_UNLOCK(object);
  if (!known) G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

void publish_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  GST_OBJECT_LOCK(object);
  const bool known = faceqan::gst::get_publish_property(state_of(object).settings, id, value);
  GST_OBJECT_UNLOCK(object);
  if (!known) G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

void publish_finalize(GObject* object) {
  delete GST_FACEQAN_PUBLISH(object)->state;
  G_OBJECT_CLASS(gst_faceqan_publish_parent_class)->finalize(object);
}

GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

}  // namespace

static void gst_faceqan_publish_class_init(GstFaceQanPublishClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  gobject_class->set_property = publish_set_property;
  gobject_class->get_property = publish_get_property;
  gobject_class->finalize = publish_finalize;
  faceqan::gst::install_publish_properties(gobject_class);
  gst_element_class_set_static_metadata(
      element_class, "FaceQAN publisher", "Filter/Metadata",
      "Publishes faceqan's faces, track events and statistics to an MQTT broker or a JSON-lines "
      "file without holding up the video",
      "faceqan-gst");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  trans_class->start = GST_DEBUG_FUNCPTR(publish_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(publish_stop);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(publish_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(publish_sink_event);
  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->transform_ip_on_passthrough = TRUE;
}

static void gst_faceqan_publish_init(GstFaceQanPublish* self) {
  self->state = new PublishState();
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}
