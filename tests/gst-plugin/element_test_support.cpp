#include "element_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <thread>

#include "test_support.h"

namespace faceqan::test {

std::vector<float> embed_bgr_crop(const RecognitionModel& model, const cv::Mat& bgr) {
  cv::Mat rgb, floats;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(floats, CV_32FC3, 1.0 / 255);
  FaceImage image{reinterpret_cast<const float*>(floats.data), floats.cols, floats.rows, 0};
  return model.embed({image}).at(0);
}

void init_gstreamer() {
  if (!gst_is_initialized()) gst_init(nullptr, nullptr);
  GstElementFactory* factory = gst_element_factory_find("faceqan");
  ASSERT_NE(factory, nullptr) << "the faceqan element is not on GST_PLUGIN_PATH";
  gst_object_unref(factory);
}

cv::Mat read_photo(const std::string& relative) {
  const cv::Mat image = cv::imread(data_file(relative), cv::IMREAD_COLOR);
  EXPECT_FALSE(image.empty()) << relative;
  return image(cv::Rect(0, 0, image.cols & ~1, image.rows & ~1)).clone();
}

GstBuffer* make_frame(const cv::Mat& bgr, GstVideoFormat format, GstClockTime pts,
                      GstClockTime duration) {
  GstVideoInfo in, out;
  gst_video_info_set_format(&in, GST_VIDEO_FORMAT_BGR, bgr.cols, bgr.rows);
  gst_video_info_set_format(&out, format, bgr.cols, bgr.rows);
  GstBuffer* source = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&in), nullptr);
  GstBuffer* target = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&out), nullptr);
  GstVideoFrame src_frame, dst_frame;
  gst_video_frame_map(&src_frame, &in, source, GST_MAP_WRITE);
  for (int row = 0; row < bgr.rows; ++row) {
    memcpy(static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&src_frame, 0)) +
               row * GST_VIDEO_FRAME_PLANE_STRIDE(&src_frame, 0),
           bgr.ptr(row), bgr.cols * 3);
  }
  gst_video_frame_map(&dst_frame, &out, target, GST_MAP_WRITE);
  GstVideoConverter* converter = gst_video_converter_new(&in, &out, nullptr);
  gst_video_converter_frame(converter, &src_frame, &dst_frame);
  gst_video_converter_free(converter);
  gst_video_frame_unmap(&src_frame);
  gst_video_frame_unmap(&dst_frame);
  gst_buffer_unref(source);
  GST_BUFFER_PTS(target) = pts;
  GST_BUFFER_DURATION(target) = duration;
  return target;
}

std::string frame_caps(const cv::Mat& bgr, GstVideoFormat format) {
  return std::string("video/x-raw,format=") + gst_video_format_to_string(format) +
         ",width=" + std::to_string(bgr.cols) + ",height=" + std::to_string(bgr.rows) +
         ",framerate=25/1";
}

GstHarness* faceqan_harness(const std::string& properties, const cv::Mat& bgr,
                            GstVideoFormat format) {
  GstHarness* h = gst_harness_new_parse(("faceqan " + properties).c_str());
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_object_unref(bus);
  gst_harness_set_src_caps_str(h, frame_caps(bgr, format).c_str());
  return h;
}

std::vector<PublishedFace> published_faces(GstBuffer* buffer) {
  std::vector<PublishedFace> faces;
  gpointer state = nullptr;
  while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
             buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta);
    if (roi->roi_type != g_quark_from_string("face")) continue;
    PublishedFace face;
    face.x = roi->x;
    face.y = roi->y;
    face.width = roi->w;
    face.height = roi->h;
    if (GstStructure* d = gst_video_region_of_interest_meta_get_param(roi, "detection")) {
      gst_structure_get_double(d, "x_min", &face.x_min);
      gst_structure_get_double(d, "y_min", &face.y_min);
      gst_structure_get_double(d, "x_max", &face.x_max);
      gst_structure_get_double(d, "y_max", &face.y_max);
      gst_structure_get_double(d, "confidence", &face.confidence);
      if (const gchar* label = gst_structure_get_string(d, "label")) face.label = label;
    }
    if (GstStructure* q = gst_video_region_of_interest_meta_get_param(roi, "faceqan")) {
      face.has_faceqan = true;
      gboolean scored = FALSE;
      gst_structure_get_double(q, "quality", &face.quality);
      if (double norm = 0; gst_structure_get_double(q, "embedding-norm", &norm)) face.embedding_norm = norm;
      gst_structure_get_boolean(q, "scored", &scored);
      face.scored = scored;
      if (const GValue* array = gst_structure_get_value(q, "landmarks")) {
        for (guint i = 0; i < gst_value_array_get_size(array); ++i) {
          face.landmarks.push_back(g_value_get_double(gst_value_array_get_value(array, i)));
        }
      }
      if (const GValue* array = gst_structure_get_value(q, "embedding")) {
        for (guint i = 0; i < gst_value_array_get_size(array); ++i) {
          face.embedding.push_back(g_value_get_float(gst_value_array_get_value(array, i)));
        }
      }
    }
    faces.push_back(face);
  }
  return faces;
}

HarnessOutput::~HarnessOutput() {
  for (GstBuffer* buffer : buffers) gst_buffer_unref(buffer);
}

void push_eos_and_collect(GstHarness* h, HarnessOutput& out) {
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  for (;;) {
    while (GstBuffer* b = gst_harness_try_pull(h)) out.buffers.push_back(b);
    GstEvent* event = gst_harness_pull_event(h);  // waits (up to the harness's timeout)
    ASSERT_NE(event, nullptr) << "no EOS";
    const GstEventType type = GST_EVENT_TYPE(event);
    gst_event_unref(event);
    if (type == GST_EVENT_GAP) ++out.gaps;
    if (type == GST_EVENT_EOS) {
      out.eos = true;
      break;
    }
  }
  while (GstBuffer* b = gst_harness_try_pull(h)) out.buffers.push_back(b);
}

std::string error_text(GstMessage* error) {
  GError* gerror = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(error, &gerror, &debug);
  std::string text = std::string(gerror->message) + " | " + (debug ? debug : "");
  g_clear_error(&gerror);
  g_free(debug);
  return text;
}

std::string pop_error(GstElement* element) {
  GstBus* bus = gst_element_get_bus(element);
  std::string text;
  if (GstMessage* message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    text = error_text(message);
    gst_message_unref(message);
  }
  gst_object_unref(bus);
  return text;
}

GstBuffer* pull_within(GstHarness* h, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (GstBuffer* buffer = gst_harness_try_pull(h)) return buffer;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return nullptr;
}

std::vector<GstMessage*> pop_messages(GstElement* element, const char* name) {
  std::vector<GstMessage*> messages;
  GstBus* bus = gst_element_get_bus(element);
  while (GstMessage* message = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) {
    if (name == nullptr || gst_structure_has_name(gst_message_get_structure(message), name)) {
      messages.push_back(message);
    } else {
      gst_message_unref(message);
    }
  }
  gst_object_unref(bus);
  return messages;
}

}  // namespace faceqan::test
