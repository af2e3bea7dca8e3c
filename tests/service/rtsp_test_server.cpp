// faceqan-rtsp-test-server: an RTSP server for the service's tests and bench (gst-rtsp-server).
// It decodes the first --frames frames of a clip once, scaled to --width x --height, and serves
// them looped forever as H.264 at the clip's frame rate on rtsp://127.0.0.1:PORT/clip, every
// client its own stream from the first frame. Loopback only. Killing it is how a test makes a
// camera drop.
//   faceqan-rtsp-test-server --port P --clip FILE [--frames N] [--width W --height H]
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Clip {
  std::vector<GstBuffer*> frames;
  GstCaps* caps = nullptr;
  double fps = 25;
};

Clip decode_clip(const std::string& path, int max_frames, int width, int height) {
  Clip clip;
  gchar* launch = g_strdup_printf(
      "filesrc location=\"%s\" ! decodebin ! videoconvert ! videoscale ! "
      "video/x-raw,format=I420,width=%d,height=%d ! appsink name=sink sync=false",
      path.c_str(), width, height);
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(launch, &error);
  g_free(launch);
  if (!pipeline) {
    std::fprintf(stderr, "rtsp-test-server: %s\n", error ? error->message : "cannot decode");
    std::exit(1);
  }
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  while (static_cast<int>(clip.frames.size()) < max_frames) {
    GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
    if (!sample) break;
    if (!clip.caps) {
      clip.caps = gst_caps_copy(gst_sample_get_caps(sample));
      gint num = 0, den = 1;
      if (gst_structure_get_fraction(gst_caps_get_structure(clip.caps, 0), "framerate", &num, &den) &&
          num > 0)
        clip.fps = static_cast<double>(num) / den;
    }
    clip.frames.push_back(gst_buffer_ref(gst_sample_get_buffer(sample)));
    gst_sample_unref(sample);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  if (clip.frames.empty()) {
    std::fprintf(stderr, "rtsp-test-server: no frames decoded from %s\n", path.c_str());
    std::exit(1);
  }
  return clip;
}

// One client's stream: the clip from its first frame, looped, paced at the frame rate.
struct Feed {
  const Clip* clip;
  std::size_t next = 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

void on_need_data(GstAppSrc* src, guint, gpointer data) {
  auto* feed = static_cast<Feed*>(data);
  const Clip& clip = *feed->clip;
  const auto due = feed->start + std::chrono::duration<double>(feed->next / clip.fps);
  std::this_thread::sleep_until(due);
  GstBuffer* frame = gst_buffer_copy(clip.frames[feed->next % clip.frames.size()]);
  GST_BUFFER_PTS(frame) = static_cast<GstClockTime>(feed->next * GST_SECOND / clip.fps);
  GST_BUFFER_DTS(frame) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(frame) = static_cast<GstClockTime>(GST_SECOND / clip.fps);
  ++feed->next;
  gst_app_src_push_buffer(src, frame);
}

void on_media_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer data) {
  const Clip* clip = static_cast<const Clip*>(data);
  GstElement* bin = gst_rtsp_media_get_element(media);
  GstElement* src = gst_bin_get_by_name_recurse_up(GST_BIN(bin), "src");
  g_object_set(src, "caps", clip->caps, "format", GST_FORMAT_TIME, nullptr);
  auto* feed = new Feed{clip};
  GstAppSrcCallbacks callbacks{};
  callbacks.need_data = on_need_data;
  gst_app_src_set_callbacks(GST_APP_SRC(src), &callbacks, feed,
                            [](gpointer p) { delete static_cast<Feed*>(p); });
  gst_object_unref(src);
  gst_object_unref(bin);
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  std::string clip_path;
  int port = 0, frames = 100, width = 640, height = 360;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const char* value = argv[i + 1];
    if (key == "--port") port = std::atoi(value);
    else if (key == "--clip") clip_path = value;
    else if (key == "--frames") frames = std::atoi(value);
    else if (key == "--width") width = std::atoi(value);
    else if (key == "--height") height = std::atoi(value);
  }
  if (port <= 0 || clip_path.empty()) {
    std::fprintf(stderr, "usage: %s --port P --clip FILE [--frames N] [--width W --height H]\n",
                 argv[0]);
    return 2;
  }
  static Clip clip = decode_clip(clip_path, frames, width, height);

  GstRTSPServer* server = gst_rtsp_server_new();
  gst_rtsp_server_set_address(server, "127.0.0.1");
  gst_rtsp_server_set_service(server, std::to_string(port).c_str());
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory,
      "( appsrc name=src is-live=true ! x264enc tune=zerolatency speed-preset=ultrafast "
      "key-int-max=15 bitrate=1000 ! rtph264pay name=pay0 pt=96 config-interval=1 )");
  gst_rtsp_media_factory_set_shared(factory, FALSE);
  g_signal_connect(factory, "media-configure", G_CALLBACK(on_media_configure), &clip);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, "/clip", factory);
  g_object_unref(mounts);
  if (gst_rtsp_server_attach(server, nullptr) == 0) {
    std::fprintf(stderr, "rtsp-test-server: cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  std::printf("rtsp-test-server: rtsp://127.0.0.1:%d/clip (%zu frames at %.2f fps, looped)\n", port,
              clip.frames.size(), clip.fps);
  std::fflush(stdout);
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  g_main_loop_run(loop);
  return 0;
}
