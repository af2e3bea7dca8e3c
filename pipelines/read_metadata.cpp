// read_metadata: how an application reads the faceqan element's metadata. Runs
//   filesrc ! decodebin ! videoconvert ! faceqan ! appsink
// on a video and prints, per frame, each face's box, detector confidence and FaceQAN quality,
// read from the buffer's GstVideoRegionOfInterestMeta and its "detection" and "faceqan"
// parameters (docs/METADATA.md).
//
//   faceqan-read-metadata VIDEO [faceqan properties...]
//   e.g. faceqan-read-metadata clip.mp4 iterations=2 samples=4
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdio>
#include <string>

namespace {

void print_faces(GstBuffer* buffer) {
  std::printf("frame %" GST_TIME_FORMAT ":", GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
  int count = 0;
  gpointer state = nullptr;
  while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
             buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta);
    if (roi->roi_type != g_quark_from_static_string("face")) continue;
    double confidence = 0.0, quality = 0.0;
    gboolean scored = FALSE;
    if (GstStructure* detection = gst_video_region_of_interest_meta_get_param(roi, "detection")) {
      gst_structure_get_double(detection, "confidence", &confidence);
    }
    if (GstStructure* faceqan = gst_video_region_of_interest_meta_get_param(roi, "faceqan")) {
      gst_structure_get_double(faceqan, "quality", &quality);
      gst_structure_get_boolean(faceqan, "scored", &scored);
    }
    std::printf("\n  face %u,%u %ux%u confidence %.3f ", roi->x, roi->y, roi->w, roi->h,
                confidence);
    if (scored) {
      std::printf("quality %.3f", quality);
    } else {
      std::printf("not scored");
    }
    ++count;
  }
  std::printf("%s\n", count == 0 ? " no face" : "");
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: faceqan-read-metadata VIDEO [faceqan properties...]\n");
    return 2;
  }
  std::string properties;
  for (int i = 2; i < argc; ++i) properties += std::string(" ") + argv[i];
  gchar* location = g_strescape(argv[1], nullptr);
  const std::string description = std::string("filesrc location=\"") + location +
                                  "\" ! decodebin ! videoconvert ! faceqan" + properties +
                                  " ! appsink name=sink sync=false";
  g_free(location);

  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &error);
  if (error != nullptr) {
    std::fprintf(stderr, "read_metadata: %s\n", error->message);
    g_clear_error(&error);
    if (pipeline != nullptr) gst_object_unref(pipeline);
    return 2;
  }
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);

  // Pull frames until EOS (or an error, which ends the stream too).
  while (GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink))) {
    print_faces(gst_sample_get_buffer(sample));
    gst_sample_unref(sample);
  }

  int status = 0;
  GstBus* bus = gst_element_get_bus(pipeline);
  if (GstMessage* message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    gst_message_parse_error(message, &error, nullptr);
    std::fprintf(stderr, "read_metadata: %s\n", error->message);
    g_clear_error(&error);
    gst_message_unref(message);
    status = 1;
  }
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return status;
}
