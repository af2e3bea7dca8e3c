// The GObject enum types of the faceqan element's enum properties (overload, precision, mode,
// scoring), registered once per process.
#pragma once

#include <glib-object.h>

namespace faceqan::gst {

GType overload_enum_type();
GType precision_enum_type();
GType mode_enum_type();
GType scoring_enum_type();

}  // namespace faceqan::gst
