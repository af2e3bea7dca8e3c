// The faceqan element: FaceQAN face image quality on live video (see gstfaceqan.cpp).
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_FACEQAN (gst_faceqan_get_type())
G_DECLARE_FINAL_TYPE(GstFaceQan, gst_faceqan, GST, FACEQAN, GstElement)

GST_ELEMENT_REGISTER_DECLARE(faceqan);

G_END_DECLS
