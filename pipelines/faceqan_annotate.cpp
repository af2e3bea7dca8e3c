// faceqan-annotate: runs a pipeline description (one with a faceqan element, message=true) and
// writes each "faceqan", "faceqan-stats" and "faceqan-best" message as one JSON line, field names with
// underscores (stream-time -> stream_time). Ctrl-C ends the stream with EOS so that muxers
// finish their files.
//
//   faceqan-annotate LOG.jsonl 'filesrc location=in.mp4 ! decodebin ! videoconvert ! faceqan message=true ! fakesink'
//
// Exit status: 0 at EOS, 1 on a pipeline error (printed), 2 on bad usage.
#include <gst/gst.h>

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_interrupt(int) { interrupted = 1; }

std::string json_name(const char* field) {
  std::string name(field);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

nlohmann::json to_json(const GValue* value);

nlohmann::json structure_to_json(const GstStructure* structure) {
  nlohmann::json object = nlohmann::json::object();
  const int n = gst_structure_n_fields(structure);
  for (int i = 0; i < n; ++i) {
    const char* field = gst_structure_nth_field_name(structure, i);
    object[json_name(field)] = to_json(gst_structure_get_value(structure, field));
  }
  return object;
}

nlohmann::json to_json(const GValue* value) {
  const GType type = G_VALUE_TYPE(value);
  if (type == G_TYPE_UINT64) {
    const guint64 number = g_value_get_uint64(value);
    // Clock times: GST_CLOCK_TIME_NONE means "unknown".
    return number == GST_CLOCK_TIME_NONE ? nlohmann::json(nullptr) : nlohmann::json(number);
  }
  if (type == G_TYPE_INT64) return g_value_get_int64(value);
  if (type == G_TYPE_UINT) return g_value_get_uint(value);
  if (type == G_TYPE_INT) return g_value_get_int(value);
  if (type == G_TYPE_DOUBLE) return g_value_get_double(value);
  if (type == G_TYPE_FLOAT) return g_value_get_float(value);
  if (type == G_TYPE_BOOLEAN) return static_cast<bool>(g_value_get_boolean(value));
  if (type == G_TYPE_STRING) {
    const char* text = g_value_get_string(value);
    return text != nullptr ? nlohmann::json(text) : nlohmann::json(nullptr);
  }
  if (type == GST_TYPE_STRUCTURE) return structure_to_json(gst_value_get_structure(value));
  if (GST_VALUE_HOLDS_LIST(value) || GST_VALUE_HOLDS_ARRAY(value)) {
    nlohmann::json array = nlohmann::json::array();
    const bool list = GST_VALUE_HOLDS_LIST(value);
    const guint size = list ? gst_value_list_get_size(value) : gst_value_array_get_size(value);
    for (guint i = 0; i < size; ++i) {
      array.push_back(to_json(list ? gst_value_list_get_value(value, i)
                                   : gst_value_array_get_value(value, i)));
    }
    return array;
  }
  gchar* text = gst_value_serialize(value);
  nlohmann::json result = text != nullptr ? nlohmann::json(text) : nlohmann::json(nullptr);
  g_free(text);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    std::cerr << "usage: faceqan-annotate LOG.jsonl PIPELINE-DESCRIPTION...\n";
    return 2;
  }
  std::ofstream log(argv[1]);
  if (!log) {
    std::cerr << "faceqan-annotate: cannot write " << argv[1] << "\n";
    return 2;
  }
  std::string description;
  for (int i = 2; i < argc; ++i) description += std::string(i > 2 ? " " : "") + argv[i];

  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &error);
  if (pipeline == nullptr || error != nullptr) {
    std::cerr << "faceqan-annotate: bad pipeline: " << (error ? error->message : "?") << "\n";
    g_clear_error(&error);
    if (pipeline != nullptr) gst_object_unref(pipeline);
    return 2;
  }
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);

  int status = 0;
  GstBus* bus = gst_element_get_bus(pipeline);
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    status = 1;  // the error message on the bus says why
  }
  bool sent_eos = false;
  for (bool running = true; running;) {
    if (interrupted && !sent_eos) {
      gst_element_send_event(pipeline, gst_event_new_eos());
      sent_eos = true;
    }
    GstMessage* message = gst_bus_timed_pop(bus, 100 * GST_MSECOND);
    if (message == nullptr) continue;
    switch (GST_MESSAGE_TYPE(message)) {
      case GST_MESSAGE_ELEMENT: {
        const GstStructure* s = gst_message_get_structure(message);
        if (gst_structure_has_name(s, "faceqan") || gst_structure_has_name(s, "faceqan-stats") ||
            gst_structure_has_name(s, "faceqan-best")) {
          nlohmann::json line = structure_to_json(s);
          line["message"] = gst_structure_get_name(s);
          line["element"] = GST_OBJECT_NAME(message->src);
          line["received"] = static_cast<double>(g_get_monotonic_time()) / G_USEC_PER_SEC;
          log << line.dump() << '\n';
        }
        break;
      }
      case GST_MESSAGE_ERROR: {
        GError* err = nullptr;
        gchar* debug = nullptr;
        gst_message_parse_error(message, &err, &debug);
        std::cerr << "faceqan-annotate: error from " << GST_OBJECT_NAME(message->src) << ": "
                  << err->message << (debug ? std::string("\n  ") + debug : "") << "\n";
        g_clear_error(&err);
        g_free(debug);
        status = 1;
        running = false;
        break;
      }
      case GST_MESSAGE_EOS: running = false; break;
      default: break;
    }
    gst_message_unref(message);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return status;
}
