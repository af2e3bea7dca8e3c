#include "element_properties.h"

#include <gst/gst.h>

#include <memory>

namespace faceqan::service {
namespace {

struct ClassRef {
  explicit ClassRef(GType type) : klass(type ? g_type_class_ref(type) : nullptr) {}
  ~ClassRef() {
    if (klass) g_type_class_unref(klass);
  }
  ClassRef(const ClassRef&) = delete;
  ClassRef& operator=(const ClassRef&) = delete;
  gpointer klass;
};

GType element_type(const std::string& factory_name) {
  GstElementFactory* factory = gst_element_factory_find(factory_name.c_str());
  if (!factory) return 0;
  auto* loaded = GST_ELEMENT_FACTORY(gst_plugin_feature_load(GST_PLUGIN_FEATURE(factory)));
  gst_object_unref(factory);
  if (!loaded) return 0;
  const GType type = gst_element_factory_get_element_type(loaded);
  gst_object_unref(loaded);
  return type;
}

}  // namespace

std::string GstPropertyChecker::check(const std::string& factory, const std::string& name,
                                      const std::string& value) const {
  const GType type = element_type(factory);
  if (!type)
    return "element not found (is the faceqan plugin on GST_PLUGIN_PATH and up to date?)";
  ClassRef klass(type);
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_CLASS(klass.klass), name.c_str());
  if (!spec) return "unknown property '" + name + "' (gst-inspect-1.0 " + factory + " lists them)";
  if (!(spec->flags & G_PARAM_WRITABLE)) return "property '" + name + "' is read-only";
  GValue parsed = G_VALUE_INIT;
  g_value_init(&parsed, spec->value_type);
  const bool ok = gst_value_deserialize_with_pspec(&parsed, value.c_str(), spec);
  std::string problem;
  if (!ok) {
    problem = "wrong type: '" + value + "' is not a valid " + g_type_name(spec->value_type) +
              " for property '" + name + "'";
  } else if (g_param_value_validate(spec, &parsed)) {
    // validate() changed the value: it was outside the property's range.
    problem = "'" + value + "' is out of range for property '" + name + "'";
  }
  g_value_unset(&parsed);
  return problem;
}

bool element_has_property(const std::string& factory, const std::string& name) {
  const GType type = element_type(factory);
  if (!type) return false;
  ClassRef klass(type);
  return g_object_class_find_property(G_OBJECT_CLASS(klass.klass), name.c_str()) != nullptr;
}

}  // namespace faceqan::service
