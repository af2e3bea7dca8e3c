// The faceqan element's input, on the sink pad's chain thread: a frame's faces found (detector,
// reused detections or upstream regions), tracked, aligned and chosen for scoring, and the frame
// queued with them. The first step of a frame's path; the src pad task (element_output.h) takes
// it from the queue. Private to the element (gstfaceqan.cpp).
#pragma once

#include <gst/gst.h>

#include "element_settings.h"
#include "element_state.h"

namespace faceqan::gst {

// Handles one buffer (owned) on the chain thread: queues it with its faces, or drops it when
// the queue is full with overload=drop. Returns the flow return for upstream.
GstFlowReturn process_frame(GstElement* element, State& st, const Settings& s,
                            GstBuffer* buffer);

}  // namespace faceqan::gst
