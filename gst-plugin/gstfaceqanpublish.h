// The faceqanpublish element: sends what faceqan attached to an MQTT broker or a file (see
// gstfaceqanpublish.cpp).
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_FACEQAN_PUBLISH (gst_faceqan_publish_get_type())
G_DECLARE_FINAL_TYPE(GstFaceQanPublish, gst_faceqan_publish, GST, FACEQAN_PUBLISH,
                     GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE(faceqanpublish);

G_END_DECLS
