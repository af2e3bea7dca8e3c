// faceqanpublish's throughput and CPU cost (issue 17): a synthetic source of 64x48 frames with 5
// "face" metas in faceqan's layout, pushed through the element (GstHarness) to a Mosquitto broker
// started here on a free loopback port, with one subscriber (mosquitto_sub) consuming. Prints a
// Markdown table (docs/PERFORMANCE.md):
//
//   build/bin/faceqan-bench-publish [SECONDS_AT_30FPS [UNPACED_FRAMES]]
//
// CPU is this process's user+system time (the harness, the element and its publisher thread;
// not the broker), less the same loop through `identity`, per frame and as a share of one core.
#include <arpa/inet.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kWidth = 64, kHeight = 48, kFaces = 5;
constexpr GstClockTime kFrame = GST_SECOND / 30;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  close(fd);
  return ntohs(a.sin_port);
}

bool accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

pid_t spawn(const std::vector<std::string>& argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

GstBuffer* frame(guint64 index) {
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, kWidth * kHeight * 3, nullptr);
  GST_BUFFER_PTS(buffer) = index * kFrame;
  GST_BUFFER_DURATION(buffer) = kFrame;
  for (int f = 0; f < kFaces; ++f) {
    const guint x = 2 + 12 * f, y = 10, w = 10, h = 12;
    auto* roi = gst_buffer_add_video_region_of_interest_meta(buffer, "face", x, y, w, h);
    gst_video_region_of_interest_meta_add_param(
        roi, gst_structure_new("detection", "x_min", G_TYPE_DOUBLE, double(x) / kWidth, "y_min",
                               G_TYPE_DOUBLE, double(y) / kHeight, "x_max", G_TYPE_DOUBLE,
                               double(x + w) / kWidth, "y_max", G_TYPE_DOUBLE,
                               double(y + h) / kHeight, "confidence", G_TYPE_DOUBLE, 0.9,
                               "label_id", G_TYPE_INT, 0, "label", G_TYPE_STRING, "face", nullptr));
    GstStructure* q = gst_structure_new(
        "faceqan", "quality", G_TYPE_DOUBLE, 0.61, "mean-similarity", G_TYPE_DOUBLE, 0.93,
        "std-similarity", G_TYPE_DOUBLE, 0.021, "symmetry", G_TYPE_DOUBLE, 0.97, "scored",
        G_TYPE_BOOLEAN, TRUE, "track-id", G_TYPE_UINT, guint(f + 1), nullptr);
    GValue landmarks = G_VALUE_INIT;
    gst_value_array_init(&landmarks, 10);
    for (int i = 0; i < 10; ++i) {
      GValue v = G_VALUE_INIT;
      g_value_init(&v, G_TYPE_DOUBLE);
      g_value_set_double(&v, x + i * 1.37);
      gst_value_array_append_and_take_value(&landmarks, &v);
    }
    gst_structure_take_value(q, "landmarks", &landmarks);
    gst_video_region_of_interest_meta_add_param(roi, q);
  }
  return buffer;
}

struct Run {
  double wall = 0, cpu = 0;
  int frames = 0;
  guint64 acknowledged = 0;
};

// Pushes `frames` frames through `description` (paced at 30 frames/s or as fast as it goes),
// then EOS (which waits for the acknowledgements).
Run run(const std::string& description, int frames, bool paced) {
  GstHarness* h = gst_harness_new_parse(description.c_str());
  gst_harness_set_src_caps_str(h, "video/x-raw,format=RGB,width=64,height=48,framerate=30/1");
  Run r;
  r.frames = frames;
  const double cpu0 = cpu_seconds();
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < frames; ++i) {
    gst_harness_push(h, frame(i));
    gst_buffer_unref(gst_harness_pull(h));
    if (paced) std::this_thread::sleep_until(start + (i + 1) * std::chrono::nanoseconds(kFrame));
  }
  gst_harness_push_event(h, gst_event_new_eos());
  r.wall = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu = cpu_seconds() - cpu0;
  gst_harness_teardown(h);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 10;
  const int unpaced = argc > 2 ? std::atoi(argv[2]) : 6000;
  const std::string dir = "/tmp/faceqan-bench-publish-" + std::to_string(getpid());
  std::system(("mkdir -p " + dir).c_str());
  const int port = free_port();
  {
    std::ofstream conf(dir + "/mosquitto.conf");
    if (geteuid() == 0) conf << "user root\n";
    conf << "listener " << port << " 127.0.0.1\nallow_anonymous true\nlog_dest none\n";
  }
  const pid_t broker = spawn({"/usr/sbin/mosquitto", "-c", dir + "/mosquitto.conf"});
  for (int i = 0; i < 500 && !accepts(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!accepts(port)) {
    std::fprintf(stderr, "publish_bench: mosquitto did not start on port %d\n", port);
    return 1;
  }
  const pid_t subscriber = spawn({"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p",
                                  std::to_string(port), "-t", "bench/#", "-q", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string publish = "faceqanpublish topic=bench stats-interval=1 flush-timeout=60000 "
                              "address=127.0.0.1:" + std::to_string(port);

  std::printf("| run | frames | wall s | messages/s | CPU ms per frame | CPU %% of one core |\n");
  std::printf("|---|---|---|---|---|---|\n");
  auto row = [](const char* name, const Run& r, const Run& base, double messages) {
    const double cpu = r.cpu - base.cpu * r.frames / base.frames;
    std::printf("| %s | %d | %.2f | %.0f | %.3f | %.1f |\n", name, r.frames, r.wall,
                messages / r.wall, 1000 * cpu / r.frames, 100 * cpu / r.wall);
  };
  const int paced_frames = seconds * 30;
  const Run base_paced = run("identity", paced_frames, true);
  const Run paced = run(publish, paced_frames, true);
  row("30 frames/s, 5 faces, qos=1", paced, base_paced, paced_frames + seconds);
  const Run base_fast = run("identity", unpaced, false);
  const Run fast = run(publish, unpaced, false);
  row("unpaced (until all acknowledged), 5 faces, qos=1", fast, base_fast,
      unpaced + fast.wall);
  const Run fast0 = run(publish + " qos=0", unpaced, false);
  row("unpaced, 5 faces, qos=0", fast0, base_fast, unpaced + fast0.wall);
  kill(subscriber, SIGTERM);
  kill(broker, SIGTERM);
  waitpid(subscriber, nullptr, 0);
  waitpid(broker, nullptr, 0);
  std::system(("rm -rf " + dir).c_str());
  return 0;
}
