// How a row of the faceqan element's property table (element_properties.cpp) reads and writes
// its Settings member: generic for a member reached by a path of member pointers, whatever its
// type (string, bool, enum, integer, float, double, milliseconds).
#pragma once

#include <gst/gst.h>

#include <charconv>
#include <cmath>
#include <chrono>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "element_settings.h"

namespace faceqan::gst {

// How a row reads and writes its Settings member.
struct Binding {
  void (*set)(Settings&, const GValue*);
  void (*get)(const Settings&, GValue*);
};

// The member at the end of a path of member pointers (&Settings::faces, &FaceSettings::budget,
// &BudgetSettings::margin): one property, however deep the library struct holding it.
template <auto... Path>
auto& member(Settings& s) {
  return (s .* ... .* Path);
}
template <auto... Path>
const auto& member(const Settings& s) {
  return (s .* ... .* Path);
}

// A float member (the detector's thresholds) reads back as the shortest decimal that is that
// float: 0.6 set, 0.6 read, although the detector holds 0.6f.
inline double float_as_double(float value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text - 1, value).ptr;
  *end = '\0';
  return std::strtod(text, nullptr);
}

// Numbers: the GValue's type (the property's) decides how it is read and written; the member
// may be of another arithmetic type (min-face-size is a guint property and a float member).
template <class T>
void number_from_value(T& field, const GValue* value) {
  switch (G_VALUE_TYPE(value)) {
    case G_TYPE_DOUBLE: field = static_cast<T>(g_value_get_double(value)); break;
    case G_TYPE_INT64: field = static_cast<T>(g_value_get_int64(value)); break;
    default: field = static_cast<T>(g_value_get_uint(value)); break;
  }
}

template <class T>
void number_to_value(const T& field, GValue* value) {
  switch (G_VALUE_TYPE(value)) {
    case G_TYPE_DOUBLE:
      if constexpr (std::is_same_v<T, float>) {
        g_value_set_double(value, float_as_double(field));
      } else {
        g_value_set_double(value, static_cast<double>(field));
      }
      break;
    case G_TYPE_INT64: g_value_set_int64(value, static_cast<gint64>(field)); break;
    default: g_value_set_uint(value, static_cast<guint>(field)); break;
  }
}

template <class T>
void from_value(T& field, const GValue* value) {
  if constexpr (std::is_same_v<T, std::string>) {
    const gchar* text = g_value_get_string(value);
    field = text != nullptr ? text : "";
  } else if constexpr (std::is_same_v<T, bool>) {
    field = g_value_get_boolean(value);
  } else if constexpr (std::is_enum_v<T>) {
    field = static_cast<T>(g_value_get_enum(value));
  } else if constexpr (std::is_same_v<T, std::chrono::milliseconds>) {
    field = std::chrono::milliseconds(g_value_get_uint(value));
  } else {
    number_from_value(field, value);
  }
}

template <class T>
void to_value(const T& field, GValue* value) {
  if constexpr (std::is_same_v<T, std::string>) {
    g_value_set_string(value, field.c_str());
  } else if constexpr (std::is_same_v<T, bool>) {
    g_value_set_boolean(value, field);
  } else if constexpr (std::is_enum_v<T>) {
    g_value_set_enum(value, static_cast<gint>(field));
  } else if constexpr (std::is_same_v<T, std::chrono::milliseconds>) {
    g_value_set_uint(value, static_cast<guint>(field.count()));
  } else {
    number_to_value(field, value);
  }
}

template <auto... Path>
constexpr Binding field() {
  return {[](Settings& s, const GValue* v) { from_value(member<Path...>(s), v); },
          [](const Settings& s, GValue* v) { to_value(member<Path...>(s), v); }};
}

// device: empty means the default.
constexpr Binding device_field() {
  return {[](Settings& s, const GValue* v) {
            const gchar* text = g_value_get_string(v);
            s.models.device = text != nullptr && *text != '\0' ? text : kDefaultDevice;
          },
          [](const Settings& s, GValue* v) { g_value_set_string(v, s.models.device.c_str()); }};
}

// budget-min-interval: milliseconds on the property, seconds in BudgetSettings.
constexpr Binding budget_min_interval_field() {
  return {[](Settings& s, const GValue* v) {
            s.faces.budget.min_interval = g_value_get_uint(v) / 1000.0;
          },
          [](const Settings& s, GValue* v) {
            g_value_set_uint(v, static_cast<guint>(std::lround(s.faces.budget.min_interval * 1000)));
          }};
}

}  // namespace faceqan::gst
