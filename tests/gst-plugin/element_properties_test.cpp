// The faceqan element's properties, declared once in a table (element_properties.cpp): every
// property starts at its documented default and reads back what was set. No models.
#include <gtest/gtest.h>

#include <gst/gst.h>

#include <string>

#include "element_test_support.h"

namespace faceqan::test {
namespace {

class FaceQanProperties : public ::testing::Test {
 protected:
  void SetUp() override {
    init_gstreamer();
    element_ = gst_element_factory_make("faceqan", nullptr);
    ASSERT_NE(element_, nullptr);
    specs_ = g_object_class_list_properties(G_OBJECT_GET_CLASS(element_), &count_);
  }
  void TearDown() override {
    g_free(specs_);
    if (element_ != nullptr) gst_object_unref(element_);
  }
  // The element's own properties (not GstObject's name and parent).
  bool own(GParamSpec* spec) const { return spec->owner_type == G_OBJECT_TYPE(element_); }

  GstElement* element_ = nullptr;
  GParamSpec** specs_ = nullptr;
  guint count_ = 0;
};

TEST_F(FaceQanProperties, EveryPropertyStartsAtItsDefault) {
  guint checked = 0;
  for (guint i = 0; i < count_; ++i) {
    GParamSpec* spec = specs_[i];
    if (!own(spec)) continue;
    GValue value = G_VALUE_INIT;
    g_value_init(&value, spec->value_type);
    g_object_get_property(G_OBJECT(element_), spec->name, &value);
    const GValue* expected = g_param_spec_get_default_value(spec);
    EXPECT_EQ(g_param_values_cmp(spec, &value, expected), 0)
        << spec->name << " starts at " << gst_value_serialize(&value) << ", documented default "
        << gst_value_serialize(expected);
    g_value_unset(&value);
    ++checked;
  }
  EXPECT_EQ(checked, 43u);  // 41, camera-id (issue 17) and budget-max-pending (issue 14)
}

// A value other than the default for each kind of property, inside its range.
void other_value(GParamSpec* spec, GValue* value) {
  if (G_IS_PARAM_SPEC_STRING(spec)) {
    g_value_set_string(value, "some-value");
  } else if (G_IS_PARAM_SPEC_BOOLEAN(spec)) {
    g_value_set_boolean(value, !G_PARAM_SPEC_BOOLEAN(spec)->default_value);
  } else if (G_IS_PARAM_SPEC_UINT(spec)) {
    const GParamSpecUInt* u = G_PARAM_SPEC_UINT(spec);
    g_value_set_uint(value, u->default_value != u->maximum ? u->maximum : u->minimum);
  } else if (G_IS_PARAM_SPEC_INT64(spec)) {
    g_value_set_int64(value, G_PARAM_SPEC_INT64(spec)->default_value + 1);
  } else if (G_IS_PARAM_SPEC_DOUBLE(spec)) {
    const GParamSpecDouble* d = G_PARAM_SPEC_DOUBLE(spec);
    g_value_set_double(value, d->minimum + (d->maximum - d->minimum) / 4);
  } else if (G_IS_PARAM_SPEC_ENUM(spec)) {
    const GParamSpecEnum* e = G_PARAM_SPEC_ENUM(spec);
    for (guint i = 0; i < e->enum_class->n_values; ++i) {
      if (e->enum_class->values[i].value != e->default_value) {
        g_value_set_enum(value, e->enum_class->values[i].value);
        break;
      }
    }
  } else {
    ADD_FAILURE() << spec->name << ": a property type this test does not know";
  }
}

TEST_F(FaceQanProperties, EveryPropertyReadsBackWhatWasSet) {
  for (guint i = 0; i < count_; ++i) {
    GParamSpec* spec = specs_[i];
    if (!own(spec)) continue;
    GValue set = G_VALUE_INIT, got = G_VALUE_INIT;
    g_value_init(&set, spec->value_type);
    g_value_init(&got, spec->value_type);
    other_value(spec, &set);
    ASSERT_NE(g_param_values_cmp(spec, &set, g_param_spec_get_default_value(spec)), 0)
        << spec->name;
    g_object_set_property(G_OBJECT(element_), spec->name, &set);
    g_object_get_property(G_OBJECT(element_), spec->name, &got);
    EXPECT_EQ(g_param_values_cmp(spec, &set, &got), 0)
        << spec->name << ": set " << gst_value_serialize(&set) << ", read "
        << gst_value_serialize(&got);
    g_value_unset(&set);
    g_value_unset(&got);
  }
}

TEST_F(FaceQanProperties, AnEmptyDeviceMeansTheDefault) {
  g_object_set(element_, "device", "", nullptr);
  gchar* device = nullptr;
  g_object_get(element_, "device", &device, nullptr);
  EXPECT_STREQ(device, "auto");
  g_free(device);
}

// batch-size starts at 0, auto (the scorer's choice for its device, resolved at start), and
// precision offers auto (bf16 only with native bfloat16) while fp32 stays the default.
TEST_F(FaceQanProperties, BatchSizeDefaultsToAutoAndPrecisionOffersAuto) {
  guint batch_size = 99;
  g_object_get(element_, "batch-size", &batch_size, nullptr);
  EXPECT_EQ(batch_size, 0u);
  GParamSpec* batch = g_object_class_find_property(G_OBJECT_GET_CLASS(element_), "batch-size");
  ASSERT_NE(batch, nullptr);
  EXPECT_NE(std::string(g_param_spec_get_blurb(batch)).find("0: auto"), std::string::npos);
  GParamSpec* precision = g_object_class_find_property(G_OBJECT_GET_CLASS(element_), "precision");
  ASSERT_NE(precision, nullptr);
  GEnumClass* values = G_PARAM_SPEC_ENUM(precision)->enum_class;
  ASSERT_NE(g_enum_get_value_by_nick(values, "auto"), nullptr);
  EXPECT_STREQ(g_enum_get_value(values, G_PARAM_SPEC_ENUM(precision)->default_value)->value_nick, "fp32");
  gst_util_set_object_arg(G_OBJECT(element_), "precision", "auto");
  gint chosen = -1;
  g_object_get(element_, "precision", &chosen, nullptr);
  EXPECT_EQ(chosen, g_enum_get_value_by_nick(values, "auto")->value);
}

}  // namespace
}  // namespace faceqan::test
