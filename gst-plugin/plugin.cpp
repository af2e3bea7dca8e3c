// The plugin: registers the faceqan and faceqanpublish elements. MIT licensed (see LICENSE).
#include <gst/gst.h>

#include "gstfaceqan.h"
#include "gstfaceqanpublish.h"

#ifndef PACKAGE
#define PACKAGE "faceqan-gst"
#endif
#ifndef FACEQAN_VERSION
#define FACEQAN_VERSION "0.0.0"
#endif

static gboolean plugin_init(GstPlugin* plugin) {
  return GST_ELEMENT_REGISTER(faceqan, plugin) && GST_ELEMENT_REGISTER(faceqanpublish, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, faceqan,
                  "FaceQAN face image quality assessment for video", plugin_init, FACEQAN_VERSION,
                  "MIT/X11", "faceqan-gst", "faceqan-gst")
